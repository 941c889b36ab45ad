import pytest

from billing.models import Client, Service
from tests.factories import ClientFactory, ServiceFactory, issued

pytestmark = pytest.mark.django_db

NEW_CLIENT = {"code": "acme", "name": "Acme Ltd", "country": "CA", "email": "a@acme.test"}


def test_creating_a_client_returns_it_with_its_code_in_capitals(api):
    response = api.post("/api/v1/clients/", NEW_CLIENT, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["code"] == "ACME"
    assert body["default_currency"] == "CAD"  # the business's default
    assert Client.objects.get().name == "Acme Ltd"


def test_a_client_is_read_by_its_code(api):
    ClientFactory(code="ACME", name="Acme")
    response = api.get("/api/v1/clients/ACME/")
    assert response.status_code == 200
    assert response.json()["name"] == "Acme"
    assert api.get("/api/v1/clients/NOPE/").status_code == 404


def test_a_client_with_a_taken_code_is_refused_with_a_field_error(api):
    ClientFactory(code="ACME")
    response = api.post("/api/v1/clients/", NEW_CLIENT, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "code" in response.json()["errors"]


def test_a_client_without_required_fields_is_refused_per_field(api):
    response = api.post("/api/v1/clients/", {"code": "X"}, format="json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"name", "country"}


def test_a_bad_country_is_refused_by_the_operation(api):
    response = api.post("/api/v1/clients/", NEW_CLIENT | {"country": "Canada"}, format="json")
    assert response.status_code == 400
    assert "country" in response.json()["errors"]


def test_updating_a_client_changes_only_the_fields_sent(api):
    ClientFactory(code="ACME", name="Acme", phone="1")
    response = api.patch("/api/v1/clients/ACME/", {"name": "Acme Inc."}, format="json")
    assert response.status_code == 200
    client = Client.objects.get()
    assert (client.name, client.phone) == ("Acme Inc.", "1")


def test_a_client_is_deactivated_not_deleted(api):
    client = ClientFactory(code="ACME")
    issued(client=client)
    response = api.patch("/api/v1/clients/ACME/", {"is_active": False}, format="json")
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert api.delete("/api/v1/clients/ACME/").status_code == 405


def test_a_clients_currency_changes_and_its_invoices_keep_theirs(api):
    client = ClientFactory(code="ACME")
    invoice = issued(client=client)
    response = api.patch("/api/v1/clients/ACME/", {"default_currency": "EUR"}, format="json")
    assert response.status_code == 200, response.json()
    invoice.refresh_from_db()
    assert (response.json()["default_currency"], invoice.currency) == ("EUR", "CAD")
    response = api.patch("/api/v1/clients/ACME/", {"default_currency": "EURO"}, format="json")
    assert response.status_code == 400
    assert "default_currency" in response.json()["errors"]


def test_the_client_list_is_paginated_searchable_and_filterable(api, django_assert_max_num_queries):
    for n in range(5):
        ClientFactory(code=f"ACME{n}", name=f"Acme {n}")
    ClientFactory(code="OTHER", name="Other", is_active=False)
    # 1: is the address locked? 1: the page's own taxes, 1: their other contacts, however
    # many clients.
    with django_assert_max_num_queries(9):
        body = api.get("/api/v1/clients/?page_size=2").json()
    assert body["count"] == 6
    assert len(body["results"]) == 2
    assert body["next"]
    assert api.get("/api/v1/clients/?search=other").json()["count"] == 1
    assert api.get("/api/v1/clients/?is_active=false").json()["count"] == 1
    assert api.get("/api/v1/clients/?is_active=maybe").status_code == 400


def test_the_page_size_is_bounded(api):
    ClientFactory()
    response = api.get("/api/v1/clients/?page_size=100000")
    assert response.status_code == 200
    assert api.get("/api/v1/clients/?page=99").status_code == 404


def test_creating_a_service_keeps_its_exact_unit_price(api):
    response = api.post(
        "/api/v1/services/",
        {"code": "fuel", "name": "Fuel", "unit": "l", "unit_price": "1.459"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["unit_price"] == "1.4590"
    assert str(Service.objects.get().unit_price) == "1.4590"


def test_a_service_price_as_a_json_float_is_refused(api):
    response = api.post(
        "/api/v1/services/", {"code": "X", "name": "X", "unit_price": 1.5}, format="json"
    )
    assert response.status_code == 400
    assert "unit_price" in response.json()["errors"]


def test_a_service_is_updated_and_listed(api):
    ServiceFactory(code="WEB")
    response = api.put(
        "/api/v1/services/WEB/",
        {"code": "WEB", "name": "Web work", "unit_price": "90.00"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["unit_price"] == "90.0000"
    assert api.get("/api/v1/services/?search=web").json()["count"] == 1
    assert api.get("/api/v1/services/WEB/").json()["name"] == "Web work"
