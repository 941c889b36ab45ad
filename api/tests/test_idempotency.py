import pytest

from api.models import IdempotentRequest
from billing.models import Invoice, Payment
from tests.factories import ClientFactory, issued

pytestmark = pytest.mark.django_db

DRAFT = {
    "client": "ACME",
    "lines": [{"description": "Work", "quantity": "1", "unit_price": "100.00"}],
}


@pytest.fixture
def acme(business):
    return ClientFactory(code="ACME")


def test_the_same_key_and_body_return_the_first_answer_and_create_one_invoice(api, acme):
    first = api.post("/api/v1/invoices/", DRAFT, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = api.post("/api/v1/invoices/", DRAFT, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Invoice.objects.count() == 1


def test_the_same_key_with_another_body_is_a_409(api, acme):
    api.post("/api/v1/invoices/", DRAFT, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    other = DRAFT | {"notes": "different"}
    response = api.post("/api/v1/invoices/", other, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_reused"
    assert Invoice.objects.count() == 1


def test_a_payment_sent_twice_with_one_key_counts_once(api, acme):
    invoice = issued(client=acme)
    body = {"invoice": invoice.number, "amount": "10.00", "date": "2026-01-01", "method": "cash"}
    for _ in range(2):
        response = api.post("/api/v1/payments/", body, format="json", HTTP_IDEMPOTENCY_KEY="p")
        assert response.status_code == 201
    assert Payment.objects.count() == 1
    invoice.refresh_from_db()
    assert str(invoice.amount_paid) == "10.00"


def test_a_refused_request_keeps_no_key_so_it_can_be_sent_again(api, acme):
    bad = DRAFT | {"client": "NOBODY"}
    response = api.post("/api/v1/invoices/", bad, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert response.status_code == 400
    assert not IdempotentRequest.objects.exists()
    response = api.post("/api/v1/invoices/", DRAFT, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert response.status_code == 201


def test_keys_belong_to_their_user(api, admin_api, acme):
    api.post("/api/v1/invoices/", DRAFT, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    admin_api.post("/api/v1/invoices/", DRAFT, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    assert Invoice.objects.count() == 2


def test_an_overlong_key_is_a_400(api, acme):
    response = api.post("/api/v1/invoices/", DRAFT, format="json", HTTP_IDEMPOTENCY_KEY="x" * 300)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["errors"]


def test_without_a_key_each_request_creates(api, acme):
    api.post("/api/v1/invoices/", DRAFT, format="json")
    api.post("/api/v1/invoices/", DRAFT, format="json")
    assert Invoice.objects.count() == 2
