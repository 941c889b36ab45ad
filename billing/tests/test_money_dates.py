"""Money is dated today at the latest (issue 16, item 3): a confirmed payment and a manual
ledger entry cannot be dated after today in the business's time zone; a pending payment may
be post-dated, like a cheque, and is confirmed on or after its date."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from billing import services
from billing.models import Payment, PaymentMethod, PaymentStatus
from ledger.models import LedgerEntry
from otb.operations import DomainError
from tests.api import token_client
from tests.factories import ClientFactory, issued

pytestmark = pytest.mark.django_db
D = Decimal
TODAY = datetime.date(2026, 12, 2)
TOMORROW = TODAY + datetime.timedelta(days=1)


@pytest.fixture(autouse=True)
def evening_in_toronto():
    # 23:30 on 2 December in Toronto is already 3 December in UTC: "today" is the business's.
    with time_machine.travel(datetime.datetime(2026, 12, 3, 4, 30, tzinfo=datetime.UTC)):
        yield


def record(invoice, day, *, confirmed):
    return services.record_payment(
        invoice=invoice,
        amount=D("10.00"),
        date=day,
        method=PaymentMethod.CHEQUE,
        acting_user=None,
        confirmed=confirmed,
    )


def test_a_confirmed_payment_dated_tomorrow_is_refused(business):
    invoice = issued()
    with pytest.raises(DomainError) as refusal:
        record(invoice, TOMORROW, confirmed=True)
    assert refusal.value.field == "date"
    assert "cannot be dated after today" in refusal.value.message
    assert not Payment.objects.exists()
    # Today in Toronto is fine, though UTC is a day ahead.
    assert record(invoice, TODAY, confirmed=True).status == PaymentStatus.CONFIRMED


def test_a_post_dated_cheque_waits_pending_until_its_date(business):
    payment = record(issued(), datetime.date(2026, 12, 15), confirmed=False)
    with pytest.raises(DomainError, match="can be confirmed on that day, not before"):
        services.confirm_payment(payment=payment, acting_user=None)
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING
    assert not LedgerEntry.objects.filter(payment=payment).exists()
    with time_machine.travel(datetime.datetime(2026, 12, 15, 14, 0, tzinfo=datetime.UTC)):
        services.confirm_payment(payment=payment, acting_user=None)
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CONFIRMED


@pytest.mark.parametrize("post", [services.post_manual_credit, services.post_manual_debit])
def test_a_manual_entry_dated_after_today_is_refused(business, post):
    client = ClientFactory()
    with pytest.raises(DomainError) as refusal:
        post(client=client, amount="5.00", memo="Later", acting_user=None, date="2099-12-31")
    assert refusal.value.field == "date"
    assert "cannot be dated after today" in refusal.value.message
    assert not LedgerEntry.objects.exists()
    post(client=client, amount="5.00", memo="Today", acting_user=None, date=TODAY)


def test_the_payment_page_names_the_date(client, bookkeeper, business):
    invoice = issued()
    client.force_login(bookkeeper)
    data = {
        "client": "",
        "invoice": invoice.number,
        "amount": "10.00",
        "date": "2099-12-31",
        "method": "cheque",
        "confirmed": "on",
    }
    response = client.post(reverse("payments:create"), data)
    assert response.status_code == 200
    assert "cannot be dated after today" in " ".join(response.context["form"].errors["date"])
    assert not Payment.objects.exists()
    response = client.post(reverse("payments:create"), data | {"confirmed": ""})
    assert response.status_code == 302
    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.PENDING
    response = client.post(reverse("payments:confirm", args=[payment.pk]), follow=True)
    assert "can be confirmed on that day, not before" in response.content.decode()
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING


def test_the_ledger_page_names_the_date(client, bookkeeper, business):
    acme = ClientFactory(code="ACME")
    client.force_login(bookkeeper)
    data = {"kind": "manual_credit", "amount": "5.00", "memo": "Later", "date": "2099-12-31"}
    response = client.post(reverse("clients:ledger", args=[acme.code]), data)
    assert response.status_code == 200
    assert "cannot be dated after today" in " ".join(response.context["form"].errors["date"])
    assert not LedgerEntry.objects.exists()


def test_the_api_names_the_date(bookkeeper, business):
    invoice = issued(client=ClientFactory(code="ACME"))
    api = token_client(bookkeeper)
    body = {
        "invoice": invoice.number,
        "amount": "10.00",
        "date": "2099-12-31",
        "method": "cash",
        "confirmed": True,
    }
    response = api.post("/api/v1/payments/", body, format="json")
    assert response.status_code == 400
    assert "date" in response.json()["errors"], response.json()
    response = api.post("/api/v1/payments/", body | {"confirmed": False}, format="json")
    assert response.status_code == 201, response.json()
    response = api.post(f"/api/v1/payments/{response.json()['id']}/confirm/", {}, format="json")
    assert response.status_code in (400, 409), response.json()
    assert "not before" in str(response.json())
    response = api.post(
        "/api/v1/clients/ACME/ledger/",
        {"kind": "credit", "amount": "5.00", "memo": "Later", "date": "2099-12-31"},
        format="json",
    )
    assert response.status_code == 400
    assert "date" in response.json()["errors"], response.json()
    assert not LedgerEntry.objects.filter(kind="manual_credit").exists()
