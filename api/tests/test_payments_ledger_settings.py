import json

import pytest

from billing.models import Payment
from ledger.models import LedgerEntry
from settings_app.selectors import get_business_settings
from tests.factories import ClientFactory, issued, pay

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice(business):
    return issued(client=ClientFactory(code="ACME"))  # total 113.00 with HST


def record(api, **fields):
    body = {
        "invoice": "INV-0001",
        "amount": "10.00",
        "date": "2026-01-01",
        "method": "bank_transfer",
        "confirmed": True,
    }
    return api.post("/api/v1/payments/", body | fields, format="json")


# --- Payments -----------------------------------------------------------------------------


def test_recording_a_confirmed_payment_pays_the_invoice(api, invoice):
    response = record(api)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["invoice"], body["client"], body["amount"], body["status"]) == (
        "INV-0001",
        "ACME",
        "10.00",
        "confirmed",
    )
    invoice = api.get("/api/v1/invoices/INV-0001/").json()
    assert (invoice["amount_paid"], invoice["balance_due"], invoice["status"]) == (
        "10.00",
        "103.00",
        "partial",
    )


def test_a_pending_payment_is_confirmed_then_reversed_with_a_reason(api, invoice):
    payment_id = record(api, confirmed=False).json()["id"]
    assert api.get(f"/api/v1/payments/{payment_id}/").json()["status"] == "pending"
    response = api.post(f"/api/v1/payments/{payment_id}/confirm/", {}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "confirmed"
    response = api.post(f"/api/v1/payments/{payment_id}/reverse/", {}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()["errors"]
    response = api.post(
        f"/api/v1/payments/{payment_id}/reverse/", {"reason": "Bounced"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["reversal_reason"] == "Bounced"


def test_confirming_a_reversed_payment_is_a_409(api, invoice):
    payment = pay(invoice, "10.00", confirmed=False)
    api.post(f"/api/v1/payments/{payment.pk}/reverse/", {"reason": "x"}, format="json")
    response = api.post(f"/api/v1/payments/{payment.pk}/confirm/", {}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"


def test_paying_a_cancelled_invoice_is_a_409(api, invoice):
    api.post("/api/v1/invoices/INV-0001/cancel/", {}, format="json")
    response = record(api)
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"
    assert not Payment.objects.exists()


def test_paying_from_more_credit_than_available_is_a_409(api, invoice):
    response = record(api, method="client_credit")
    assert response.status_code == 409
    assert response.json()["code"] == "credit_insufficient"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"amount": 10.0}, "amount"),
        ({"amount": 10}, "amount"),
        ({"amount": "10.001"}, "amount"),
        ({"amount": "-5.00"}, "amount"),
        ({"amount": "0"}, "amount"),
        ({"amount": "NaN"}, "amount"),
        ({"amount": "1e3"}, "amount"),
        ({"date": "01/02/2026"}, "date"),
        ({"method": "bitcoin"}, "method"),
        ({"invoice": "INV-9999"}, "invoice"),
        ({"invoice": None, "client": "NOBODY"}, "client"),
        ({"invoice": None}, "client"),
    ],
)
def test_bad_payments_are_refused_with_the_field_named(api, invoice, fields, field):
    response = record(api, **fields)
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"], response.json()
    assert not Payment.objects.exists()


def test_a_payment_without_an_invoice_is_credit_on_the_account(api, invoice):
    response = record(api, invoice=None, client="ACME", amount="50.00")
    assert response.status_code == 201
    assert response.json()["invoice"] is None


def test_a_viewer_cannot_record_payments(viewer_api, invoice):
    assert record(viewer_api).status_code == 403


def test_the_payment_list_filters_and_has_bounded_queries(
    api, invoice, django_assert_max_num_queries
):
    for _ in range(5):
        pay(invoice, "1.00")
    pay(invoice, "1.00", confirmed=False)
    with django_assert_max_num_queries(9):  # 1: is the address locked?
        body = api.get("/api/v1/payments/").json()
    assert body["count"] == 6
    assert api.get("/api/v1/payments/?status=pending").json()["count"] == 1
    assert api.get("/api/v1/payments/?invoice=INV-0001&client=acme").json()["count"] == 6
    assert api.get("/api/v1/payments/?date_from=x").status_code == 400
    assert api.get("/api/v1/payments/abc/").status_code == 404


def test_money_is_always_a_string_with_two_decimals(api, invoice):
    pay(invoice, "5")
    for url in ("/api/v1/invoices/INV-0001/", "/api/v1/payments/"):
        text = api.get(url).content.decode()
        assert '"amount_paid":5' not in text and '"amount":5' not in text
    assert api.get("/api/v1/payments/").json()["results"][0]["amount"] == "5.00"


# --- Ledger -------------------------------------------------------------------------------


def test_the_ledger_lists_entries_with_their_running_balance(api, invoice):
    pay(invoice, "13.00")
    response = api.get("/api/v1/clients/ACME/ledger/")
    assert response.status_code == 200
    body = response.json()
    assert [(e["kind"], e["amount"], e["running_balance"]) for e in body["results"]] == [
        ("invoice_issued", "-113.00", "-113.00"),
        ("payment_confirmed", "13.00", "-100.00"),
    ]
    assert body["results"][0]["invoice"] == "INV-0001"
    assert body["balance"] == "-100.00"


def test_posting_manual_credit_and_debit(api, invoice):
    response = api.post(
        "/api/v1/clients/ACME/ledger/",
        {"kind": "credit", "amount": "20.00", "memo": "Goodwill", "date": "2026-01-05"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["amount"] == "20.00"
    response = api.post(
        "/api/v1/clients/ACME/ledger/",
        {"kind": "debit", "amount": "5.00", "memo": "Fee"},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["amount"] == "-5.00"
    assert api.get("/api/v1/clients/ACME/ledger/").json()["balance"] == "-98.00"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"amount": 20.5}, "amount"),
        ({"amount": "1.234"}, "amount"),
        ({"amount": "1e5"}, "amount"),
        ({"kind": "gift"}, "kind"),
        ({"memo": "  "}, "memo"),
        ({"date": "2026-13-01"}, "date"),
    ],
)
def test_bad_manual_entries_are_refused(api, invoice, fields, field):
    body = {"kind": "credit", "amount": "20.00", "memo": "Goodwill"} | fields
    response = api.post("/api/v1/clients/ACME/ledger/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_a_viewer_reads_the_ledger_but_cannot_post(viewer_api, invoice):
    assert viewer_api.get("/api/v1/clients/ACME/ledger/").status_code == 200
    response = viewer_api.post(
        "/api/v1/clients/ACME/ledger/",
        {"kind": "credit", "amount": "1.00", "memo": "x"},
        format="json",
    )
    assert response.status_code == 403
    assert LedgerEntry.objects.count() == 1


def test_the_ledger_of_an_unknown_client_is_404(api, business):
    assert api.get("/api/v1/clients/NOBODY/ledger/").status_code == 404


# --- Settings -----------------------------------------------------------------------------


def test_an_administrator_reads_and_changes_the_settings(admin_api):
    response = admin_api.get("/api/v1/settings/")
    assert response.status_code == 200
    assert response.json()["payment_terms_days"] == 30
    assert "tax_rate" not in response.json()  # the taxes are /api/v1/taxes/
    response = admin_api.patch(
        "/api/v1/settings/", {"business_name": "OTB Inc.", "payment_terms_days": 14}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["payment_terms_days"] == 14
    assert get_business_settings().business_name == "OTB Inc."


def test_the_smtp_password_is_written_but_never_shown(admin_api):
    response = admin_api.patch("/api/v1/settings/", {"smtp_password": "s3cret-pw"}, format="json")
    assert response.status_code == 200
    assert "s3cret-pw" not in response.content.decode()
    assert "smtp_password" not in response.json()
    assert response.json()["smtp_password_set"] is True
    assert get_business_settings().smtp_password == "s3cret-pw"
    assert "s3cret-pw" not in admin_api.get("/api/v1/settings/").content.decode()
    schema = json.dumps(admin_api.get("/api/schema/?format=json").json())
    assert "s3cret-pw" not in schema
    # Leaving it out keeps it; "" clears it.
    admin_api.patch("/api/v1/settings/", {"smtp_host": "mail.test"}, format="json")
    assert get_business_settings().smtp_password == "s3cret-pw"
    admin_api.patch("/api/v1/settings/", {"smtp_password": ""}, format="json")
    assert get_business_settings().smtp_password == ""


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"payment_terms_days": -1}, "payment_terms_days"),
        ({"time_zone": "Mars/Base"}, "time_zone"),
        ({"email": "not-an-email"}, "email"),
        ({"smtp_port": 70000}, "smtp_port"),
    ],
)
def test_bad_settings_are_refused_per_field(admin_api, fields, field):
    response = admin_api.patch("/api/v1/settings/", fields, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_only_administrators_change_the_settings(api, viewer_api):
    assert api.patch("/api/v1/settings/", {"business_name": "X"}, format="json").status_code == 403
    assert viewer_api.get("/api/v1/settings/").status_code == 403
