"""The client pages: list with balances, a client's page, and the add/change form. Every
write goes through the operations; a refusal is shown on the form and nothing is saved."""

from decimal import Decimal

import pytest
from django.urls import reverse

from billing.models import Client
from billing.services import post_manual_credit
from tests.factories import ClientFactory, issued, pay

pytestmark = pytest.mark.django_db


@pytest.fixture
def office(client, bookkeeper, business):
    client.force_login(bookkeeper)
    return client


@pytest.fixture
def reader(client, viewer, business):
    client.force_login(viewer)
    return client


def client_data(**overrides):
    data = {
        "code": "ACME",
        "name": "Acme Inc.",
        "contact_person": "",
        "email": "books@acme.example",
        "phone": "",
        "address": "1 Main St",
        "country": "CA",
        "default_currency": "CAD",
        "is_active": "on",
        "notes": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# --- Pages render -------------------------------------------------------------------------
@pytest.mark.parametrize("who", ["office", "reader"])
def test_list_and_detail_render_for_bookkeeper_and_viewer(request, who):
    browser = request.getfixturevalue(who)
    invoice = issued()
    pay(invoice, "10.00")
    acme = invoice.client
    assert browser.get(reverse("clients:list")).status_code == 200
    page = browser.get(reverse("clients:detail", args=[acme.code]))
    assert page.status_code == 200
    html = page.content.decode()
    assert invoice.get_absolute_url() in html
    assert reverse("clients:ledger", args=[acme.code]) in html


def test_unknown_client_code_is_404(office):
    assert office.get(reverse("clients:detail", args=["NOPE"])).status_code == 404
    assert office.get(reverse("clients:edit", args=["NOPE"])).status_code == 404


def test_detail_links_to_a_new_invoice_for_the_client(office):
    acme = ClientFactory(code="ACME")
    html = office.get(reverse("clients:detail", args=["ACME"])).content.decode()
    assert f"{reverse('invoices:create')}?client={acme.code}" in html


def test_detail_lists_invoices_latest_first_with_status(office):
    acme = ClientFactory()
    first = issued(client=acme)
    second = issued(client=acme)
    pay(second, "10.00")
    html = office.get(reverse("clients:detail", args=[acme.code])).content.decode()
    assert html.index(second.number) < html.index(first.number)
    assert "status-partial" in html
    assert "status-pending" in html


def test_list_shows_balances_in_colour(office):
    owing = issued()
    in_credit = ClientFactory()
    post_manual_credit(client=in_credit, amount=Decimal("5.00"), memo="Goodwill", acting_user=None)
    even = ClientFactory()
    html = office.get(reverse("clients:list") + "?active=all").content.decode()
    assert 'text-danger">-113.00 CAD' in html
    assert 'text-success">5.00 CAD' in html
    assert 'text-secondary">0.00 CAD' in html
    assert owing.client.code in html and even.code in html


def test_list_search_matches_code_name_and_email(office):
    ClientFactory(code="ACME", name="Acme Inc.", email="books@acme.example")
    ClientFactory(code="BETA", name="Beta Ltd", email="ap@beta.example")
    ClientFactory(code="GAMMA", name="Gamma", email="hello@gamma.example")
    for query, expected in [("acm", "ACME"), ("beta ltd", "BETA"), ("hello@", "GAMMA")]:
        html = office.get(reverse("clients:list"), {"q": query}).content.decode()
        assert expected in html
        others = {"ACME", "BETA", "GAMMA"} - {expected}
        assert not any(f">{code}<" in html for code in others), query


def test_list_shows_active_clients_unless_asked(office):
    ClientFactory(code="LIVE")
    ClientFactory(code="GONE", is_active=False)
    html = office.get(reverse("clients:list")).content.decode()
    assert ">LIVE<" in html and ">GONE<" not in html
    html = office.get(reverse("clients:list"), {"active": "inactive"}).content.decode()
    assert ">GONE<" in html and ">LIVE<" not in html
    html = office.get(reverse("clients:list"), {"active": "all"}).content.decode()
    assert ">GONE<" in html and ">LIVE<" in html


def test_list_is_paginated_by_50(office):
    ClientFactory.create_batch(60)
    page1 = office.get(reverse("clients:list"))
    assert len(page1.context["page"].object_list) == 50
    page2 = office.get(reverse("clients:list"), {"page": 2})
    assert len(page2.context["page"].object_list) == 10


def test_bad_page_number_does_not_fail(office):
    ClientFactory()
    assert office.get(reverse("clients:list"), {"page": "x"}).status_code == 200
    assert office.get(reverse("clients:list"), {"page": "999"}).status_code == 200


@pytest.mark.parametrize("count", [5, 60])
def test_list_query_count_does_not_grow_with_clients(office, django_assert_max_num_queries, count):
    for c in ClientFactory.create_batch(count):
        post_manual_credit(client=c, amount=Decimal("1.00"), memo="x", acting_user=None)
    with django_assert_max_num_queries(8):  # 1: the business's time zone
        assert office.get(reverse("clients:list")).status_code == 200


# --- Create and edit ----------------------------------------------------------------------
def test_bookkeeper_adds_a_client(office):
    response = office.post(reverse("clients:create"), client_data(code="acme"))
    acme = Client.objects.get(code="ACME")
    assert response.status_code == 302
    assert response["Location"] == acme.get_absolute_url()
    assert acme.name == "Acme Inc."
    assert acme.default_currency == "CAD"


def test_new_client_form_offers_the_business_currency(office, business):
    business.default_currency = "USD"
    business.save()
    form = office.get(reverse("clients:create")).context["form"]
    assert form.initial["default_currency"] == "USD"


def test_bookkeeper_changes_a_client(office):
    acme = ClientFactory(code="ACME")
    url = reverse("clients:edit", args=["ACME"])
    assert office.get(url).status_code == 200
    response = office.post(url, client_data(name="Acme Renamed", country="US"))
    assert response.status_code == 302
    acme.refresh_from_db()
    assert (acme.name, acme.country) == ("Acme Renamed", "US")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("code", "AC ME!", "Use capital letters"),
        ("code", "", "This field is required"),
        ("country", "Canada", "at most 2 characters"),
        ("country", "C1", "two-letter country code"),
        ("email", "not-an-email", "valid email"),
        ("default_currency", "XXX", "not one of the available choices"),
        ("name", "", "This field is required"),
    ],
)
def test_bad_input_is_shown_on_the_field_and_nothing_is_saved(office, field, value, message):
    response = office.post(reverse("clients:create"), client_data(**{field: value}))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert not Client.objects.exists()


def test_duplicate_code_is_refused(office):
    ClientFactory(code="ACME", name="The first")
    response = office.post(reverse("clients:create"), client_data(code="acme"))
    assert response.status_code == 200
    assert "code" in response.context["form"].errors
    assert Client.objects.count() == 1


def test_edit_refusal_changes_nothing(office):
    invoice = issued()
    acme = invoice.client
    url = reverse("clients:edit", args=[acme.code])
    data = client_data(code=acme.code, name="Changed", default_currency="XYZ")
    response = office.post(url, data)
    assert response.status_code == 200
    assert "default_currency" in response.context["form"].errors
    acme.refresh_from_db()
    assert (acme.name, acme.default_currency) == (invoice.client.name, "CAD")


def test_viewer_cannot_add_or_change(reader):
    ClientFactory(code="ACME")
    assert reader.get(reverse("clients:create")).status_code == 403
    assert reader.post(reverse("clients:create"), client_data(code="NEW")).status_code == 403
    url = reverse("clients:edit", args=["ACME"])
    assert reader.get(url).status_code == 403
    assert reader.post(url, client_data(code="ACME", name="Hacked")).status_code == 403
    assert not Client.objects.filter(code="NEW").exists()
    assert Client.objects.get(code="ACME").name != "Hacked"


def test_viewer_sees_no_edit_links(reader):
    ClientFactory(code="ACME")
    html = reader.get(reverse("clients:detail", args=["ACME"])).content.decode()
    assert reverse("clients:edit", args=["ACME"]) not in html
    assert reverse("invoices:create") not in html
