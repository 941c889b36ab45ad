"""The dates of a schedule (SPEC: Recurring invoices). Occurrence k (k = 0, 1, 2, ...; the
start itself is occurrence 0) falls on start + k × interval, always counted from the start,
never from the previous occurrence, so a clamped day never drifts: monthly from 31 January
gives 28 (or 29) February, then 31 March, 30 April."""

from __future__ import annotations

import calendar
import datetime
from collections.abc import Iterator
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta

from .models import DayRule, IntervalUnit

MONTHS_PER_UNIT = {IntervalUnit.MONTH: 1, IntervalUnit.QUARTER: 3, IntervalUnit.YEAR: 12}


@dataclass(frozen=True)
class Recurrence:
    """What decides a schedule's dates: fixed once it has made an invoice."""

    start: datetime.date
    unit: str
    count: int = 1
    day_rule: str = DayRule.START_DAY

    @classmethod
    def of(cls, schedule) -> Recurrence:
        return cls(
            start=schedule.start_date,
            unit=schedule.interval_unit,
            count=schedule.interval_count,
            day_rule=schedule.day_rule,
        )

    def date(self, index: int) -> datetime.date | None:
        """The date of occurrence ``index``; None past the calendar's end (year 9999)."""
        try:
            if self.unit == IntervalUnit.WEEK:
                return self.start + datetime.timedelta(weeks=self.count * index)
            months = MONTHS_PER_UNIT[IntervalUnit(self.unit)] * self.count * index
            # relativedelta clamps the day to the month's last: 31 Jan + 1 month = 28 Feb.
            day = self.start + relativedelta(months=months)
        except (OverflowError, ValueError):
            return None
        if self.day_rule == DayRule.LAST_DAY:
            return last_day_of_month(day)
        return day

    def dates(self, first: int = 0) -> Iterator[tuple[int, datetime.date]]:
        """(index, date) of every occurrence from ``first`` on, until the calendar ends."""
        index = first
        while (day := self.date(index)) is not None:
            yield index, day
            index += 1


def last_day_of_month(day: datetime.date) -> datetime.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def is_last_day_of_month(day: datetime.date) -> bool:
    return day == last_day_of_month(day)
