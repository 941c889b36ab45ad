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


def service_data(**overrides):
    data = {
        "code": "DEV",
        "name": "Development",
        "description": "",
        "unit": "h",
        "unit_price": "95.50",
        "taxable": "on",
        "is_active": "on",
    }
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
