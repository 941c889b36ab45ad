"""Credit notes and refunds in the back office: made and issued through the same
operations, refusals shown on the form, issued ones never changed or deleted."""

from decimal import Decimal

import pytest
from django.urls import reverse

from billing import services
from billing.models import CreditNote, CreditNoteStatus, InvoiceStatus, Refund
from settings_app.selectors import business_today
from tests.factories import issued, line, pay, quebec_client

pytestmark = pytest.mark.django_db
D = Decimal
ADD = "admin:billing_creditnote_add"


@pytest.fixture
def office(client, bookkeeper, business):
    client.force_login(bookkeeper)
    return client


@pytest.fixture
def invoice(business):
    return issued(
        client=quebec_client(),
        lines=[line("10", "85.00", description="Shelving"), line("1", "250.00")],
    )


def add(office, invoice, **fields):
    data = {"invoice": invoice.pk, "kind": "full", "amount": "", "quantities": "", "reason": ""}
    return office.post(reverse(ADD), {**data, **fields})


def test_a_credit_note_is_made_for_quantities_and_issued_in_the_back_office(office, invoice):
    response = add(office, invoice, kind="lines", quantities="1: 2\n", reason="Two hours")
    assert response.status_code == 302
    note = CreditNote.objects.get()
    # 2 × 85.00 = 170.00, GST 8.50 and QST 16.96.
    assert (note.status, note.total, note.reason) == (
        CreditNoteStatus.DRAFT,
        D("195.46"),
        "Two hours",
    )

    issue = reverse("admin:billing_creditnote_issue", args=[note.pk])
    assert office.get(issue).status_code == 200
    office.post(issue, {"issue_date": business_today()})
    note.refresh_from_db()
    assert note.number == "CN-0001"
    page = office.get(reverse("admin:billing_creditnote_change", args=[note.pk]))
    assert "CN-0001" in page.content.decode()
    # An issued credit note has no delete.
    delete = reverse("admin:billing_creditnote_delete", args=[note.pk])
    assert office.post(delete, {"post": "yes"}).status_code == 403
    assert CreditNote.objects.filter(pk=note.pk).exists()


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"kind": "lines", "quantities": "first: 2"}, "position: quantity"),
        ({"kind": "lines", "quantities": "9: 2"}, "not a line of invoice"),
        ({"kind": "lines", "quantities": "1: 11"}, "at most 10 of"),
        ({"kind": "amount", "amount": "1e3"}, "Amount to credit"),
        ({"kind": "amount", "amount": "99999.00"}, "has left to credit"),
    ],
)
def test_a_refusal_is_shown_on_the_back_office_form(office, invoice, fields, expected):
    response = add(office, invoice, **fields)
    assert response.status_code == 200
    assert expected in response.content.decode()
    assert not CreditNote.objects.exists()


def test_a_draft_is_deleted_through_the_operation(office, invoice):
    add(office, invoice, kind="amount", amount="10.00")
    note = CreditNote.objects.get()
    delete = reverse("admin:billing_creditnote_delete", args=[note.pk])
    office.post(delete, {"post": "yes"})
    assert not CreditNote.objects.exists()
    assert invoice.client.ledger_entries.count() == 1  # the invoice's only


def test_a_refund_is_recorded_and_reversed_in_the_back_office(office, invoice):
    pay(invoice, str(invoice.total))
    services.issue_credit_note(
        credit_note=services.create_credit_note(
            invoice=invoice, acting_user=None, kind="amount", amount="50.00"
        ),
        acting_user=None,
    )
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    data = {
        "client": invoice.client.pk,
        "amount": "60.00",
        "date": business_today(),
        "method": "cheque",
        "reference": "",
        "note": "",
    }
    refused = office.post(reverse("admin:billing_refund_add"), data)
    assert "50.00 CAD of credit available" in refused.content.decode()
    office.post(reverse("admin:billing_refund_add"), {**data, "amount": "50.00"})
    refund = Refund.objects.get()
    office.post(
        reverse("admin:billing_refund_reverse", args=[refund.pk]), {"reason": "Never cashed"}
    )
    refund.refresh_from_db()
    assert refund.is_reversed
