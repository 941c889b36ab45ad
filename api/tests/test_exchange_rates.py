"""/api/v1/exchange-rates/: list, record (idempotent), read, change, delete."""

import datetime
from decimal import Decimal

import pytest

from rates.models import ExchangeRate
from rates.services import record_rate

pytestmark = pytest.mark.django_db

URL = "/api/v1/exchange-rates/"
NEW_RATE = {"currency": "usd", "date": "2026-12-01", "rate": "1.3625"}


def _rows():
    return list(ExchangeRate.objects.order_by("pk").values_list("pk", "currency", "date", "rate"))


@pytest.fixture
def usd(business):
    return record_rate(acting_user=None, currency="USD", date="2026-12-01", rate="1.3625")


def test_a_rate_goes_round_the_api(api):
    created = api.post(URL, NEW_RATE | {"source": "Bank of Canada"}, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["base_currency"] == "CAD" and body["currency"] == "USD"
    assert body["date"] == "2026-12-01"
    assert body["rate"] == "1.3625000000"  # a string, never a float
    assert body["source"] == "Bank of Canada" and body["created_by"] == "books1"
    url = f"{URL}{body['id']}/"

    assert api.get(url).json() == body

    patched = api.patch(url, {"rate": "1.37"}, format="json")
    assert patched.status_code == 200, patched.json()
    assert (patched.json()["rate"], patched.json()["source"]) == ("1.3700000000", "Bank of Canada")

    put = api.put(url, {"currency": "USD", "date": "2026-12-02", "rate": 2}, format="json")
    assert put.status_code == 200, put.json()
    assert (put.json()["date"], put.json()["rate"]) == ("2026-12-02", "2.0000000000")

    assert api.delete(url).status_code == 204
    assert api.get(url).status_code == 404
    assert not ExchangeRate.objects.filter(pk=body["id"]).exists()


def test_recording_the_rate_of_a_day_that_has_one_changes_it(api, usd):
    response = api.post(URL, NEW_RATE | {"rate": "1.4"}, format="json")
    assert response.status_code == 201
    assert response.json()["id"] == usd.pk
    usd.refresh_from_db()
    assert usd.rate == Decimal("1.4")
    assert ExchangeRate.objects.filter(currency="USD", date=usd.date).count() == 1


def test_recording_is_idempotent(api):
    headers = {"HTTP_IDEMPOTENCY_KEY": "rate-1"}
    first = api.post(URL, NEW_RATE, format="json", **headers)
    again = api.post(URL, NEW_RATE, format="json", **headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert ExchangeRate.objects.filter(currency="USD", date="2026-12-01").count() == 1


def test_the_list_is_newest_first_and_filtered(api, usd):
    record_rate(acting_user=None, currency="EUR", date="2026-11-30", rate="1.49")
    everything = api.get(URL).json()
    assert everything["count"] == ExchangeRate.objects.count()
    assert everything["results"][0]["id"] == usd.pk

    by_currency = api.get(URL, {"currency": "usd"}).json()["results"]
    assert [r["date"] for r in by_currency] == ["2026-12-01", "2000-01-01"]

    in_range = api.get(URL, {"date_from": "2026-11-30", "date_to": "2026-11-30"}).json()
    assert [(r["currency"], r["rate"]) for r in in_range["results"]] == [("EUR", "1.4900000000")]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"currency": "XYZ"}, "currency"),
        ({"date_from": "yesterday"}, "date_from"),
        ({"date_to": "2026-02-30"}, "date_to"),
    ],
)
def test_bad_filters_are_refused_naming_the_parameter(api, business, params, field):
    response = api.get(URL, params)
    assert response.status_code == 400
    assert field in response.json()["errors"]


BAD_INPUT = [
    ({"rate": 1.3625}, "rate", "a JSON number is refused"),
    ({"rate": "abc"}, "rate", "is not a number"),
    ({"rate": "1e5"}, "rate", "is not a number"),
    ({"rate": "0"}, "rate", "Rate: must be more than 0."),
    ({"rate": "-1"}, "rate", "Rate: must be more than 0."),
    ({"rate": "1.12345678901"}, "rate", "at most 10 decimal places"),
    ({"rate": "99999999999"}, "rate", "Rate: must be at most 9999999999.9999999999."),
    ({"rate": "1" + "0" * 30}, "rate", "too large"),
    ({"currency": "CAD"}, "currency", "1 CAD is always 1 CAD"),
    ({"currency": "XYZ"}, "currency", "Currency: “XYZ” is not a currency"),
    ({"date": "2026-02-30"}, "date", "YYYY-MM-DD"),
    ({"date": None}, "date", "null"),
    ({"source": "Bank\nof Canada"}, "source", "Source: one line of text"),
    ({"source": "x" * 101}, "source", "Source: at most 100 characters."),
]


@pytest.mark.parametrize(("values", "field", "message"), BAD_INPUT)
def test_bad_input_is_refused_naming_the_field(api, usd, values, field, message):
    before = _rows()
    for method, url in (("post", URL), ("patch", f"{URL}{usd.pk}/")):
        response = getattr(api, method)(url, NEW_RATE | values, format="json")
        assert response.status_code == 400, (method, response.json())
        errors = response.json()["errors"]
        assert list(errors) == [field], (method, errors)
        assert message in errors[field][0], (method, errors)
    assert _rows() == before


def test_a_rate_without_its_fields_is_refused_per_field(api, business):
    response = api.post(URL, {}, format="json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"currency", "date", "rate"}
    assert api.put(f"{URL}{ExchangeRate.objects.first().pk}/", {}, format="json").status_code == 400


def test_a_change_onto_a_day_that_has_a_rate_is_refused(api, usd):
    other = record_rate(acting_user=None, currency="USD", date="2026-12-02", rate="1.4")
    response = api.patch(f"{URL}{other.pk}/", {"date": "2026-12-01"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["date"][0].startswith("Date: USD already has a rate on")
    other.refresh_from_db()
    assert other.date == datetime.date(2026, 12, 2)


def test_a_viewer_reads_rates_but_may_not_write_them(viewer_api, usd):
    before = _rows()
    assert viewer_api.get(URL).status_code == 200
    assert viewer_api.get(f"{URL}{usd.pk}/").status_code == 200
    assert viewer_api.post(URL, NEW_RATE | {"currency": "EUR"}, format="json").status_code == 403
    assert viewer_api.patch(f"{URL}{usd.pk}/", {"rate": "2"}, format="json").status_code == 403
    assert viewer_api.put(f"{URL}{usd.pk}/", NEW_RATE, format="json").status_code == 403
    assert viewer_api.delete(f"{URL}{usd.pk}/").status_code == 403
    assert _rows() == before


def test_an_administrator_writes_rates(admin_api, usd):
    assert admin_api.patch(f"{URL}{usd.pk}/", {"rate": "2"}, format="json").status_code == 200
    assert admin_api.delete(f"{URL}{usd.pk}/").status_code == 204


def test_anonymous_callers_get_nothing(anonymous, usd):
    assert anonymous.get(URL).status_code == 401
    assert anonymous.post(URL, NEW_RATE, format="json").status_code == 401


@pytest.mark.parametrize("ref", ["999999", "null,null", "1" * 30, "-1"])
def test_an_unknown_id_is_404(api, business, ref):
    assert api.get(f"{URL}{ref}/").status_code == 404
    assert api.patch(f"{URL}{ref}/", {"rate": "2"}, format="json").status_code == 404
    assert api.delete(f"{URL}{ref}/").status_code == 404


def test_the_schema_describes_exchange_rates(api):
    schema = api.get("/api/schema/", {"format": "json"}).json()
    assert set(schema["paths"][URL]) == {"get", "post"}
    assert set(schema["paths"][URL + "{id}/"]) == {"get", "put", "patch", "delete"}
    names = {p["name"] for p in schema["paths"][URL]["get"]["parameters"]}
    assert {"currency", "date_from", "date_to", "page"} <= names
    rate = schema["components"]["schemas"]["ExchangeRate"]["properties"]["rate"]
    assert rate["type"] == "string"
