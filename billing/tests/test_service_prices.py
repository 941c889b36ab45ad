"""Issue 18: a service has its default price in the base currency and may have a price in
other currencies; a line priced from it takes the price in its document's currency, else the
default one, which the invoice form then says to check."""

import datetime
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse

from audit.models import Action, AuditRecord
from billing import rules, services
from billing.models import InvoiceLine, Service, ServicePrice
from otb.operations import InvalidInput
from tests.factories import ClientFactory, ServiceFactory, draft

from .admin_forms import form_data

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture
def design(business):
    """DESIGN: 120 CAD (the base currency), 95 USD, no price in euros."""
    return services.create_service(
        acting_user=None, code="DESIGN", name="Design", unit_price="120", prices={"USD": "95"}
    )


def service_line(service, **fields):
    return services.LineData(service=service, quantity=D(1), **fields)


# --- The rule -------------------------------------------------------------------------------
def test_a_service_priced_in_the_documents_currency_gives_that_price(design):
    price = rules.price_from_service(design, currency="USD", base_currency="CAD")
    assert price == rules.PriceFromService(D("95.0000"), "USD")


def test_a_document_in_the_base_currency_takes_the_default_price(design):
    price = rules.price_from_service(design, currency="CAD", base_currency="CAD")
    assert price == rules.PriceFromService(D("120.0000"), "CAD")


def test_without_a_price_in_the_documents_currency_the_default_one_is_taken_in_the_base(design):
    price = rules.price_from_service(design, currency="EUR", base_currency="CAD")
    assert price == rules.PriceFromService(D("120.0000"), "CAD")


def test_the_warning_names_the_service_and_the_currency_of_its_price(design):
    def warning(currency, unit_price):
        return rules.service_price_warning(
            design, unit_price=unit_price, currency=currency, base_currency="CAD"
        )

    assert warning("EUR", D("120")) == "DESIGN is priced in CAD: check the price."
    assert warning("EUR", None) == "DESIGN is priced in CAD: check the price."
    assert warning("EUR", "120.00") == "DESIGN is priced in CAD: check the price."
    assert warning("EUR", D("110")) is None  # typed in euros
    assert warning("USD", D("120")) is None  # it has a price in USD
    assert warning("CAD", D("120")) is None


# --- Lines of a document --------------------------------------------------------------------
def test_a_line_without_a_price_takes_the_services_price_in_the_invoices_currency(design):
    invoice = draft(client=ClientFactory(), lines=[service_line(design)], currency="USD")
    assert invoice.lines.get().unit_price == D("95.0000")


def test_a_line_without_a_price_in_the_invoices_currency_takes_the_default_one(design):
    invoice = draft(client=ClientFactory(), lines=[service_line(design)], currency="EUR")
    assert invoice.lines.get().unit_price == D("120.0000")


def test_a_line_of_the_clients_currency_takes_the_price_in_it(design):
    client = ClientFactory(country="US", default_currency="USD")
    invoice = draft(client=client, lines=[service_line(design)])
    assert (invoice.currency, invoice.lines.get().unit_price) == ("USD", D("95.0000"))


def test_a_typed_price_stays_whatever_the_service_says(design):
    invoice = draft(lines=[service_line(design, unit_price=D("99.50"))], currency="USD")
    assert invoice.lines.get().unit_price == D("99.5000")


def test_lines_given_again_after_a_change_of_currency_take_the_price_in_the_new_one(design):
    invoice = draft(lines=[service_line(design)])
    assert invoice.lines.get().unit_price == D("120.0000")
    services.update_invoice(
        invoice=invoice, acting_user=None, currency="usd", lines=[service_line(design)]
    )
    invoice.refresh_from_db()
    assert (invoice.currency, invoice.lines.get().unit_price) == ("USD", D("95.0000"))


def test_the_preview_takes_the_price_in_the_chosen_currency(design):
    figures = services.preview_invoice(
        client=ClientFactory(), lines=[service_line(design)], currency="USD"
    )
    assert figures["currency"] == "USD"
    assert figures["subtotal"] == D("95.00")


# --- Setting them ---------------------------------------------------------------------------
def prices_of(service):
    return {price.currency: price.unit_price for price in service.prices.all()}


def test_prices_are_given_as_a_mapping_or_a_list(business):
    by_mapping = services.create_service(
        acting_user=None, code="A", name="A", unit_price="1", prices={"usd": "95.5"}
    )
    by_list = services.create_service(
        acting_user=None,
        code="B",
        name="B",
        unit_price="1",
        prices=[{"currency": "EUR", "unit_price": D("0.0125")}],
    )
    assert prices_of(by_mapping) == {"USD": D("95.5000")}
    assert prices_of(by_list) == {"EUR": D("0.0125")}


def test_prices_given_are_all_of_them_and_left_out_keeps_them(design):
    kept = design.prices.get(currency="USD")
    services.update_service(service=design, acting_user=None, prices={"USD": "96", "EUR": "88"})
    assert prices_of(design) == {"USD": D("96.0000"), "EUR": D("88.0000")}
    assert design.prices.get(currency="USD").pk == kept.pk  # changed in place
    services.update_service(service=design, acting_user=None, name="Graphic design")
    assert prices_of(design) == {"USD": D("96.0000"), "EUR": D("88.0000")}
    services.update_service(service=design, acting_user=None, prices={"EUR": "88"})
    assert prices_of(design) == {"EUR": D("88.0000")}
    services.update_service(service=design, acting_user=None, prices=[])
    assert prices_of(design) == {}


def test_the_audit_trail_shows_the_prices_before_and_after(design):
    created = AuditRecord.objects.get(action=Action.CREATED, object_type="billing.service")
    assert [(price["currency"], price["unit_price"]) for price in created.after["prices"]] == [
        ("USD", "95.0000")
    ]

    services.update_service(service=design, acting_user=None, prices={"USD": "90"})
    changed = AuditRecord.objects.get(action=Action.CHANGED, object_type="billing.service")
    assert changed.operation.endswith("update_service")
    assert [p["unit_price"] for p in changed.before["prices"]] == ["95.0000"]
    assert [p["unit_price"] for p in changed.after["prices"]] == ["90.0000"]


def test_prices_given_unchanged_write_no_change(design):
    services.update_service(service=design, acting_user=None, prices={"USD": "95.00"})
    assert not AuditRecord.objects.filter(action=Action.CHANGED).exists()


@pytest.mark.parametrize(
    ("prices", "field", "message"),
    [
        pytest.param(
            {"XYZ": "1"},
            "prices.0.currency",
            "Price 1, currency: “XYZ” is not a currency OTB Billing offers",
            id="unknown",
        ),
        pytest.param(
            {"CAD": "1"},
            "prices.0.currency",
            "Price 1, currency: CAD is the base currency; its price is the default unit price.",
            id="base",
        ),
        pytest.param(
            [{"currency": "", "unit_price": "1"}],
            "prices.0.currency",
            "Price 1, currency: choose a currency.",
            id="no-currency",
        ),
        pytest.param(
            [{"currency": "USD", "unit_price": "1"}, {"currency": "usd", "unit_price": "2"}],
            "prices.1.currency",
            "Price 2, currency: USD is given twice.",
            id="twice",
        ),
        pytest.param(
            {"EUR": "1", "USD": "-0.01"},
            "prices.1.unit_price",
            "Price in USD: must be at least 0.",
            id="negative",
        ),
        pytest.param(
            {"USD": "1.23456"},
            "prices.0.unit_price",
            "Price in USD: use at most 4 decimal places.",
            id="5dp",
        ),
        pytest.param(
            {"USD": 1.5}, "prices.0.unit_price", "Price in USD: give an exact decimal", id="float"
        ),
        pytest.param(
            [{"currency": "USD"}],
            "prices.0.unit_price",
            "Price in USD: this field is required.",
            id="no-price",
        ),
        pytest.param("USD 95", "prices", "Prices: give a currency and a unit price", id="text"),
        pytest.param(["USD"], "prices.0", "Price 1: give a currency and a unit price.", id="row"),
    ],
)
def test_bad_prices_are_refused_naming_the_price(design, prices, field, message):
    with pytest.raises(InvalidInput) as refused:
        services.update_service(service=design, acting_user=None, prices=prices)
    assert list(refused.value.errors) == [field]
    assert refused.value.errors[field][0].startswith(message)
    assert prices_of(design) == {"USD": D("95.0000")}


def test_a_new_service_with_a_bad_price_is_not_made(business):
    with pytest.raises(InvalidInput):
        services.create_service(
            acting_user=None, code="NEW", name="New", unit_price="1", prices={"USD": "-1"}
        )
    assert not ServicePrice.objects.exists()
    assert not AuditRecord.objects.exists()


def test_the_database_holds_one_price_per_currency_and_none_below_zero(design):
    with pytest.raises(IntegrityError), transaction.atomic():
        ServicePrice.objects.create(service=design, currency="USD", unit_price=D("1"))
    with pytest.raises(IntegrityError), transaction.atomic():
        ServicePrice.objects.create(service=design, currency="EUR", unit_price=D("-1"))


def test_a_services_prices_go_with_it_when_it_is_deleted(business):
    service = ServiceFactory(code="GONE")
    ServicePrice.objects.create(service=service, currency="USD", unit_price=D("1"))
    service.delete()
    assert not ServicePrice.objects.exists()


# --- The invoice form -----------------------------------------------------------------------
@pytest.fixture
def office(client, bookkeeper, business):
    client.force_login(bookkeeper)
    return client


def preview(office, *, client, currency="", **line):
    data = {
        "client": client,
        "currency": currency,
        "discount_kind": "",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-0-quantity": "1",
        "lines-0-taxable": "on",
        **{f"lines-0-{name}": value for name, value in line.items()},
    }
    response = office.post(reverse("invoices:preview"), data)
    assert response.status_code == 200
    return response.json()


def test_the_preview_warns_beside_a_line_priced_in_the_base_currency(office, design):
    ClientFactory(code="RHEIN", country="DE", default_currency="EUR")
    body = preview(office, client="RHEIN", service="DESIGN", unit_price="120")
    assert body["ok"], body
    assert body["currency"] == "EUR"
    assert body["warnings"] == ["DESIGN is priced in CAD: check the price."]


def test_the_preview_says_nothing_of_a_price_in_the_invoices_currency(office, design):
    ClientFactory(code="RHEIN", country="DE", default_currency="EUR")
    body = preview(office, client="RHEIN", currency="USD", service="DESIGN", unit_price="95")
    assert (body["currency"], body["warnings"], body["total"]) == ("USD", [None], "107.35 USD")


def test_the_preview_says_nothing_of_a_price_typed_or_a_free_line(office, design):
    ClientFactory(code="RHEIN", country="DE", default_currency="EUR")
    typed = preview(office, client="RHEIN", service="DESIGN", unit_price="105")
    free = preview(office, client="RHEIN", description="Work", unit_price="120")
    assert typed["warnings"] == free["warnings"] == [None]


def test_the_invoice_form_carries_each_services_prices(office, design):
    ClientFactory(code="LAKE", country="US", default_currency="USD")
    response = office.get(reverse("invoices:create") + "?client=LAKE")
    data = response.context["services_data"]["DESIGN"]
    assert (data["unit_price"], data["prices"]) == ("120", {"USD": "95"})
    assert 'data-currency="USD"' in response.content.decode()
    assert 'data-field="price_warning"' in response.content.decode()


# --- The back office ------------------------------------------------------------------------
def admin_data(office, url, **fields):
    data = form_data(office.get(url))
    data.update(fields)
    return data


def test_the_back_office_adds_a_service_with_its_prices(office):
    url = reverse("admin:billing_service_add")
    data = admin_data(
        office,
        url,
        **{
            "code": "DESIGN",
            "name": "Design",
            "unit_price": "120",
            "prices-0-currency": "USD",
            "prices-0-unit_price": "95",
        },
    )
    response = office.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert prices_of(Service.objects.get(code="DESIGN")) == {"USD": D("95.0000")}
    created = AuditRecord.objects.get(action=Action.CREATED, object_type="billing.service")
    assert created.operation.endswith("create_service")
    assert [(p["currency"], p["unit_price"]) for p in created.after["prices"]] == [
        ("USD", "95.0000")
    ]


def test_the_back_office_changes_and_removes_prices_through_the_operation(office, design):
    url = reverse("admin:billing_service_change", args=[design.pk])
    data = admin_data(office, url, **{"prices-0-DELETE": "on", "prices-1-currency": "EUR"})
    data["prices-1-unit_price"] = "88"
    response = office.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert prices_of(design) == {"EUR": D("88.0000")}
    changed = AuditRecord.objects.get(action=Action.CHANGED, object_type="billing.service")
    assert changed.operation.endswith("update_service")


def test_the_back_office_shows_a_refused_price_and_saves_nothing(office, design):
    url = reverse("admin:billing_service_change", args=[design.pk])
    data = admin_data(office, url, name="Renamed", **{"prices-1-currency": "CAD"})
    data["prices-1-unit_price"] = "100"
    response = office.post(url, data)
    assert response.status_code == 200
    assert "CAD is the base currency" in response.content.decode()
    design.refresh_from_db()
    assert (design.name, prices_of(design)) == ("Design", {"USD": D("95.0000")})


# --- The demo -------------------------------------------------------------------------------
def test_the_demos_invoices_abroad_take_the_inspections_price_in_their_currency(business):
    with time_machine.travel(datetime.datetime(2026, 3, 10, 17, 0, tzinfo=datetime.UTC)):
        call_command("seed_demo", stdout=StringIO())
    inspect = Service.objects.get(code="INSPECT")
    assert prices_of(inspect) == {"USD": D("325.0000"), "EUR": D("290.0000")}
    for code, currency, price in (("LAKESHORE", "USD", "325"), ("RHEINWERK", "EUR", "290")):
        lines = InvoiceLine.objects.filter(invoice__client__code=code, service=inspect)
        assert {(line.invoice.currency, line.unit_price) for line in lines} == {
            (currency, D(price))
        }
