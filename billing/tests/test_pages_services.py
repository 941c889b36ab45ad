"""The service pages: list (inactive ones marked), add and change through the operations."""

from decimal import Decimal

import pytest
from django.urls import reverse

from billing.models import Service
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def office(client, bookkeeper, business):
    client.force_login(bookkeeper)
    return client


@pytest.fixture
def reader(client, viewer, business):
    client.force_login(viewer)
    return client


def service_data(prices=(), **overrides):
    """The service form as posted, with ``prices`` [(currency, unit price)] in its rows of
    prices in other currencies."""
    data = {
        "code": "DEV",
        "name": "Development",
        "description": "",
        "unit": "h",
        "unit_price": "95.50",
        "taxable": "on",
        "is_active": "on",
        "prices-TOTAL_FORMS": str(len(prices)),
        "prices-INITIAL_FORMS": "0",
    }
    for index, (currency, unit_price) in enumerate(prices):
        data[f"prices-{index}-currency"] = currency
        data[f"prices-{index}-unit_price"] = unit_price
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.parametrize("who", ["office", "reader"])
def test_list_renders_with_inactive_services_marked(request, who):
    browser = request.getfixturevalue(who)
    ServiceFactory(code="LIVE")
    ServiceFactory(code="OLD", is_active=False)
    response = browser.get(reverse("services:list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "LIVE" in html
    assert html.count("service-inactive") == 1
    assert html.index("LIVE") < html.index("OLD")


def test_bookkeeper_adds_a_service(office):
    assert office.get(reverse("services:create")).status_code == 200
    response = office.post(reverse("services:create"), service_data(code="dev"))
    assert response.status_code == 302
    service = Service.objects.get(code="DEV")
    assert service.unit_price == Decimal("95.5000")
    assert service.taxable is True


def test_bookkeeper_changes_a_service(office):
    ServiceFactory(code="DEV")
    url = reverse("services:edit", args=["DEV"])
    assert office.get(url).status_code == 200
    response = office.post(url, service_data(unit_price="0.0125", taxable=None, is_active=None))
    assert response.status_code == 302
    service = Service.objects.get(code="DEV")
    assert (service.unit_price, service.taxable, service.is_active) == (
        Decimal("0.0125"),
        False,
        False,
    )


def test_unknown_service_is_404(office):
    assert office.get(reverse("services:edit", args=["NOPE"])).status_code == 404


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("code", "B@D CODE", "Use capital letters"),
        ("unit_price", "-1", "at least 0"),
        ("unit_price", "1.00001", "at most 4 decimal places"),
        ("unit_price", "ten", "not a number"),
        ("unit_price", "NaN", "is not a number"),
        ("unit_price", "1e4", "“1e4” is not a number"),
        ("name", "", "required"),
    ],
)
def test_bad_input_is_shown_and_nothing_is_saved(office, field, value, message):
    response = office.post(reverse("services:create"), service_data(**{field: value}))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert not Service.objects.exists()


def test_duplicate_code_is_refused(office):
    ServiceFactory(code="DEV", name="First")
    response = office.post(reverse("services:create"), service_data(code="dev"))
    assert response.status_code == 200
    assert "code" in response.context["form"].errors
    assert Service.objects.count() == 1


def test_edit_refusal_changes_nothing(office):
    ServiceFactory(code="DEV", name="Development")
    url = reverse("services:edit", args=["DEV"])
    response = office.post(url, service_data(name="Changed", unit_price="-3"))
    assert response.status_code == 200
    assert "unit_price" in response.context["form"].errors
    assert Service.objects.get(code="DEV").name == "Development"


def test_viewer_cannot_add_or_change(reader):
    ServiceFactory(code="DEV", name="Development")
    assert reader.get(reverse("services:create")).status_code == 403
    assert reader.post(reverse("services:create"), service_data(code="NEW")).status_code == 403
    url = reverse("services:edit", args=["DEV"])
    assert reader.get(url).status_code == 403
    assert reader.post(url, service_data(name="Hacked")).status_code == 403
    assert list(Service.objects.values_list("code", "name")) == [("DEV", "Development")]


# --- Prices in other currencies (issue 18) ------------------------------------------------
def test_a_service_is_added_with_its_prices_in_other_currencies(office):
    response = office.post(
        reverse("services:create"), service_data(prices=[("USD", "70.5"), ("", "")])
    )
    assert response.status_code == 302
    service = Service.objects.get(code="DEV")
    assert [(p.currency, p.unit_price) for p in service.prices.all()] == [
        ("USD", Decimal("70.5000"))
    ]


def test_the_service_form_shows_its_prices_and_the_base_currency(office):
    service = ServiceFactory(code="DEV")
    service.prices.create(currency="EUR", unit_price=Decimal("64.2500"))
    response = office.get(reverse("services:edit", args=["DEV"]))
    html = response.content.decode()
    assert 'value="64.25"' in html
    assert '<option value="EUR" selected>' in html
    assert "In CAD, the base currency" in html
    assert [form.initial for form in response.context["prices"].initial_forms] == [
        {"currency": "EUR", "unit_price": "64.25"}
    ]


def test_a_price_emptied_on_the_form_is_removed(office):
    service = ServiceFactory(code="DEV")
    service.prices.create(currency="EUR", unit_price=Decimal("64"))
    service.prices.create(currency="USD", unit_price=Decimal("70"))
    response = office.post(
        reverse("services:edit", args=["DEV"]),
        service_data(prices=[("EUR", ""), ("USD", "71")]),
    )
    assert response.status_code == 302
    assert [(p.currency, p.unit_price) for p in service.prices.all()] == [
        ("USD", Decimal("71.0000"))
    ]


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        (("USD", "-1"), "unit_price", "Price in USD: must be at least 0."),
        (("USD", "1.00001"), "unit_price", "Price in USD: use at most 4 decimal places."),
        (("CAD", "10"), "currency", "CAD is the base currency"),
        (("", "10"), "currency", "choose a currency"),
    ],
)
def test_a_bad_price_is_shown_on_its_row_and_nothing_is_saved(office, row, field, message):
    response = office.post(reverse("services:create"), service_data(prices=[("", ""), row]))
    assert response.status_code == 200
    prices = response.context["prices"]
    assert prices.forms[0].errors == {}
    assert message in " ".join(prices.forms[1].errors[field])
    assert message in response.content.decode()
    assert not Service.objects.exists()


def test_the_services_list_shows_the_prices_in_other_currencies(office):
    ServiceFactory(code="DEV", unit_price=Decimal("6400"))
    Service.objects.get(code="DEV").prices.create(currency="USD", unit_price=Decimal("4700"))
    html = office.get(reverse("services:list")).content.decode()
    assert "4,700.00 USD" in html
