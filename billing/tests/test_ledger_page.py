"""The client ledger page: entries oldest first with a running balance computed over the
whole ledger, and the form for a manual credit or debit."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from billing.services import post_manual_credit, post_manual_debit
from billing.views.ledger import ENTRIES_PER_PAGE
from ledger.models import EntryKind, LedgerEntry
from ledger.selectors import client_balance
from tests.factories import ClientFactory, issued, pay

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def office(client, bookkeeper, business):
    client.force_login(bookkeeper)
    return client


@pytest.fixture
def reader(client, viewer, business):
    client.force_login(viewer)
    return client


@pytest.fixture
def acme(db):
    return ClientFactory(code="ACME")


def ledger_url(client):
    return reverse("clients:ledger", args=[client.code])


def add_entries(client, count, start=datetime.date(2024, 1, 1)):
    """Alternating credits and debits of varying amounts, a few on the same day."""
    for n in range(count):
        post = post_manual_credit if n % 3 else post_manual_debit
        post(
            client=client,
            amount=D(n % 7 + 1) + D("0.25"),
            memo=f"entry {n}",
            acting_user=None,
            date=start + datetime.timedelta(days=n // 2),
        )


@pytest.mark.parametrize("who", ["office", "reader"])
def test_page_renders_for_bookkeeper_and_viewer(request, who, acme):
    browser = request.getfixturevalue(who)
    invoice = issued(client=acme)
    pay(invoice, "13.00")
    response = browser.get(ledger_url(acme))
    assert response.status_code == 200
    html = response.content.decode()
    assert invoice.get_absolute_url() in html
    assert "-113.00 CAD" in html
    assert "-100.00 CAD" in html  # the running balance after the payment
    has_form = 'name="memo"' in html
    assert has_form is (who == "office")


def test_unknown_client_is_404(office):
    assert office.get(reverse("clients:ledger", args=["NOPE"])).status_code == 404


def test_amounts_and_balances_are_coloured(office, acme):
    post_manual_credit(client=acme, amount=D("5.00"), memo="a", acting_user=None)
    post_manual_debit(client=acme, amount=D("5.00"), memo="b", acting_user=None)
    post_manual_debit(client=acme, amount=D("2.00"), memo="c", acting_user=None)
    html = office.get(ledger_url(acme)).content.decode()
    assert 'running-balance text-success">5.00 CAD' in html
    assert 'running-balance text-secondary">0.00 CAD' in html
    assert 'running-balance text-danger">-2.00 CAD' in html
    assert 'amount text-danger">-5.00 CAD' in html


def test_running_balance_continues_across_pages(office, acme):
    add_entries(acme, ENTRIES_PER_PAGE + 30)
    expected, running = [], D("0.00")
    for entry in LedgerEntry.objects.filter(client=acme).order_by("date", "id"):
        running += entry.amount
        expected.append((entry.pk, running))

    first = list(office.get(ledger_url(acme), {"page": 1}).context["page"].object_list)
    second = list(office.get(ledger_url(acme), {"page": 2}).context["page"].object_list)
    assert len(first) == ENTRIES_PER_PAGE
    shown = [(e.pk, e.running_balance) for e in [*first, *second]]
    assert shown == expected
    assert second[0].running_balance == first[-1].running_balance + second[0].amount
    assert shown[-1][1] == client_balance(acme)


def test_page_opens_on_the_newest_entries(office, acme):
    add_entries(acme, ENTRIES_PER_PAGE + 5)
    page = office.get(ledger_url(acme)).context["page"]
    assert page.number == 2
    assert list(page.object_list)[-1].running_balance == client_balance(acme)


@pytest.mark.parametrize("count", [10, 300])
def test_query_count_does_not_grow_with_entries(office, acme, django_assert_max_num_queries, count):
    invoice = issued(client=acme)
    pay(invoice, "1.00")
    add_entries(acme, count)
    # The page's ids, then its rows (see ledger.views.ledger_page), and the sum of the
    # entries before it: its opening balance; the client's currencies (its tabs).
    with django_assert_max_num_queries(14):  # 1: the business's time zone
        assert office.get(ledger_url(acme)).status_code == 200


# --- Manual entries -----------------------------------------------------------------------
def entry_data(**overrides):
    data = {"kind": EntryKind.MANUAL_CREDIT, "amount": "25.50", "memo": "Goodwill", "date": ""}
    data.update(overrides)
    return data


def test_bookkeeper_posts_a_manual_credit(office, acme):
    response = office.post(ledger_url(acme), entry_data(date="2024-03-01"))
    assert response.status_code == 302
    entry = LedgerEntry.objects.get(client=acme)
    assert (entry.kind, entry.amount, entry.memo) == (
        EntryKind.MANUAL_CREDIT,
        D("25.50"),
        "Goodwill",
    )
    assert entry.date == datetime.date(2024, 3, 1)
    assert client_balance(acme) == D("25.50")


def test_bookkeeper_posts_a_manual_debit(office, acme, bookkeeper):
    office.post(ledger_url(acme), entry_data(kind=EntryKind.MANUAL_DEBIT, amount="10"))
    entry = LedgerEntry.objects.get(client=acme)
    assert (entry.kind, entry.amount, entry.created_by) == (
        EntryKind.MANUAL_DEBIT,
        D("-10.00"),
        bookkeeper,
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("amount", "0", "more than 0"),
        ("amount", "-5", "more than 0"),
        ("amount", "1.005", "at most 2 decimal places"),
        ("amount", "abc", "not a number"),
        ("amount", "1e5", "Amount: “1e5” is not a number"),
        ("amount", "", "required"),
        ("memo", "", "required"),
        ("memo", "   ", "required"),
        ("kind", "invoice_issued", "not one of the available choices"),
        ("date", "2024-13-45", "valid date"),
    ],
)
def test_bad_input_is_shown_and_nothing_is_posted(office, acme, field, value, message):
    response = office.post(ledger_url(acme), entry_data(**{field: value}))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert not LedgerEntry.objects.exists()


def test_viewer_cannot_post(reader, acme):
    assert reader.post(ledger_url(acme), entry_data()).status_code == 403
    assert not LedgerEntry.objects.exists()
