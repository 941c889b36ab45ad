"""The dates of a schedule against an independent computation (SPEC: Recurring invoices:
counted from the start, clamped to the month's end)."""

import calendar
import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from recurring.dates import Recurrence
from recurring.models import DayRule, IntervalUnit


def d(text):
    return datetime.date.fromisoformat(text)


def dates(recurrence, count):
    return [recurrence.date(k) for k in range(count)]


def test_monthly_from_31_january_clamps_each_month_without_drifting():
    monthly = Recurrence(start=d("2027-01-31"), unit=IntervalUnit.MONTH)
    assert dates(monthly, 5) == [
        d("2027-01-31"),
        d("2027-02-28"),
        d("2027-03-31"),
        d("2027-04-30"),
        d("2027-05-31"),
    ]


def test_a_leap_year_february_gets_its_29th():
    monthly = Recurrence(start=d("2028-01-31"), unit=IntervalUnit.MONTH)
    assert monthly.date(1) == d("2028-02-29")
    assert monthly.date(2) == d("2028-03-31")


def test_yearly_from_29_february_is_28_february_then_29_again_in_a_leap_year():
    yearly = Recurrence(start=d("2028-02-29"), unit=IntervalUnit.YEAR)
    assert dates(yearly, 5) == [
        d("2028-02-29"),
        d("2029-02-28"),
        d("2030-02-28"),
        d("2031-02-28"),
        d("2032-02-29"),
    ]


def test_quarterly_from_30_november():
    quarterly = Recurrence(start=d("2026-11-30"), unit=IntervalUnit.QUARTER)
    assert dates(quarterly, 5) == [
        d("2026-11-30"),
        d("2027-02-28"),
        d("2027-05-30"),
        d("2027-08-30"),
        d("2027-11-30"),
    ]


def test_last_day_rule_follows_each_month_end():
    last = Recurrence(start=d("2027-02-28"), unit=IntervalUnit.MONTH, day_rule=DayRule.LAST_DAY)
    assert dates(last, 4) == [d("2027-02-28"), d("2027-03-31"), d("2027-04-30"), d("2027-05-31")]
    # The start's day instead: 28 every month.
    same = Recurrence(start=d("2027-02-28"), unit=IntervalUnit.MONTH)
    assert dates(same, 3) == [d("2027-02-28"), d("2027-03-28"), d("2027-04-28")]


def test_every_two_weeks():
    fortnightly = Recurrence(start=d("2026-12-28"), unit=IntervalUnit.WEEK, count=2)
    assert dates(fortnightly, 3) == [d("2026-12-28"), d("2027-01-11"), d("2027-01-25")]


def test_dates_past_the_calendar_end_are_none():
    yearly = Recurrence(start=d("9998-06-30"), unit=IntervalUnit.YEAR)
    assert yearly.date(1) == d("9999-06-30")
    assert yearly.date(2) is None
    assert list(yearly.dates()) == [(0, d("9998-06-30")), (1, d("9999-06-30"))]


MONTHS = {IntervalUnit.MONTH: 1, IntervalUnit.QUARTER: 3, IntervalUnit.YEAR: 12}


def expected(start, unit, count, day_rule, k):
    """Worked out with ordinals and month numbers, not with dateutil."""
    if unit == IntervalUnit.WEEK:
        ordinal = start.toordinal() + 7 * count * k
        return (
            datetime.date.fromordinal(ordinal) if ordinal <= datetime.date.max.toordinal() else None
        )
    month_number = start.year * 12 + (start.month - 1) + MONTHS[unit] * count * k
    year, month = divmod(month_number, 12)
    month += 1
    if year > datetime.MAXYEAR:
        return None
    last = calendar.monthrange(year, month)[1]
    return datetime.date(
        year, month, last if day_rule == DayRule.LAST_DAY else min(start.day, last)
    )


@settings(max_examples=500, deadline=None)
@given(
    start=st.dates(min_value=datetime.date(1990, 1, 1), max_value=datetime.date(2200, 12, 31)),
    unit=st.sampled_from(list(IntervalUnit)),
    count=st.integers(min_value=1, max_value=36),
    last_day=st.booleans(),
    k=st.integers(min_value=0, max_value=400),
)
def test_each_date_is_counted_from_the_start(start, unit, count, last_day, k):
    day_rule = DayRule.LAST_DAY if last_day and unit != IntervalUnit.WEEK else DayRule.START_DAY
    if day_rule == DayRule.LAST_DAY:
        start = start.replace(day=calendar.monthrange(start.year, start.month)[1])
    recurrence = Recurrence(start=start, unit=unit, count=count, day_rule=day_rule)
    assert recurrence.date(k) == expected(start, unit, count, day_rule, k)
    # Never drifting: the date is the same whether reached step by step or at once.
    if k and recurrence.date(k) is not None:
        assert recurrence.date(k) > recurrence.date(k - 1)
