"""Why an invoice has no tax, the client's tax number, countries by name and ISO 3166
(issue 16, items 14 and 20)."""

import pytest
from django.urls import reverse

from billing import services
from otb.operations import DomainError
from tests.api import token_client
from tests.factories import ClientFactory, issued
from tests.pdf import pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def office(client, bookkeeper, business):
    client.force_login(bookkeeper)
    return client


def invoice_page(office, invoice):
    return office.get(invoice.get_absolute_url()).content.decode()


def test_a_tax_exempt_client_gets_the_reason_not_a_zero_tax(office):
    invoice = issued(client=ClientFactory(code="SCHOOL", country="CA", tax_exempt=True))
    page = invoice_page(office, invoice)
    assert "Tax-exempt" in page
    assert "HST 13" not in page


def test_a_client_abroad_gets_the_reason_and_its_country_by_name(office, business):
    business.tax_local_clients_only = True
    business.save()
    berlin = ClientFactory(code="BERLIN", country="DE", tax_number="DE123456789")
    invoice = issued(client=berlin)
    page = invoice_page(office, invoice)
    assert "No tax: client outside Canada" in page
    assert "HST 13" not in page
    assert "Germany" in page and "DE123456789" in page
    text = pdf_text(office.get(reverse("invoices:pdf", args=[invoice.number])).content)
    assert "No tax: client outside Canada" in text
    assert "Germany" in text and "Tax no. DE123456789" in text
    assert "Germany (DE)" in office.get(berlin.get_absolute_url()).content.decode()


def test_a_taxed_client_still_shows_its_tax(office):
    page = invoice_page(office, issued(client=ClientFactory(code="ACME", country="CA")))
    assert "HST 13 %" in page
    assert "Tax-exempt" not in page and "No tax" not in page


@pytest.mark.parametrize("code", ["ZZ", "XX", "AA", "UK"])
def test_a_country_code_outside_iso_3166_is_refused(business, code):
    with pytest.raises(DomainError) as refusal:
        services.create_client(acting_user=None, code="ACME", name="Acme", country=code)
    assert refusal.value.field == "country"
    assert "ISO 3166" in refusal.value.message


def test_the_pages_and_the_api_refuse_zz(office, bookkeeper):
    data = {"code": "ACME", "name": "Acme", "country": "ZZ", "default_currency": "CAD"}
    response = office.post(reverse("clients:create"), data)
    assert response.status_code == 200
    assert "ISO 3166" in " ".join(response.context["form"].errors["country"])
    api = token_client(bookkeeper)
    response = api.post("/api/v1/clients/", data, format="json")
    assert response.status_code == 400 and "country" in response.json()["errors"]
    response = api.post("/api/v1/clients/", data | {"country": "DE"}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["tax_number"] == ""


def test_the_invoice_email_greets_the_contact_person(business):
    """Issue 16, item 20: "Dear Acme Renovations Ltd." greeted the company."""
    from outbox.services import invoice_message_defaults

    with_person = issued(
        client=ClientFactory(name="Acme Renovations Ltd.", contact_person="Sandra Okafor")
    )
    assert invoice_message_defaults(with_person)["body"].startswith("Dear Sandra Okafor,")
    without = issued(client=ClientFactory(name="Oak Ridge", contact_person=""))
    assert invoice_message_defaults(without)["body"].startswith("Dear Oak Ridge,")


def test_stored_templates_and_reminders_greet_the_contact_person_after_the_upgrade():
    from settings_app.models import ReminderStage

    assert ReminderStage.objects.exists()
    for stage in ReminderStage.objects.all():
        assert stage.body.startswith("Dear {contact_person},"), stage.body
