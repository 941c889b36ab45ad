"""The credit note pages (SPEC: Credit notes): made from the invoice's page, its page, print
and PDF from the invoice's template (CREDIT NOTE, naming the invoice), issued, e-mailed
through the outbox, shown on the invoice and the client; refunds from the client's page;
the "lock invoices once issued" mode offering a credit note instead of Cancel or Edit."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from billing import services
from billing.models import CreditKind, CreditNote, CreditNoteStatus, InvoiceStatus, Refund
from outbox.models import Message, MessageKind
from settings_app.selectors import business_today
from tests.factories import GST_NO, QST_NO, issued, line, pay, quebec_client
from tests.pdf import pdf_text

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def office(client, bookkeeper, business):
    client.force_login(bookkeeper)
    return client


@pytest.fixture
def invoice(business):
    """GST + QST on 10 h × 85.00 and 250.00 less 10 %: subtotal 1,075.00; GST 53.75 and
    QST 107.23 (9.975 % of 1,075.00 = 107.23125); total 1,235.98."""
    return issued(
        client=quebec_client(),
        lines=[
            line("10", "85.00", description="Shelving"),
            line("1", "250.00", description="Benches", discount_percent=D("10")),
        ],
    )


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def credit_url(invoice):
    return reverse("invoices:credit", args=[invoice.pk])


def test_the_invoice_page_offers_a_credit_note_and_the_form_makes_a_draft(office, invoice):
    page = text(office.get(invoice.get_absolute_url()))
    assert credit_url(invoice) in page
    form = text(office.get(credit_url(invoice)))
    assert "Shelving" in form and "at most 10 h left to credit" not in form  # no unit given
    assert "at most 10 left to credit" in form

    shelving = invoice.lines.get(description="Shelving")
    response = office.post(
        credit_url(invoice),
        {"kind": "lines", f"line_{shelving.pk}": "2", "reason": "Two hours not worked"},
    )
    note = CreditNote.objects.get()
    assert response.status_code == 302 and response["Location"] == note.get_absolute_url()
    # 2 × 85.00 = 170.00; GST 8.50, QST 16.9575 -> 16.96: 195.46.
    assert (note.status, note.total) == (CreditNoteStatus.DRAFT, D("195.46"))


def test_the_credit_note_page_is_the_document_titled_credit_note_naming_the_invoice(
    office, invoice
):
    shelving = invoice.lines.get(description="Shelving")
    note = services.create_credit_note(
        invoice=invoice,
        acting_user=None,
        kind=CreditKind.LINES,
        lines=[services.CreditLineData(invoice_line=shelving, quantity="2")],
        reason="Two hours not worked",
    )
    note = services.issue_credit_note(credit_note=note, acting_user=None)

    page = text(office.get(note.get_absolute_url()))
    assert "Credit note" in page and "CN-0001" in page
    assert f"{invoice.number} of {_long(invoice.issue_date)}" in page
    assert "Two hours not worked" in page
    # 170.00: GST 8.50 and QST 16.96 (16.9575), each with its number: 195.46.
    for expected in ("GST 5 %", GST_NO, "QST 9.975 %", QST_NO, "8.50 CAD", "16.96 CAD"):
        assert expected in page
    assert "195.46 CAD" in page

    pdf = office.get(reverse("credit_notes:pdf", args=[note.pk]))
    assert pdf["Content-Type"] == "application/pdf"
    assert 'filename="CN-0001.pdf"' in pdf["Content-Disposition"]
    read = re.sub(r"\s+", " ", pdf_text(pdf.content))
    assert "CREDIT NOTE" in read
    assert "CN-0001" in read and invoice.number in read
    for expected in (GST_NO, QST_NO, "8.50 CAD", "16.96 CAD", "195.46 CAD"):
        assert expected in read
    assert "Balance due" not in read

    invoice_page = text(office.get(invoice.get_absolute_url()))
    assert note.get_absolute_url() in invoice_page
    assert re.search(
        r'class="doc-credited"><th scope="row">Credited</th><td>−195.46 CAD', invoice_page
    )


def _long(day):
    from django.utils import formats

    return formats.date_format(day)


def test_the_figures_in_the_draft_page_are_the_ones_issuing_posts(office, invoice):
    note = services.create_credit_note(
        invoice=invoice, acting_user=None, kind=CreditKind.AMOUNT, amount="100.00"
    )
    assert "Draft credit note" in text(office.get(note.get_absolute_url()))

    response = office.post(
        reverse("credit_notes:issue", args=[note.pk]), {"issue_date": business_today()}
    )
    assert response.status_code == 302
    note.refresh_from_db()
    assert note.number == "CN-0001"
    invoice.refresh_from_db()
    assert invoice.balance_due == invoice.total - D("100.00")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"kind": "amount", "amount": "1e3"}, "Amount to credit"),
        ({"kind": "amount", "amount": "5000.00"}, "has left to credit (1,235.98 CAD)"),
        ({"kind": "amount", "amount": ""}, "Amount to credit"),
        ({"kind": "lines", "line": "11"}, "at most 10 of “Shelving” is left to credit"),
        ({"kind": "lines", "line": "-1"}, "Shelving"),
        ({"kind": "lines"}, "give a quantity to credit for at least one line"),
        ({"kind": "whole"}, "Credit"),
    ],
)
def test_bad_input_on_the_form_is_said_beside_its_field(office, invoice, data, expected):
    shelving = invoice.lines.get(description="Shelving")
    if "line" in data:
        data[f"line_{shelving.pk}"] = data.pop("line")
    response = office.post(credit_url(invoice), data)
    assert response.status_code == 200
    assert expected in text(response)
    assert not CreditNote.objects.exists()


def test_a_draft_is_edited_and_deleted_from_its_page(office, invoice):
    note = services.create_credit_note(invoice=invoice, acting_user=None)
    edit = reverse("credit_notes:edit", args=[note.pk])
    assert office.get(edit).status_code == 200
    office.post(edit, {"kind": "amount", "amount": "10.00", "reason": "Goodwill"})
    note.refresh_from_db()
    assert (note.kind, note.total, note.reason) == (CreditKind.AMOUNT, D("10.00"), "Goodwill")

    office.post(reverse("credit_notes:delete", args=[note.pk]))
    assert not CreditNote.objects.exists()


# Transactional, as in production: the delivery runs when the view's transaction commits.
@pytest.mark.django_db(transaction=True)
def test_an_issued_credit_note_is_sent_through_the_outbox(migration_rows, office, invoice, smtp):
    note = services.create_credit_note(invoice=invoice, acting_user=None)
    note = services.issue_credit_note(credit_note=note, acting_user=None)
    send = reverse("credit_notes:send", args=[note.pk])
    form = office.get(send).context["form"]
    assert form.initial["to"] == "comptes@laurier.example.com"
    assert "CN-0001" in form.initial["subject"]
    assert GST_NO in form.initial["body"]

    response = office.post(send, {**form.initial})
    assert response.status_code == 302
    message = Message.objects.get()
    assert (message.kind, message.invoice_id) == (MessageKind.CREDIT_NOTE, invoice.pk)
    (received,) = smtp.received
    (name, content), *_ = received.attachments()
    assert name == "CN-0001.pdf"
    assert "CREDIT NOTE" in pdf_text(content)
    assert "CN-0001" in received.text()


def test_in_the_lock_mode_an_issued_invoice_offers_a_credit_note_not_cancel_or_edit(
    office, invoice, business
):
    page = text(office.get(invoice.get_absolute_url()))
    assert reverse("invoices:cancel", args=[invoice.pk]) in page  # the default mode

    business.lock_issued_invoices = True
    business.save()
    page = text(office.get(invoice.get_absolute_url()))
    assert credit_url(invoice) in page
    assert reverse("invoices:cancel", args=[invoice.pk]) not in page
    assert reverse("invoices:edit", args=[invoice.pk]) not in page


def test_a_fully_credited_invoice_offers_no_more_credit(office, invoice):
    note = services.create_credit_note(invoice=invoice, acting_user=None)
    services.issue_credit_note(credit_note=note, acting_user=None)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.CREDITED
    page = text(office.get(invoice.get_absolute_url()))
    assert credit_url(invoice) not in page
    assert "Credited" in page
    response = office.get(credit_url(invoice), follow=True)
    assert "credited in full" in text(response)


def test_a_viewer_cannot_make_a_credit_note(client, viewer, invoice):
    client.force_login(viewer)
    assert credit_url(invoice) not in text(client.get(invoice.get_absolute_url()))
    assert client.get(credit_url(invoice)).status_code == 403
    assert client.post(credit_url(invoice), {"kind": "full"}).status_code == 403


def test_credit_is_paid_back_from_the_client_page(office, invoice):
    pay(invoice, str(invoice.total))
    note = services.create_credit_note(
        invoice=invoice, acting_user=None, kind=CreditKind.AMOUNT, amount="100.00"
    )
    services.issue_credit_note(credit_note=note, acting_user=None)
    client_page = text(office.get(invoice.client.get_absolute_url()))
    refund_url = reverse("clients:refund", args=[invoice.client.code])
    assert refund_url in client_page and "CN-0001" in client_page

    too_much = office.post(
        refund_url, {"amount": "100.01", "date": business_today(), "method": "cheque"}
    )
    assert "100.00 CAD of credit available" in text(too_much)
    office.post(
        refund_url,
        {"amount": "100.00", "date": business_today(), "method": "cheque", "reference": "118"},
    )
    refund = Refund.objects.get()
    assert refund.amount == D("100.00")
    office.post(reverse("refunds:reverse", args=[refund.pk]), {"reason": "Never cashed"})
    refund.refresh_from_db()
    assert refund.is_reversed
