"""A pending payment can be corrected (issue 16, item 10): its date, method, reference,
note and amount, with the change in its history; a confirmed one is reversed and entered
again."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from audit.models import AuditRecord
from billing import services
from billing.models import PaymentMethod, PaymentStatus
from ledger.models import LedgerEntry
from otb.operations import DomainError
from tests.api import token_client
from tests.factories import ClientFactory, issued, pay

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def pending(business):
    return pay(issued(client=ClientFactory(code="ACME")), "10.00", confirmed=False)


def test_a_pending_payment_is_corrected_and_its_history_kept(pending, bookkeeper):
    services.update_payment(
        payment=pending,
        acting_user=bookkeeper,
        amount="12.50",
        date=datetime.date(2026, 1, 5),
        method=PaymentMethod.CHEQUE,
        reference="Cheque 104",
        note="Typed 10 by mistake",
    )
    pending.refresh_from_db()
    assert (pending.amount, pending.date, pending.method, pending.reference) == (
        D("12.50"),
        datetime.date(2026, 1, 5),
        PaymentMethod.CHEQUE,
        "Cheque 104",
    )
    assert pending.status == PaymentStatus.PENDING
    assert not LedgerEntry.objects.filter(payment=pending).exists()  # still counts for nothing
    record = AuditRecord.objects.get(operation__endswith="update_payment", action="changed")
    assert record.before["amount"] == "10.00" and record.after["amount"] == "12.50"
    assert record.after["reference"] == "Cheque 104"
    assert record.actor == bookkeeper


def test_a_confirmed_payment_is_not_corrected(business):
    payment = pay(issued(client=ClientFactory(code="ACME")), "10.00")
    with pytest.raises(DomainError, match="reverse it and record it again"):
        services.update_payment(payment=payment, acting_user=None, amount="12.00")
    payment.refresh_from_db()
    assert payment.amount == D("10.00")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"amount": "0"}, "amount"),
        ({"amount": "1e3"}, "amount"),
        ({"method": "bitcoin"}, "method"),
        ({"date": "someday"}, "date"),
        ({"reference": "a\nb"}, "reference"),
    ],
)
def test_bad_corrections_name_the_field_and_change_nothing(pending, fields, field):
    with pytest.raises(DomainError) as refusal:
        services.update_payment(payment=pending, acting_user=None, **fields)
    assert refusal.value.field == field
    pending.refresh_from_db()
    assert pending.amount == D("10.00")


def test_the_page_corrects_a_pending_payment(client, bookkeeper, pending):
    client.force_login(bookkeeper)
    url = reverse("payments:edit", args=[pending.pk])
    page = client.get(url).content.decode()
    assert 'value="10.00"' in page
    data = {"amount": "1e3", "date": "2026-01-05", "method": "cheque", "reference": "", "note": ""}
    response = client.post(url, data)
    assert "Amount: “1e3” is not a number" in response.content.decode()
    response = client.post(url, data | {"amount": "11.00"})
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.amount == D("11.00")
    invoice_page = client.get(pending.invoice.get_absolute_url()).content.decode()
    assert url in invoice_page  # the pending payment's "Correct" button


def test_the_page_of_a_confirmed_payment_says_what_to_do(client, bookkeeper, business):
    payment = pay(issued(client=ClientFactory(code="ACME")), "10.00")
    client.force_login(bookkeeper)
    response = client.get(reverse("payments:edit", args=[payment.pk]), follow=True)
    assert "reverse it and record it again" in response.content.decode()


def test_the_api_corrects_a_pending_payment(bookkeeper, pending):
    api = token_client(bookkeeper)
    url = f"/api/v1/payments/{pending.pk}/"
    response = api.patch(url, {"amount": "1e3"}, format="json")
    assert response.status_code == 400 and "amount" in response.json()["errors"]
    response = api.patch(url, {"amount": "15.00", "reference": "EFT 9"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["amount"] == "15.00"
    services.confirm_payment(payment=pending, acting_user=None)
    response = api.patch(url, {"amount": "16.00"}, format="json")
    assert response.status_code == 409, response.json()


def test_the_back_office_corrects_a_pending_payment(client, bookkeeper, pending):
    client.force_login(bookkeeper)
    url = reverse("admin:billing_payment_change", args=[pending.pk])
    data = {
        "amount": "14.00",
        "date": "2026-01-05",
        "method": "cheque",
        "reference": "",
        "note": "",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    pending.refresh_from_db()
    assert pending.amount == D("14.00")
