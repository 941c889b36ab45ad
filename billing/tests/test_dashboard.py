"""The dashboard's figures, checked against sums computed here from the rows themselves, on a
small book with an overdue, a partial and a cancelled invoice, a reversed payment and a
second currency; and with a credit note and a refund this month."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from billing import services
from billing.models import (
    CreditKind,
    CreditNote,
    CreditNoteStatus,
    Invoice,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
)
from billing.selectors import dashboard_figures
from tests.factories import ClientFactory, issued, pay

pytestmark = pytest.mark.django_db
D = Decimal
TODAY = datetime.date(2024, 5, 15)


@pytest.fixture(autouse=True)
def frozen():
    # Noon in Toronto, the business's time zone.
    with time_machine.travel(datetime.datetime(2024, 5, 15, 16, 0, tzinfo=datetime.UTC)):
        yield


@pytest.fixture
def office(client, bookkeeper, business):
    client.force_login(bookkeeper)
    return client


@pytest.fixture
def reader(client, viewer, business):
    client.force_login(viewer)
    return client


@pytest.fixture
def book(business):
    day = datetime.date
    cad = ClientFactory(code="CADCO")
    usd = ClientFactory(code="USDCO", country="US", default_currency="USD")
    partial = issued(client=cad, issue_date=day(2024, 5, 2), due_date=day(2024, 6, 1))
    pay(partial, "50.00", when=day(2024, 5, 10))
    # Past due; the daily command has not marked it overdue yet.
    overdue = issued(client=cad, issue_date=day(2024, 3, 1), due_date=day(2024, 3, 31))
    marked = issued(client=cad, issue_date=day(2024, 3, 2), due_date=day(2024, 4, 1))
    services.refresh_overdue(today=day(2024, 4, 15))
    cancelled = issued(client=cad, issue_date=day(2024, 5, 3))
    services.cancel_invoice(invoice=cancelled, acting_user=None, reason="Wrong client")
    bounced = issued(client=cad, issue_date=day(2024, 5, 4), due_date=day(2024, 6, 3))
    cheque = pay(bounced, "20.00", when=day(2024, 5, 5), method=PaymentMethod.CHEQUE)
    services.reverse_payment(payment=cheque, reason="Bounced", acting_user=None)
    paid_last_month = issued(client=cad, issue_date=day(2024, 4, 20))
    pay(paid_last_month, "113.00", when=day(2024, 4, 25))
    in_usd = issued(client=usd, issue_date=day(2024, 5, 6), due_date=day(2024, 6, 5))
    pay(in_usd, "40.00", when=day(2024, 5, 7))
    services.record_payment(
        client=usd, amount=D("7.00"), date=day(2024, 5, 8), method="cash", acting_user=None
    )
    services.create_draft(client=cad, acting_user=None, lines=[])
    return {"partial": partial, "overdue": overdue, "marked": marked, "cancelled": cancelled}


def expected(currency):
    """The figures computed in Python from every row, by the rules of the spec."""
    invoices = [i for i in Invoice.objects.all() if i.currency == currency]
    shown = {i.pk: services.derive_status(i, today=TODAY) for i in invoices}
    issued_ = [i for i in invoices if shown[i.pk] not in ("draft", "cancelled")]
    this_month = [
        p
        for p in Payment.objects.select_related("client")
        if p.client.default_currency == currency
        and p.status == PaymentStatus.CONFIRMED
        and (p.date.year, p.date.month) == (TODAY.year, TODAY.month)
    ]
    overdue = [i for i in issued_ if shown[i.pk] == "overdue"]
    credited = sum(
        (
            n.total
            for n in CreditNote.objects.filter(currency=currency, status=CreditNoteStatus.ISSUED)
            if (n.issue_date.year, n.issue_date.month) == (TODAY.year, TODAY.month)
        ),
        D("0.00"),
    )
    refunded = sum(
        (
            r.amount
            for r in Refund.objects.filter(currency=currency, reversed_at=None)
            if (r.date.year, r.date.month) == (TODAY.year, TODAY.month)
        ),
        D("0.00"),
    )
    return {
        "outstanding": sum((i.balance_due for i in issued_ if i.balance_due > 0), D("0.00")),
        "overdue": sum((i.balance_due for i in overdue), D("0.00")),
        "overdue_count": len(overdue),
        "invoiced_this_month": sum(
            (i.total for i in issued_ if i.issue_date.month == TODAY.month), D("0.00")
        )
        - credited,
        "credited_this_month": -credited,
        "collected_this_month": sum((p.amount for p in this_month), D("0.00")) - refunded,
    }


def test_figures_equal_the_sums_of_the_rows(book):
    figures = dashboard_figures(today=TODAY, default_currency="CAD")
    assert [row.currency for row in figures.per_currency] == ["CAD", "USD"]
    for row in figures.per_currency:
        want = expected(row.currency)
        got = {name: getattr(row, name) for name in want}
        assert got == want, row.currency


def test_figures_by_hand(book):
    cad, usd = dashboard_figures(today=TODAY, default_currency="CAD").per_currency
    # partial 63 + overdue 113 + marked 113 + bounced 113
    assert cad.outstanding == D("402.00")
    assert (cad.overdue, cad.overdue_count) == (D("226.00"), 2)
    # partial + bounced; the cancelled one does not count
    assert cad.invoiced_this_month == D("226.00")
    # the partial payment only: the cheque was reversed, April's payment is last month
    assert cad.collected_this_month == D("50.00")
    assert (usd.outstanding, usd.invoiced_this_month, usd.collected_this_month) == (
        D("73.00"),
        D("113.00"),
        D("47.00"),
    )


@pytest.fixture
def credited_book(book):
    """``book``, and this month: the ``marked`` invoice of March (113.00, unpaid) credited
    in full, and 5.00 of the USD client's 7.00 of credit refunded."""
    note = services.create_credit_note(
        invoice=book["marked"], acting_user=None, kind=CreditKind.FULL
    )
    services.issue_credit_note(credit_note=note, acting_user=None)
    usd = Invoice.objects.get(currency="USD").client
    services.record_refund(
        client=usd, amount="5.00", date=TODAY, method=PaymentMethod.CHEQUE, acting_user=None
    )
    return book


def test_figures_with_a_credit_note_and_a_refund_equal_the_sums_of_the_rows(credited_book):
    figures = dashboard_figures(today=TODAY, default_currency="CAD")
    for row in figures.per_currency:
        want = expected(row.currency)
        got = {name: getattr(row, name) for name in want}
        assert got == want, row.currency


def test_a_credit_note_this_month_is_taken_off_invoiced_this_month(credited_book):
    cad, usd = dashboard_figures(today=TODAY, default_currency="CAD").per_currency
    # partial 113 + bounced 113, less the credit note of 113 on a March invoice
    assert (cad.invoiced_this_month, cad.credited_this_month) == (D("113.00"), D("-113.00"))
    # 402 less the marked invoice, credited in full: no longer open nor overdue
    assert cad.outstanding == D("289.00")
    assert (cad.overdue, cad.overdue_count) == (D("113.00"), 1)
    assert cad.collected_this_month == D("50.00")
    # 40 + 7 received, 5 given back
    assert (usd.invoiced_this_month, usd.credited_this_month) == (D("113.00"), D("0.00"))
    assert usd.collected_this_month == D("42.00")


def test_a_month_of_credit_notes_alone_is_invoiced_below_zero(business):
    march = issued(client=ClientFactory(), issue_date=datetime.date(2024, 3, 1))
    note = services.create_credit_note(
        invoice=march, acting_user=None, kind=CreditKind.AMOUNT, amount="40.00"
    )
    services.issue_credit_note(credit_note=note, acting_user=None)

    (cad,) = dashboard_figures(today=TODAY, default_currency="CAD").per_currency
    assert (cad.invoiced_this_month, cad.credited_this_month) == (D("-40.00"), D("-40.00"))
    assert cad.outstanding == D("73.00")


def test_a_cancellation_counts_in_the_month_it_was_made_as_a_negative(business):
    """SPEC: Exports and imports. April's invoice cancelled in May is taken off May's
    invoiced, as the revenue report counts it; one issued and cancelled in May nets to 0."""
    april = issued(client=ClientFactory(), issue_date=datetime.date(2024, 4, 10))
    may = issued(client=ClientFactory(), issue_date=datetime.date(2024, 5, 2))
    for invoice in (april, may):
        services.cancel_invoice(invoice=invoice, acting_user=None, reason="Wrong client")

    (cad,) = dashboard_figures(today=TODAY, default_currency="CAD").per_currency
    assert (cad.invoiced_this_month, cad.invoiced_in_base) == (D("-113.00"), D("-113.00"))
    assert cad.outstanding == D("0.00")


def test_the_page_says_what_credit_notes_took_off_invoiced(office, credited_book):
    html = office.get(reverse("home")).content.decode()
    cad = html.split('data-currency="CAD"')[1].split('data-currency="USD"')[0]
    assert "113.00 CAD" in cad.split("figure-invoiced")[1]
    assert "net of 113.00 CAD in credit notes" in cad
    assert "figure-credited" not in html.split('data-currency="USD"')[1]


def test_default_currency_is_shown_even_without_activity(business):
    (row,) = dashboard_figures(today=TODAY, default_currency="CAD").per_currency
    assert (row.currency, row.outstanding, row.overdue_count) == ("CAD", D("0.00"), 0)


@pytest.mark.parametrize("who", ["office", "reader"])
def test_page_renders_with_links_for_bookkeeper_and_viewer(request, who, book):
    browser = request.getfixturevalue(who)
    response = browser.get(reverse("home"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "402.00 CAD" in html
    assert "226.00 CAD" in html
    assert "73.00 USD" in html
    assert book["partial"].get_absolute_url() in html
    assert "status-overdue" in html
    account_payment = Payment.objects.get(invoice=None)
    assert account_payment.client.get_absolute_url() in html


def test_page_on_an_empty_book(office):
    assert office.get(reverse("home")).status_code == 200


@pytest.mark.parametrize("books", ["book", "credited_book"])
def test_page_query_count_is_bounded(request, office, books, django_assert_max_num_queries):
    request.getfixturevalue(books)
    # The latest invoices' and payments' clients and invoices come by prefetch (3 queries),
    # not joined: see billing.views.invoices.invoice_list. One more: e-mail needing attention.
    # The credit notes come in the query of the invoices (UNION ALL). One more: the open
    # invoices in other currencies, each valued in the base currency. One more: the quotes
    # awaiting an answer (quotes_tags.quotes_awaiting).
    with django_assert_max_num_queries(18):  # 1: the business's time zone
        office.get(reverse("home"))
