"""The exchange rates' pages (/rates/) and their back office: listing, typing a rate in,
changing and deleting one, through the operations."""

import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditRecord
from rates.models import ExchangeRate
from rates.services import record_rate
from settings_app.selectors import business_today

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 12, 1)


@pytest.fixture
def office(client, bookkeeper, business):
    client.force_login(bookkeeper)
    return client


@pytest.fixture
def reader(client, viewer, business):
    client.force_login(viewer)
    return client


@pytest.fixture
def usd(business):
    return record_rate(acting_user=None, currency="USD", date=DAY, rate="1.3625")


def _listed(response) -> str:
    """The rows of the list, without the sentence above it."""
    return response.content.decode().split('id="rate-list"')[1]


def _rows():
    return list(ExchangeRate.objects.order_by("pk").values_list("pk", "currency", "date", "rate"))


def rate_data(**overrides):
    data = {"currency": "EUR", "date": "2026-12-01", "rate": "1.4912", "source": ""}
    return data | overrides


@pytest.mark.parametrize("who", ["office", "reader"])
def test_the_list_shows_the_rates_newest_first_and_what_a_rate_means(request, who, usd):
    browser = request.getfixturevalue(who)
    response = browser.get(reverse("rates:list"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "1 USD = 1.35 CAD means 100.00 USD are 135.00 CAD" in html
    listed = _listed(response)
    assert "1 USD = 1.3625 CAD" in listed
    assert "1 USD = 1.35 CAD" in listed  # the tests' rate of Jan 1, 2000
    assert listed.index("1.3625") < listed.index("1 USD = 1.35 CAD")
    assert "manage.py import_rates" in html
    assert f'href="{reverse("rates:list")}"' in html  # the navigation's link


def test_a_viewer_sees_no_buttons_to_write(reader, usd):
    html = reader.get(reverse("rates:list")).content.decode()
    assert reverse("rates:create") not in html
    assert reverse("rates:edit", args=[usd.pk]) not in html
    assert reverse("rates:delete", args=[usd.pk]) not in html


def test_the_list_is_filtered_by_currency(office, usd):
    listed = _listed(office.get(reverse("rates:list"), {"currency": "USD"}))
    assert "1 USD = 1.3625 CAD" in listed
    assert "1 EUR =" not in listed


def test_an_unknown_currency_in_the_filter_lists_nothing_and_says_why(office, usd):
    response = office.get(reverse("rates:list"), {"currency": "XYZ"})
    assert response.status_code == 200
    assert "Currency: Select a valid choice." in response.content.decode()
    assert "1 USD =" not in _listed(response)


def test_the_list_is_paged(office, business):
    for day in range(60):
        record_rate(
            acting_user=None,
            currency="USD",
            date=DAY - datetime.timedelta(days=day),
            rate="1.3",
        )
    first = office.get(reverse("rates:list"), {"currency": "USD"})
    assert len(first.context["page"]) == 50
    older = first.context["page"].older
    second = office.get(reverse("rates:list"), {"currency": "USD", "older": older})
    assert len(second.context["page"]) == 11  # and the tests' rate of 2000
    assert second.context["page"].items[-1].date == datetime.date(2000, 1, 1)


def test_the_form_offers_today_and_every_currency_but_the_base(office):
    response = office.get(reverse("rates:create"))
    assert response.status_code == 200
    form = response.context["form"]
    assert form["date"].value() == business_today()
    currencies = [code for code, _label in form.fields["currency"].choices if code]
    assert "USD" in currencies and "CAD" not in currencies
    assert 'value="typed in"' in response.content.decode()


def test_a_bookkeeper_adds_a_rate(office):
    response = office.post(reverse("rates:create"), rate_data())
    assert response.status_code == 302
    rate = ExchangeRate.objects.get(currency="EUR", date=DAY)
    assert (rate.base_currency, rate.rate, rate.source) == ("CAD", Decimal("1.4912"), "typed in")
    page = office.get(response["Location"]).content.decode()
    assert "Exchange rate saved: 1 EUR = 1.4912 CAD on Dec 1, 2026." in page


def test_adding_the_rate_of_a_day_that_has_one_changes_it(office, usd):
    office.post(reverse("rates:create"), rate_data(currency="USD", rate="1.37", source="Bank"))
    usd.refresh_from_db()
    assert (usd.rate, usd.source) == (Decimal("1.37"), "Bank")
    assert ExchangeRate.objects.filter(currency="USD", date=DAY).count() == 1


def test_a_bookkeeper_changes_a_rate(office, usd):
    url = reverse("rates:edit", args=[usd.pk])
    page = office.get(url)
    assert page.status_code == 200
    assert 'value="1.3625"' in page.content.decode()  # not 1.3625000000
    response = office.post(
        url, rate_data(currency="USD", date="2026-12-02", rate="1.38", source="Bank")
    )
    assert response.status_code == 302
    usd.refresh_from_db()
    assert (usd.date, usd.rate, usd.source) == (datetime.date(2026, 12, 2), Decimal("1.38"), "Bank")


def test_a_bookkeeper_deletes_a_rate_after_confirming(office, usd):
    url = reverse("rates:delete", args=[usd.pk])
    page = office.get(url)
    assert page.status_code == 200
    assert "Delete the exchange rate 1 USD = 1.3625 CAD on Dec 1, 2026?" in page.content.decode()
    assert ExchangeRate.objects.filter(pk=usd.pk).exists()  # asking deletes nothing

    response = office.post(url)
    assert response.status_code == 302
    assert not ExchangeRate.objects.filter(pk=usd.pk).exists()
    assert AuditRecord.objects.filter(operation="rates.services.delete_rate").exists()


def test_deleting_needs_the_csrf_token(bookkeeper, usd):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(bookkeeper)
    assert strict.post(reverse("rates:delete", args=[usd.pk])).status_code == 403
    assert ExchangeRate.objects.filter(pk=usd.pk).exists()


def test_a_viewer_may_not_add_change_or_delete(reader, usd):
    before = _rows()
    for url in (
        reverse("rates:create"),
        reverse("rates:edit", args=[usd.pk]),
        reverse("rates:delete", args=[usd.pk]),
    ):
        assert reader.get(url).status_code == 403, url
        assert reader.post(url, rate_data()).status_code == 403, url
    assert _rows() == before


def test_an_unknown_rate_is_404(office):
    assert office.get(reverse("rates:edit", args=[999999])).status_code == 404
    assert office.post(reverse("rates:delete", args=[999999])).status_code == 404


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"rate": "abc"}, "Rate: “abc” is not a number"),
        ({"rate": "1e5"}, "Rate: “1e5” is not a number"),
        ({"rate": ""}, "Rate: This field is required."),
        ({"rate": "0"}, "Rate: must be more than 0."),
        ({"rate": "-2"}, "Rate: must be more than 0."),
        ({"rate": "1.12345678901"}, "Rate: use at most 10 decimal places."),
        ({"rate": "99999999999"}, "Rate: must be at most"),
        ({"currency": "CAD"}, "Currency: Select a valid choice."),
        ({"currency": "XYZ"}, "Currency: Select a valid choice."),
        ({"currency": ""}, "Currency: This field is required."),
        ({"date": ""}, "Date: This field is required."),
        ({"date": "2026-02-30"}, "Date: Enter a valid date."),
        ({"date": "1/12/2026"}, "Date: Enter a valid date."),
        ({"source": "x" * 101}, "Source: Ensure this value has at most 100 characters"),
    ],
)
def test_bad_input_on_the_page_is_refused_naming_the_field(office, usd, values, message):
    before = _rows()
    for url in (reverse("rates:create"), reverse("rates:edit", args=[usd.pk])):
        response = office.post(url, rate_data(**values))
        assert response.status_code == 200, url
        assert message in response.content.decode(), url
        assert _rows() == before


def test_a_refusal_of_the_operation_is_shown_on_its_field(office, usd):
    other = record_rate(acting_user=None, currency="USD", date="2026-12-02", rate="1.4")
    response = office.post(
        reverse("rates:edit", args=[other.pk]), rate_data(currency="USD", rate="1.4")
    )
    assert response.status_code == 200
    assert response.context["form"].errors["date"] == [
        "Date: USD already has a rate on Dec 1, 2026; change that one."
    ]


# --- The back office ----------------------------------------------------------------------


@pytest.fixture
def back_office(client, administrator, business):
    client.force_login(administrator)
    return client


def test_the_back_office_lists_rates(back_office, usd):
    response = back_office.get(reverse("admin:rates_exchangerate_changelist"))
    assert response.status_code == 200
    assert "1.3625" in response.content.decode()
    filtered = back_office.get(
        reverse("admin:rates_exchangerate_changelist"), {"currency": "USD", "q": "typed"}
    )
    assert filtered.status_code == 200


def test_the_back_office_adds_changes_and_deletes_through_the_operations(back_office, business):
    add = reverse("admin:rates_exchangerate_add")
    assert back_office.get(add).status_code == 200
    response = back_office.post(add, rate_data(rate="1.49", source="Bank"))
    assert response.status_code == 302
    rate = ExchangeRate.objects.get(currency="EUR", date=DAY)
    assert (rate.base_currency, rate.rate, rate.source) == ("CAD", Decimal("1.49"), "Bank")

    change = reverse("admin:rates_exchangerate_change", args=[rate.pk])
    assert back_office.get(change).status_code == 200
    assert back_office.post(change, rate_data(rate="1.5")).status_code == 302
    rate.refresh_from_db()
    assert (rate.rate, rate.source) == (Decimal("1.5"), "typed in")

    delete = reverse("admin:rates_exchangerate_delete", args=[rate.pk])
    assert back_office.post(delete, {"post": "yes"}).status_code == 302
    assert not ExchangeRate.objects.filter(pk=rate.pk).exists()
    operations = set(
        AuditRecord.objects.filter(object_type="rates.exchangerate").values_list(
            "operation", flat=True
        )
    )
    assert operations == {
        "rates.services.record_rate",
        "rates.services.update_rate",
        "rates.services.delete_rate",
    }


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"rate": "0"}, "Rate: must be more than 0."),
        ({"rate": "abc"}, "Rate: “abc” is not a number"),
        ({"currency": "CAD"}, "1 CAD is always 1 CAD"),
    ],
)
def test_the_back_office_shows_the_refusals_on_the_form(back_office, business, values, message):
    before = _rows()
    response = back_office.post(reverse("admin:rates_exchangerate_add"), rate_data(**values))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert _rows() == before


def test_bulk_deletion_in_the_back_office_goes_through_the_operation(back_office, usd):
    response = back_office.post(
        reverse("admin:rates_exchangerate_changelist"),
        {"action": "delete_selected", "_selected_action": [usd.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not ExchangeRate.objects.filter(pk=usd.pk).exists()
    assert AuditRecord.objects.filter(operation="rates.services.delete_rate").exists()
