"""The shapes that keep the lists fast on a million rows (bench/RESULTS.md): pages by
position, filters an index can serve, a stored client balance, estimated back-office counts.
Each must give exactly what the straightforward query gives."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from billing.models import Invoice, InvoiceStatus, Payment
from billing.selectors import clients_breaking_invariant
from ledger.models import Account, LedgerEntry
from ledger.selectors import client_balance, stored_balance
from otb import paging
from otb.paging import CountPaginator, fast_count, keyset_page
from settings_app.selectors import business_today
from tests.factories import ClientFactory, issued, pay

pytestmark = pytest.mark.django_db


@pytest.fixture
def office(client, bookkeeper):
    client.force_login(bookkeeper)
    return client


def invoices_for(count, client=None):
    client = client or ClientFactory()
    return [issued(client=client) for _ in range(count)]


# --- keyset pages -----------------------------------------------------------------------------
def test_walking_older_then_newer_shows_every_invoice_once_in_order(business):
    made = invoices_for(12)
    newest_first = sorted(made, key=lambda i: (i.created_at, i.pk), reverse=True)
    seen, cursor, pages = [], None, []
    while True:
        page = keyset_page(Invoice.objects.all(), keys=("created_at", "id"), size=5, older=cursor)
        pages.append(page)
        seen += [i.pk for i in page]
        if not page.older:
            break
        cursor = page.older
    assert seen == [i.pk for i in newest_first]
    assert [len(p) for p in pages] == [5, 5, 2]
    assert pages[0].newer is None and pages[1].newer is not None
    # Back from the last page: the middle one again, exactly.
    back = keyset_page(
        Invoice.objects.all(), keys=("created_at", "id"), size=5, newer=pages[2].newer
    )
    assert [i.pk for i in back] == [i.pk for i in pages[1]]
    assert back.older == pages[1].older and back.newer == pages[1].newer


@pytest.mark.parametrize("cursor", ["garbage", "2026-13-45T00:00~1", "~", "1~2~3", "x" * 500])
def test_a_cursor_that_is_not_ours_shows_the_first_page(office, business, cursor):
    invoices_for(3)
    for key in ("older", "newer"):
        response = office.get(reverse("invoices:list"), {key: cursor})
        assert response.status_code == 200
        assert len(response.context["page"]) == 3
    response = office.get(reverse("payments:list"), {"older": cursor})
    assert response.status_code == 200


def test_the_list_pages_through_older_invoices_with_links(office, business):
    invoices_for(53)
    first = office.get(reverse("invoices:list"))
    page = first.context["page"]
    assert len(page) == 50 and page.newer is None and page.older
    html = first.content.decode()
    assert "older=" in html and "Newest" not in html
    second = office.get(reverse("invoices:list"), {"older": page.older})
    assert len(second.context["page"]) == 3
    assert "Newest" in second.content.decode()


@pytest.mark.parametrize("count", [3, 60])
def test_a_deep_invoice_page_costs_the_same_queries(
    office, business, django_assert_max_num_queries, count
):
    invoices_for(count)
    older = office.get(reverse("invoices:list")).context["page"].older or ""
    with django_assert_max_num_queries(13):  # 1: the business's time zone
        assert office.get(reverse("invoices:list"), {"older": older}).status_code == 200


def test_payments_page_by_date_then_id(office, business):
    invoice = issued()
    day = business_today()
    made = [pay(invoice, "1.00", when=day - datetime.timedelta(days=n % 3)) for n in range(7)]
    expected = sorted(made, key=lambda p: (p.date, p.pk), reverse=True)
    seen, cursor = [], None
    while True:
        page = keyset_page(Payment.objects.all(), keys=("date", "id"), size=3, older=cursor)
        seen += [p.pk for p in page]
        if not page.older:
            break
        cursor = page.older
    assert seen == [p.pk for p in expected]


# --- filters an index can serve -----------------------------------------------------------------
def test_shown_as_selects_exactly_what_the_shown_status_says(business):
    today = business_today()
    long_ago = today - datetime.timedelta(days=90)
    late = issued(issue_date=long_ago, due_date=long_ago)  # stored pending, shown overdue
    late_partial = issued(issue_date=long_ago, due_date=long_ago)
    pay(late_partial, "1.00")
    current = issued()
    current_partial = issued()
    pay(current_partial, "1.00")
    paid = issued()
    pay(paid, str(paid.total))
    marked = issued(issue_date=long_ago, due_date=long_ago)
    Invoice.objects.filter(pk=marked.pk).update(status=InvoiceStatus.OVERDUE)
    annotated = Invoice.objects.with_shown_status(today=today)
    for status in InvoiceStatus.values:
        expected = set(annotated.filter(shown_status=status).values_list("pk", flat=True))
        assert set(Invoice.objects.shown_as(status, today=today).values_list("pk", flat=True)) == (
            expected
        ), status
    assert {late.pk, late_partial.pk, marked.pk} <= set(
        Invoice.objects.shown_as("overdue", today=today).values_list("pk", flat=True)
    )
    assert {current.pk} == set(
        Invoice.objects.shown_as("pending", today=today).values_list("pk", flat=True)
    )


def test_number_search_finds_by_prefix_and_by_the_number_alone(office, business):
    made = invoices_for(12)
    tenth = made[9]  # INV-0010

    def found(term):
        page = office.get(reverse("invoices:list"), {"q": term}).context["page"]
        return {i.pk for i in page}

    assert found(tenth.number) == {tenth.pk}
    assert found(tenth.number.lower()) == {tenth.pk}
    assert found("10") == {tenth.pk}
    assert found("0010") == {tenth.pk}
    assert found("INV-001") == {i.pk for i in made[9:12]}
    assert found("99999999999999") == set()


def test_payment_search_finds_a_reference_by_its_start(office, business):
    invoice = issued()
    wanted = pay(invoice, "1.00")
    Payment.objects.filter(pk=wanted.pk).update(reference="CHQ-4711")
    pay(invoice, "1.00")
    page = office.get(reverse("payments:list"), {"q": "chq-47"}).context["page"]
    assert [p.pk for p in page] == [wanted.pk]


# --- the stored balance -------------------------------------------------------------------------
def test_the_stored_balance_follows_every_entry(business):
    acme = ClientFactory()
    invoice = issued(client=acme)
    pay(invoice, "30.00")
    assert stored_balance(acme) == client_balance(acme) == Decimal("30.00") - invoice.total
    assert clients_breaking_invariant() == []


def test_saving_a_client_read_before_an_entry_keeps_the_stored_balance(business):
    acme = ClientFactory()
    stale = type(acme).objects.get(pk=acme.pk)
    invoice = issued(client=acme)  # posts an entry: the balance moves in the database
    stale.name = "Renamed"
    stale.save()
    acme.refresh_from_db()
    assert acme.name == "Renamed"
    assert stored_balance(acme) == -invoice.total == client_balance(acme)
    assert clients_breaking_invariant() == []


def test_check_ledger_notices_a_stored_balance_that_drifted(business):
    acme = ClientFactory()
    issued(client=acme)
    Account.objects.filter(client=acme).update(balance=Decimal("1.00"))
    assert [c.pk for c in clients_breaking_invariant()] == [acme.pk]


def test_the_client_list_shows_the_stored_balance(office, business):
    acme = ClientFactory(code="ACME")
    invoice = issued(client=acme)
    page = office.get(reverse("clients:list")).context["page"]
    assert [c.balance for c in page] == [-invoice.total]


# --- counts for the back office -----------------------------------------------------------------
def test_fast_count_is_exact_when_the_rows_are_few(business):
    invoices_for(3)
    assert fast_count(Invoice.objects.all()) == (3, True)
    paginator = CountPaginator(Invoice.objects.order_by("pk"), 2)
    assert paginator.count == 3 and paginator.num_pages == 2 and paginator.count_is_exact


def test_fast_count_estimates_when_the_optimizer_expects_many_rows(business, monkeypatch):
    from django.db import connection

    invoices_for(3)
    monkeypatch.setattr(paging, "EXACT_COUNT_UP_TO", 0)
    count, exact = fast_count(Invoice.objects.all())
    if connection.vendor == "mysql":
        assert exact is False and count >= 0
    else:
        assert (count, exact) == (3, True)


def test_the_back_office_lists_answer_with_estimated_counts(
    client, administrator, business, monkeypatch
):
    monkeypatch.setattr(paging, "EXACT_COUNT_UP_TO", 0)
    client.force_login(administrator)
    invoice = issued()
    pay(invoice, "1.00")
    for url in (
        "/admin/billing/invoice/",
        "/admin/billing/invoice/?status__exact=pending",
        "/admin/billing/payment/",
        "/admin/billing/client/",
        "/admin/ledger/ledgerentry/",
    ):
        assert client.get(url).status_code == 200, url
    assert LedgerEntry.objects.count() == 2
