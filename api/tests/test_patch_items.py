"""A PATCH changes only the fields it sends, but an item of a list it sends is whole: DRF
passes a PATCH's partial down to nested items, so an item without a required field reached
the operation and failed with a 500 (the API fuzzer, on a credit note line)."""

import pytest

from billing.models import Client, CreditNote, Service
from tests.factories import ClientFactory, ServiceFactory, issued, line

pytestmark = pytest.mark.django_db


def test_a_credit_note_line_without_its_invoice_line_is_refused_by_name(api, business):
    invoice = issued(lines=[line("10", "85.00")])
    draft = api.post(
        "/api/v1/credit-notes/", {"invoice": invoice.number, "kind": "full"}, format="json"
    ).json()
    response = api.patch(
        f"/api/v1/credit-notes/{draft['id']}/",
        {"kind": "lines", "lines": [{"quantity": "1"}]},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert list(response.json()["errors"]) == ["lines.0.invoice_line"]
    assert CreditNote.objects.get().kind == "full"  # nothing changed


def test_a_service_price_without_its_currency_is_refused_by_name(api, business):
    ServiceFactory(code="DESIGN", unit_price="120")
    response = api.patch(
        "/api/v1/services/DESIGN/",
        {"name": "Changed", "prices": [{"unit_price": "95"}]},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert list(response.json()["errors"]) == ["prices.0.currency"]
    assert Service.objects.get().name != "Changed"


def test_a_contact_without_its_email_is_refused_by_name(api, business):
    ClientFactory(code="ACME", name="Acme")
    response = api.patch(
        "/api/v1/clients/ACME/",
        {"name": "Changed", "contacts": [{"name": "Accounts"}]},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert list(response.json()["errors"]) == ["contacts.0.email"]
    assert Client.objects.get().name == "Acme"
