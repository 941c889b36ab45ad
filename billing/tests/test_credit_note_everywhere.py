"""One GST + QST invoice and its partial credit note: the same per-tax base, amount and
registration number on the page, the PDF, the e-mail, the API, the statement and the tax
report, and the same balance in the outstanding report (issue 17). Every figure below is
worked out by hand from SPEC.md."""

import datetime
import re
from decimal import Decimal

import pytest
import time_machine

from billing import services
from billing.pdf import credit_note_pdf, invoice_pdf, load_credit_note
from outbox import services as outbox
from reports import selectors as reports
from tests.api import token_client
from tests.factories import GST_NO, QST_NO, issued, line, quebec_client
from tests.pdf import pdf_text

pytestmark = pytest.mark.django_db
D = Decimal
MARCH, APRIL = datetime.date(2026, 3, 2), datetime.date(2026, 4, 6)

# The invoice: 10 h × 85.00 and 250.00 less 10 %, then 5 % off the invoice: subtotal
# 1,075.00, discount 53.75, both taxes on 1,021.25: GST 51.0625 -> 51.06, QST 101.8696875
# -> 101.87; total 1,174.18.
INVOICE_TAXES = [
    ("GST", "5", GST_NO, "1,021.25", "51.06"),
    ("QST", "9.975", QST_NO, "1,021.25", "101.87"),
]
# Its credit note for 2 of the 10 hours: 170.00, the invoice discount in proportion
# round(53.75 × 170 / 1,075 = 8.5) = 8.50, both taxes on 161.50: GST 8.075 -> 8.08, QST
# 16.109625 -> 16.11; total 185.69.
CREDIT_TAXES = [
    ("GST", "5", GST_NO, "161.50", "8.08"),
    ("QST", "9.975", QST_NO, "161.50", "16.11"),
]


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def shows_every_tax(text: str, taxes) -> None:
    text = flat(text)
    for label, rate, number, base, amount in taxes:
        assert f"{label} {rate} %" in text
        assert f"{label} no. {number}" in text
        assert f"{base} CAD" in text
        assert f"{amount} CAD" in text


@pytest.fixture
def books(business, bookkeeper):
    with time_machine.travel(datetime.datetime(2026, 4, 6, 16, tzinfo=datetime.UTC)):
        invoice = issued(
            client=quebec_client(),
            lines=[
                line("10", "85.00", description="Shelving"),
                line("1", "250.00", description="Benches", discount_percent=D("10")),
            ],
            discount_kind="percent",
            discount_value=D("5"),
            issue_date=MARCH,
        )
        note = services.create_credit_note(
            invoice=invoice,
            acting_user=None,
            kind="lines",
            lines=[services.CreditLineData(invoice_line=invoice.lines.get(position=1), quantity=2)],
        )
        note = services.issue_credit_note(credit_note=note, acting_user=None, issue_date=APRIL)
    return invoice, note


def test_the_invoice_and_its_credit_note_show_the_same_taxes_everywhere(
    books, client, bookkeeper, smtp, django_capture_on_commit_callbacks
):
    invoice, note = books
    assert (invoice.total, note.total) == (D("1174.18"), D("185.69"))
    client.force_login(bookkeeper)

    # The pages and the PDFs.
    shows_every_tax(client.get(invoice.get_absolute_url()).content.decode(), INVOICE_TAXES)
    shows_every_tax(client.get(note.get_absolute_url()).content.decode(), CREDIT_TAXES)
    shows_every_tax(pdf_text(invoice_pdf(invoice)), INVOICE_TAXES)
    shows_every_tax(pdf_text(credit_note_pdf(load_credit_note(pk=note.pk))), CREDIT_TAXES)

    # The e-mails, and the PDFs attached to them.
    with django_capture_on_commit_callbacks(execute=True):
        outbox.send_invoice(
            invoice=invoice,
            acting_user=bookkeeper,
            base_url="http://testserver/",
            **outbox.invoice_message_defaults(invoice),
        )
        outbox.send_credit_note(
            credit_note=note,
            acting_user=bookkeeper,
            base_url="http://testserver/",
            **outbox.credit_note_message_defaults(note),
        )
    invoice_mail, note_mail = smtp.received
    for received, taxes in ((invoice_mail, INVOICE_TAXES), (note_mail, CREDIT_TAXES)):
        shows_every_tax(received.text(), taxes)
        [(_name, attached)] = received.attachments()
        shows_every_tax(pdf_text(attached), taxes)

    # The API.
    api = token_client(bookkeeper)
    for url, taxes in (
        (f"/api/v1/invoices/{invoice.number}/", INVOICE_TAXES),
        (f"/api/v1/credit-notes/{note.pk}/", CREDIT_TAXES),
    ):
        shown = api.get(url).json()["taxes"]
        assert [(t["label"], t["number"], t["base"], t["amount"]) for t in shown] == [
            (label, number, base.replace(",", ""), amount)
            for label, _r, number, base, amount in taxes
        ]

    # The statement: each document's entry with its taxes; page and PDF.
    statement = client.get(
        "/reports/statement/", {"client": "LAURIER", "start": "2026-03-01", "end": "2026-04-30"}
    )
    page = statement.content.decode()
    shows_every_tax(page, INVOICE_TAXES)
    shows_every_tax(page, CREDIT_TAXES)
    pdf = client.get(
        "/reports/statement/",
        {"client": "LAURIER", "start": "2026-03-01", "end": "2026-04-30", "format": "pdf"},
    )
    shows_every_tax(pdf_text(pdf.content), CREDIT_TAXES)

    # The tax report: charged in March, credited (negative) in April, per tax and number.
    rows = reports.tax_report(MARCH, APRIL, period="month")
    assert [(r["start"].month, r["label"], r["number"], r["base"], r["amount"]) for r in rows] == [
        (3, "GST", GST_NO, D("1021.25"), D("51.06")),
        (3, "QST", QST_NO, D("1021.25"), D("101.87")),
        (4, "GST", GST_NO, D("-161.50"), D("-8.08")),
        (4, "QST", QST_NO, D("-161.50"), D("-16.11")),
    ]

    # The outstanding report: the whole invoice open in March, less the credit note from
    # its own date on.
    assert reports.outstanding_totals(datetime.date(2026, 4, 5)) == {"CAD": D("1174.18")}
    assert reports.outstanding_totals(APRIL) == {"CAD": D("988.49")}
    page = client.get("/reports/outstanding/", {"as_of": APRIL}).content.decode()
    assert "988.49 CAD" in page
