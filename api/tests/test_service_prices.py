"""Issue 18 in the API: a service's prices in other currencies, read and written with it,
and taken by a line of an invoice in one of them."""

from decimal import Decimal

import pytest

from billing.models import Service
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

DESIGN = {"code": "design", "name": "Design", "unit_price": "120"}


def test_a_service_is_made_and_read_with_its_prices(api):
    response = api.post(
        "/api/v1/services/",
        {**DESIGN, "prices": [{"currency": "usd", "unit_price": "95"}]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["prices"] == [{"currency": "USD", "unit_price": "95.0000"}]
    read = api.get("/api/v1/services/DESIGN/").json()
    assert (read["unit_price"], read["prices"]) == (
        "120.0000",
        [{"currency": "USD", "unit_price": "95.0000"}],
    )


def test_prices_given_replace_them_and_left_out_keep_them(api):
    api.post(
        "/api/v1/services/",
        {**DESIGN, "prices": [{"currency": "USD", "unit_price": "95"}]},
        format="json",
    )
    response = api.patch(
        "/api/v1/services/DESIGN/",
        {"prices": [{"currency": "EUR", "unit_price": "88.5"}]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["prices"] == [{"currency": "EUR", "unit_price": "88.5000"}]
    response = api.patch("/api/v1/services/DESIGN/", {"name": "Graphic design"}, format="json")
    assert response.json()["prices"] == [{"currency": "EUR", "unit_price": "88.5000"}]


@pytest.mark.parametrize(
    ("price", "field", "message"),
    [
        ({"currency": "CAD", "unit_price": "1"}, "prices.0.currency", "base currency"),
        ({"currency": "XYZ", "unit_price": "1"}, "prices.0.currency", "not a currency"),
        ({"currency": "USD", "unit_price": "-1"}, "prices.0.unit_price", "at least 0"),
        ({"currency": "USD", "unit_price": "1.00001"}, "prices.0.unit_price", "4 decimal"),
        ({"currency": "USD", "unit_price": 1.5}, "prices.0.unit_price", "a JSON number"),
        ({"currency": "USD"}, "prices.0.unit_price", "required"),
    ],
)
def test_a_bad_price_is_refused_naming_it(api, price, field, message):
    response = api.post("/api/v1/services/", {**DESIGN, "prices": [price]}, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == [field], errors
    assert message in errors[field][0]
    assert not Service.objects.exists()


def test_a_line_of_an_invoice_in_usd_takes_the_services_price_in_usd(api):
    api.post(
        "/api/v1/services/",
        {**DESIGN, "prices": [{"currency": "USD", "unit_price": "95"}]},
        format="json",
    )
    ClientFactory(code="LAKE", country="US", default_currency="USD")
    response = api.post(
        "/api/v1/invoices/",
        {"client": "LAKE", "lines": [{"service": "DESIGN", "quantity": "2"}]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["lines"][0]["unit_price"] == "95.0000"
    assert Decimal(response.json()["subtotal"]) == Decimal("190.00")


def test_the_schema_describes_a_services_prices(api):
    schema = api.get("/api/schema/", {"format": "json"}).json()
    components = schema["components"]["schemas"]
    prices = components["Service"]["properties"]["prices"]
    assert prices["type"] == "array"
    assert prices["items"]["$ref"].endswith("/ServicePrice")
    price = components["ServicePriceInputRequest"]["properties"]
    assert price["unit_price"]["type"] == "string"
