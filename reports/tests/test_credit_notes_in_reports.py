"""Credit notes and refunds in the reports (SPEC: Credit notes, Payments): a credit note is a
negative in revenue and tax in the period of its own issue date, per tax with its
registration number; the outstanding report and the statement count it from that date; a
refund is money given back. Every figure by hand.

The book: a Quebec client (GST 5 %, QST 9.975 %) invoiced on 10 March 2026 for 10 h of
shelving at 85.00 (GST and QST) and 200.00 of plywood (GST only): subtotal 1,050.00; GST on
1,050.00 = 52.50; QST on 850.00 = 84.7875 -> 84.79; total 1,187.29, due 9 April. 300.00 paid
on 20 March. Credit note CN-0001 on 15 April for 2 h of shelving: 170.00; GST on 170.00 =
8.50; QST 16.9575 -> 16.96; total 195.46. The balance due is then 1,187.29 − 300.00 −
195.46 = 691.83; 750.00 paid on 1 May leaves 58.17 of credit, refunded by cheque on 10 May.
"""

import csv
import datetime
import io
from decimal import Decimal

import pytest
import time_machine
from django.template.loader import render_to_string
from django.urls import NoReverseMatch

from billing import services
from billing.models import CreditKind
from billing.selectors import clients_breaking_invariant
from billing.services import CreditLineData
from ledger.events import EntryKind
from reports import selectors
from tests.factories import (
    GST_NO,
    QST_NO,
    ClientFactory,
    ServiceFactory,
    issued,
    line,
    pay,
    quebec_client,
)
from tests.pdf import pdf_text

pytestmark = pytest.mark.django_db

D = Decimal
ZERO = D("0.00")
day = datetime.date
TODAY = day(2026, 5, 20)
Q1, Q2 = day(2026, 1, 1), day(2026, 4, 1)


@pytest.fixture(autouse=True)
def clock():
    # Noon in Toronto, the business's time zone.
    with time_machine.travel(
        datetime.datetime(2026, 5, 20, 16, 0, tzinfo=datetime.UTC), tick=False
    ):
        yield


@pytest.fixture
def office(client, bookkeeper):
    client.force_login(bookkeeper)
    return client


@pytest.fixture
def book(business):
    laurier = quebec_client()
    shelving = ServiceFactory(code="SHELF", name="Shelving", unit_price=D("85.00"))
    invoice = issued(
        client=laurier,
        lines=[
            services.LineData(service=shelving, quantity=D("10")),
            line("1", "200.00", description="Plywood", taxes=["GST"]),
        ],
        issue_date=day(2026, 3, 10),
        due_date=day(2026, 4, 9),
    )
    assert (invoice.subtotal, invoice.tax_total, invoice.total) == (
        D("1050.00"),
        D("137.29"),
        D("1187.29"),
    )
    pay(invoice, "300.00", when=day(2026, 3, 20))
    draft = services.create_credit_note(
        invoice=invoice,
        acting_user=None,
        kind=CreditKind.LINES,
        lines=[CreditLineData(invoice_line=invoice.lines.get(service=shelving), quantity="2")],
        reason="Two hours too many",
    )
    note = services.issue_credit_note(
        credit_note=draft, acting_user=None, issue_date=day(2026, 4, 15)
    )
    assert (note.number, note.subtotal, note.tax_total, note.total) == (
        "CN-0001",
        D("170.00"),
        D("25.46"),
        D("195.46"),
    )
    pay(invoice, "750.00", when=day(2026, 5, 1))
    refund = services.record_refund(
        client=laurier,
        amount="58.17",
        date=day(2026, 5, 10),
        method="cheque",
        reference="CHQ 204",
        acting_user=None,
    )
    assert clients_breaking_invariant() == []
    return {"client": laurier, "invoice": invoice, "note": note, "refund": refund}


def read_csv(response) -> list[dict]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


# --- Revenue ------------------------------------------------------------------------------
def test_revenue_counts_the_credit_note_as_a_negative_in_the_month_it_was_issued(book):
    periods = selectors.revenue(day(2026, 3, 1), day(2026, 5, 31), period="month", today=TODAY)

    assert [
        (
            p.start,
            p.invoiced,
            p.tax,
            p.invoice_count,
            p.credited,
            p.credit_note_count,
            p.collected,
            p.outstanding,
        )
        for p in periods
    ] == [
        # March: the invoice; 300.00 paid; 1,187.29 − 300.00 open at its end.
        (day(2026, 3, 1), D("1187.29"), D("137.29"), 1, D("0.00"), 0, D("300.00"), D("887.29")),
        # April: the credit note, 195.46 of which 8.50 + 16.96 = 25.46 tax.
        (day(2026, 4, 1), D("-195.46"), D("-25.46"), 0, D("-195.46"), 1, D("0.00"), D("691.83")),
        # May: 750.00 in, 58.17 refunded; nothing open today.
        (day(2026, 5, 1), D("0.00"), D("0.00"), 0, D("0.00"), 0, D("691.83"), D("0.00")),
    ]


def test_a_quarter_holds_the_invoice_and_its_credit_note_net(book):
    [q1, q2] = selectors.revenue(day(2026, 1, 1), day(2026, 6, 30), period="quarter", today=TODAY)

    assert (q1.invoiced, q1.tax, q1.credited) == (D("1187.29"), D("137.29"), D("0.00"))
    assert (q2.invoiced, q2.tax, q2.credited) == (D("-195.46"), D("-25.46"), D("-195.46"))


def test_top_clients_and_services_are_net_of_credit_notes(book):
    [top] = selectors.top_clients(day(2026, 3, 1), day(2026, 5, 31))["CAD"]
    assert (top["client__code"], top["invoiced"], top["credited"], top["count"]) == (
        "LAURIER",
        D("991.83"),  # 1,187.29 − 195.46
        D("-195.46"),
        1,
    )
    services_ = selectors.by_service(day(2026, 3, 1), day(2026, 5, 31))["CAD"]
    assert [(row["service__code"], row["amount"], row["credited"]) for row in services_] == [
        ("SHELF", D("680.00"), D("-170.00")),  # 850.00 − 2 h of 85.00
        (None, D("200.00"), D("0.00")),  # the plywood, without a service
    ]


def test_a_range_holding_only_the_credit_note_shows_it_alone_and_negative(book):
    april = (day(2026, 4, 1), day(2026, 4, 30))

    [top] = selectors.top_clients(*april)["CAD"]
    assert (top["client__code"], top["invoiced"], top["count"]) == ("LAURIER", D("-195.46"), 0)
    [shelving] = selectors.by_service(*april)["CAD"]
    assert (shelving["service__code"], shelving["amount"], shelving["lines"]) == (
        "SHELF",
        D("-170.00"),
        0,
    )


def test_a_credit_of_an_amount_is_a_line_without_a_service(book):
    """100.00 gross of what remains (991.83, of which 52.50 − 8.50 = 44.00 GST and
    84.79 − 16.96 = 67.83 QST): the credit note's one line is its subtotal, under no
    service."""
    draft = services.create_credit_note(
        invoice=book["invoice"], acting_user=None, kind=CreditKind.AMOUNT, amount="100.00"
    )
    note = services.issue_credit_note(credit_note=draft, acting_user=None)
    [free_line] = note.lines.all()
    assert free_line.invoice_line_id is None and free_line.amount == note.subtotal

    rows = selectors.by_service(day(2026, 5, 1), day(2026, 5, 31))["CAD"]
    assert [(row["service__code"], row["amount"]) for row in rows] == [(None, -note.subtotal)]
    [may] = selectors.revenue(day(2026, 5, 1), day(2026, 5, 31), period="month", today=TODAY)
    assert (may.invoiced, may.credited, may.credit_note_count) == (D("-100.00"), D("-100.00"), 1)


def test_the_revenue_page_and_csv_show_the_credit_note(office, book):
    query = "/reports/revenue/?start=2026-03-01&end=2026-05-31"
    page = office.get(query).content.decode()
    table = page.split('class="table table-sm align-middle bg-body revenue-table"')[1]
    assert "Credit notes" in table
    assert "-195.46 CAD" in table and "-25.46 CAD" in table and "1 credit note" in table
    assert "991.83 CAD" in table  # invoiced over the range, net

    rows = read_csv(office.get(query + "&format=csv"))
    got = {
        row["period_start"]: (
            D(row["invoiced"]),
            D(row["tax"]),
            int(row["invoices"]),
            D(row["credited"]),
            int(row["credit_notes"]),
            D(row["collected"]),
            D(row["outstanding_at_end"]),
        )
        for row in rows
    }
    assert got == {
        "2026-03-01": (D("1187.29"), D("137.29"), 1, D("0"), 0, D("300.00"), D("887.29")),
        "2026-04-01": (D("-195.46"), D("-25.46"), 0, D("-195.46"), 1, D("0"), D("691.83")),
        "2026-05-01": (D("0"), D("0"), 0, D("0"), 0, D("691.83"), D("0")),
    }


# --- Tax ----------------------------------------------------------------------------------
def test_the_tax_report_subtracts_each_tax_of_the_credit_note_in_its_quarter(book):
    rows = selectors.tax_report(day(2026, 1, 1), day(2026, 6, 30), period="quarter")

    assert [(r["start"], r["label"], r["rate"], r["number"]) for r in rows] == [
        (Q1, "GST", D("5"), GST_NO),
        (Q1, "QST", D("9.975"), QST_NO),
        (Q2, "GST", D("5"), GST_NO),
        (Q2, "QST", D("9.975"), QST_NO),
    ]
    # base, charged on invoices, credited, to file; invoices and credit notes
    assert [
        (r["base"], r["charged"], r["credited"], r["amount"], r["invoices"], r["credit_notes"])
        for r in rows
    ] == [
        (D("1050.00"), D("52.50"), ZERO, D("52.50"), 1, 0),
        (D("850.00"), D("84.79"), ZERO, D("84.79"), 1, 0),
        (D("-170.00"), ZERO, D("-8.50"), D("-8.50"), 0, 1),
        (D("-170.00"), ZERO, D("-16.96"), D("-16.96"), 0, 1),
    ]
    assert [r["credited_base"] for r in rows] == [ZERO, ZERO, D("-170.00"), D("-170.00")]


def test_a_quarter_with_the_invoice_and_its_credit_note_files_the_net_tax(business):
    """Both in one quarter: GST 52.50 − 8.50 = 44.00 on 1,050.00 − 170.00 = 880.00; QST
    84.79 − 16.96 = 67.83 on 850.00 − 170.00 = 680.00."""
    invoice = issued(
        client=quebec_client(),
        lines=[line("10", "85.00"), line("1", "200.00", taxes=["GST"])],
        issue_date=day(2026, 4, 2),
    )
    shelving = invoice.lines.get(unit_price=D("85.00"))
    draft = services.create_credit_note(
        invoice=invoice,
        acting_user=None,
        kind=CreditKind.LINES,
        lines=[CreditLineData(invoice_line=shelving, quantity="2")],
    )
    services.issue_credit_note(credit_note=draft, acting_user=None, issue_date=day(2026, 5, 1))

    rows = selectors.tax_report(day(2026, 4, 1), day(2026, 6, 30), period="quarter")
    assert [(r["label"], r["number"], r["base"], r["amount"]) for r in rows] == [
        ("GST", GST_NO, D("880.00"), D("44.00")),
        ("QST", QST_NO, D("680.00"), D("67.83")),
    ]


def test_the_tax_page_and_csv_give_the_net_figure_to_file(office, book):
    query = "/reports/tax/?start=2026-01-01&end=2026-06-30&period=quarter"
    page = office.get(query).content.decode()
    assert "Tax to file" in page
    assert f"no. {QST_NO}" in page and "-16.96 CAD" in page and "-170.00 CAD" in page

    rows = read_csv(office.get(query + "&format=csv"))
    assert [(r["period_start"], r["tax"], r["registration_number"]) for r in rows] == [
        ("2026-01-01", "GST", GST_NO),
        ("2026-01-01", "QST", QST_NO),
        ("2026-04-01", "GST", GST_NO),
        ("2026-04-01", "QST", QST_NO),
    ]
    figures = ("taxable_base", "tax_charged", "credited_base", "credited_tax")
    assert [
        [D(r[name]) for name in figures] + [r["invoices"], r["credit_notes"]] for r in rows
    ] == [
        [D("1050.00"), D("52.50"), ZERO, ZERO, "1", "0"],
        [D("850.00"), D("84.79"), ZERO, ZERO, "1", "0"],
        [D("-170.00"), D("-8.50"), D("-170.00"), D("-8.50"), "0", "1"],
        [D("-170.00"), D("-16.96"), D("-170.00"), D("-16.96"), "0", "1"],
    ]


def test_a_credit_note_of_an_untaxed_sale_is_taken_off_the_untaxed_sales(business):
    """A client abroad: 100.00 invoiced in March without tax, 40.00 of it credited in
    April (the credit note copies the invoice's tax basis)."""
    business.tax_local_clients_only = True
    business.save()
    invoice = issued(
        client=ClientFactory(country="US"),
        lines=[line("1", "100.00")],
        issue_date=day(2026, 3, 2),
    )
    draft = services.create_credit_note(
        invoice=invoice, acting_user=None, kind=CreditKind.AMOUNT, amount="40.00"
    )
    services.issue_credit_note(credit_note=draft, acting_user=None, issue_date=day(2026, 4, 2))

    rows = selectors.untaxed_sales(day(2026, 1, 1), day(2026, 6, 30), period="quarter")
    assert [
        (r["start"], r["basis"], r["amount"], r["credited"], r["invoices"], r["credit_notes"])
        for r in rows
    ] == [
        (day(2026, 1, 1), "foreign", D("100.00"), D("0"), 1, 0),
        (day(2026, 4, 1), "foreign", D("-40.00"), D("-40.00"), 0, 1),
    ]
    assert selectors.tax_report(day(2026, 1, 1), day(2026, 6, 30)) == []


# --- Outstanding --------------------------------------------------------------------------
def test_the_outstanding_report_counts_the_credit_note_from_its_date(office, book):
    # The day before: 1,187.29 − 300.00, five days past due.
    [before] = selectors.aging(day(2026, 4, 14)).rows
    assert (before.code, before.buckets["days_1_30"], before.total) == (
        "LAURIER",
        D("887.29"),
        D("887.29"),
    )
    # From the day of the credit note: 887.29 − 195.46.
    [after] = selectors.aging(day(2026, 4, 15)).rows
    assert (after.buckets["days_1_30"], after.total) == (D("691.83"), D("691.83"))
    # Paid up on 1 May; the refund leaves nothing open.
    assert selectors.aging(TODAY).rows == []

    [row] = read_csv(office.get("/reports/outstanding/?as_of=2026-04-14&format=csv"))
    assert (D(row["total"]), D(row["ledger_balance"])) == (D("887.29"), D("-887.29"))
    [row] = read_csv(office.get("/reports/outstanding/?as_of=2026-04-15&format=csv"))
    assert (D(row["total"]), D(row["ledger_balance"])) == (D("691.83"), D("-691.83"))


# --- Statement ----------------------------------------------------------------------------
def _credit_note_link(book) -> str:
    """The credit note's page, or its invoice's while the credit note pages are not there."""
    try:
        return book["note"].get_absolute_url()
    except NoReverseMatch:
        return book["invoice"].get_absolute_url()


def test_the_statement_shows_the_credit_note_and_the_refund(office, book, business):
    report = selectors.statement(book["client"], day(2026, 3, 1), TODAY)
    assert [(e.date, e.kind, e.amount, e.running) for e in report.entries] == [
        (day(2026, 3, 10), EntryKind.INVOICE_ISSUED, D("-1187.29"), D("-1187.29")),
        (day(2026, 3, 20), EntryKind.PAYMENT_CONFIRMED, D("300.00"), D("-887.29")),
        (day(2026, 4, 15), EntryKind.CREDIT_NOTE_ISSUED, D("195.46"), D("-691.83")),
        (day(2026, 5, 1), EntryKind.PAYMENT_CONFIRMED, D("750.00"), D("58.17")),
        (day(2026, 5, 10), EntryKind.REFUND_PAID, D("-58.17"), D("0.00")),
    ]
    assert report.closing == D("0.00") and report.open_invoices == []

    query = "/reports/statement/?client=LAURIER&start=2026-03-01&end=2026-05-20"
    page = office.get(query).content.decode()
    memo = f"Credit note CN-0001 for invoice {book['invoice'].number}"
    assert memo in page
    assert f'<a href="{_credit_note_link(book)}">CN-0001</a>' in page
    assert "Refund: Cheque CHQ 204" in page

    rows = read_csv(office.get(query + "&format=csv"))
    [credit_row] = [row for row in rows if row["entry"] == "credit_note_issued"]
    assert (credit_row["invoice"], credit_row["credit_note"], credit_row["memo"]) == (
        book["invoice"].number,
        "CN-0001",
        memo,
    )
    assert D(credit_row["amount"]) == D("195.46") and D(credit_row["balance"]) == D("-691.83")
    [refund_row] = [row for row in rows if row["entry"] == "refund_paid"]
    assert D(refund_row["amount"]) == D("-58.17")

    text = pdf_text(office.get(query + "&format=pdf").content)
    assert "Credit note issued CN-0001" in text and "195.46 CAD" in text
    # The PDF goes to the client: no links to the office's pages.
    assert "<a href" not in render_to_string(
        "reports/statement_pdf.html", {"report": report, "business": business}
    )


# --- Refunds ------------------------------------------------------------------------------
def test_a_refund_is_money_given_back_on_its_date(book):
    [refund_day] = selectors.revenue(
        day(2026, 5, 10), day(2026, 5, 10), period="month", today=TODAY
    )
    assert refund_day.collected == D("-58.17")

    services.reverse_refund(refund=book["refund"], reason="Cheque never cashed", acting_user=None)
    [may] = selectors.revenue(day(2026, 5, 1), day(2026, 5, 31), period="month", today=TODAY)
    # Reversed today (20 May): the 58.17 counts as received again.
    assert may.collected == D("750.00")
