"""Typing exchange rates in, changing and deleting them: the operations of rates.services."""

import datetime
from decimal import Decimal

import pytest

from audit.models import Action, AuditRecord
from otb.operations import InvalidInput, NotPermitted
from rates.models import SOURCE_TYPED, ExchangeRate
from rates.selectors import rate_on
from rates.services import delete_rate, record_rate, update_rate

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 12, 1)


def _rows():
    """Every stored rate with its values, to show nothing changed."""
    return list(ExchangeRate.objects.order_by("pk").values_list("pk", "currency", "date", "rate"))


def _rate(user, **overrides):
    values = {"currency": "USD", "date": DAY, "rate": "1.3625"} | overrides
    return record_rate(acting_user=user, **values)


def test_a_rate_is_recorded_for_the_base_currency(business, bookkeeper):
    rate = record_rate(acting_user=bookkeeper, currency="usd", date="2026-12-01", rate="1.3625")

    rate.refresh_from_db()
    assert (rate.base_currency, rate.currency, rate.date) == ("CAD", "USD", DAY)
    assert rate.rate == Decimal("1.3625")
    assert rate.source == SOURCE_TYPED
    assert rate.created_by == bookkeeper
    assert rate_on("USD", DAY + datetime.timedelta(days=3), base_currency="CAD") == rate
    record = AuditRecord.objects.get(object_type="rates.exchangerate")
    assert record.action == Action.CREATED
    assert record.operation == "rates.services.record_rate"
    assert record.after["rate"] == "1.3625000000"


def test_a_rate_keeps_ten_decimals(business, bookkeeper):
    rate = _rate(bookkeeper, currency="JPY", rate="0.0091234567")
    rate.refresh_from_db()
    assert rate.rate == Decimal("0.0091234567")


def test_recording_a_rate_again_for_the_same_day_changes_it(business, bookkeeper):
    first = _rate(bookkeeper)
    again = _rate(bookkeeper, rate="1.37", source="Bank of Canada")

    assert again.pk == first.pk
    assert ExchangeRate.objects.filter(currency="USD", date=DAY).count() == 1
    again.refresh_from_db()
    assert (again.rate, again.source) == (Decimal("1.37"), "Bank of Canada")
    change = AuditRecord.objects.get(action=Action.CHANGED)
    assert change.before["rate"] == "1.3625000000" and change.after["rate"] == "1.3700000000"


def test_a_rate_of_another_base_currency_is_left_alone(business, bookkeeper):
    business.default_currency = "EUR"
    business.save()
    euro = _rate(bookkeeper, rate="0.91")

    assert euro.base_currency == "EUR"
    assert ExchangeRate.objects.filter(currency="USD", date=DAY).count() == 1
    assert rate_on("USD", DAY, base_currency="CAD").rate == Decimal("1.35")  # the test rate


def test_an_empty_source_is_typed_in(business, bookkeeper):
    assert _rate(bookkeeper, source="  ").source == SOURCE_TYPED


def test_a_rate_is_changed(business, bookkeeper):
    rate = _rate(bookkeeper)
    changed = update_rate(
        rate_row=rate, acting_user=bookkeeper, rate="1.4", date="2026-12-02", source="Bank"
    )

    changed.refresh_from_db()
    assert (changed.pk, changed.rate, changed.date, changed.source) == (
        rate.pk,
        Decimal("1.4"),
        datetime.date(2026, 12, 2),
        "Bank",
    )
    record = AuditRecord.objects.get(operation="rates.services.update_rate")
    assert set(record.after) == {"rate", "date", "source"}


def test_a_rate_cannot_move_onto_a_day_that_has_one(business, bookkeeper):
    _rate(bookkeeper)
    other = _rate(bookkeeper, date=DAY + datetime.timedelta(days=1))
    before = _rows()

    with pytest.raises(InvalidInput) as refused:
        update_rate(rate_row=other, acting_user=bookkeeper, date=DAY)

    assert refused.value.field == "date"
    assert refused.value.message.startswith("Date: USD already has a rate on")
    assert _rows() == before


def test_a_rate_is_deleted(business, bookkeeper):
    rate = _rate(bookkeeper)
    delete_rate(rate_row=rate, acting_user=bookkeeper)

    assert not ExchangeRate.objects.filter(pk=rate.pk).exists()
    record = AuditRecord.objects.get(operation="rates.services.delete_rate")
    assert record.action == Action.DELETED and record.before["currency"] == "USD"
    # Deleted twice (a form sent again): nothing more to do.
    delete_rate(rate_row=rate, acting_user=bookkeeper)


BAD_INPUT = [
    ("currency", {"currency": "XYZ"}, "Currency: “XYZ” is not a currency OTB Billing offers"),
    ("currency", {"currency": "CAD"}, "1 CAD is always 1 CAD"),
    ("currency", {"currency": "cad "}, "1 CAD is always 1 CAD"),
    ("currency", {"currency": ""}, "Currency: this field is required."),
    ("currency", {"currency": None}, "Currency: this field is required."),
    ("rate", {"rate": "abc"}, "Rate: “abc” is not a number"),
    ("rate", {"rate": "1e5"}, "Rate: “1e5” is not a number"),
    ("rate", {"rate": "NaN"}, "Rate: “NaN” is not a number"),
    ("rate", {"rate": ""}, "Rate: this field is required."),
    ("rate", {"rate": "0"}, "Rate: must be more than 0."),
    ("rate", {"rate": "-1.35"}, "Rate: must be more than 0."),
    ("rate", {"rate": 1.35}, "Rate: give an exact decimal number, not a float."),
    ("rate", {"rate": "1.12345678901"}, "Rate: use at most 10 decimal places."),
    ("rate", {"rate": "10000000000"}, "Rate: must be at most 9999999999.9999999999."),
    ("rate", {"rate": "1" + "0" * 40}, "Rate: must be at most"),
    ("date", {"date": ""}, "Date: this field is required."),
    ("date", {"date": None}, "Date: this field is required."),
    ("date", {"date": "2026-02-30"}, "Date: “2026-02-30” is not a date; use YYYY-MM-DD."),
    ("date", {"date": "yesterday"}, "Date: “yesterday” is not a date"),
    ("date", {"date": datetime.datetime(2026, 12, 1, 9, 30)}, "Date: give a date, not a time."),
    ("source", {"source": "Bank\nof Canada"}, "Source: one line of text"),
    ("source", {"source": "x" * 101}, "Source: at most 100 characters."),
]


@pytest.mark.parametrize(("field", "values", "message"), BAD_INPUT)
def test_bad_input_is_refused_naming_the_field(business, bookkeeper, field, values, message):
    before = _rows()

    with pytest.raises(InvalidInput) as refused:
        _rate(bookkeeper, **values)

    assert refused.value.field == field
    assert message in refused.value.message
    assert _rows() == before
    assert not AuditRecord.objects.filter(object_type="rates.exchangerate").exists()


@pytest.mark.parametrize(("field", "values", "message"), BAD_INPUT)
def test_a_change_with_bad_input_is_refused_naming_the_field(
    business, bookkeeper, field, values, message
):
    rate = _rate(bookkeeper)
    before = _rows()

    with pytest.raises(InvalidInput) as refused:
        update_rate(rate_row=rate, acting_user=bookkeeper, **values)

    assert refused.value.field == field
    assert message in refused.value.message
    assert _rows() == before


def test_a_viewer_may_not_record_change_or_delete_rates(business, bookkeeper, viewer):
    rate = _rate(bookkeeper)
    before = _rows()

    with pytest.raises(NotPermitted):
        _rate(viewer, currency="EUR")
    with pytest.raises(NotPermitted):
        _rate(viewer)  # changing the day's rate by recording it again
    with pytest.raises(NotPermitted):
        update_rate(rate_row=rate, acting_user=viewer, rate="2")
    with pytest.raises(NotPermitted):
        delete_rate(rate_row=rate, acting_user=viewer)

    assert _rows() == before


def test_an_administrator_may_write_rates(business, administrator):
    rate = _rate(administrator)
    update_rate(rate_row=rate, acting_user=administrator, rate="1.4")
    delete_rate(rate_row=rate, acting_user=administrator)
    assert not ExchangeRate.objects.filter(currency="USD", date=DAY).exists()
