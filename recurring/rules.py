"""The rules of SPEC.md "Recurring invoices", each in one function: which dates a schedule
bills, when it ends, which of its parts are fixed, and what a line says of its period."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.utils import formats
from django.utils.translation import gettext as _

from otb.operations import field_label

from .dates import Recurrence, is_last_day_of_month, last_day_of_month
from .models import DayRule, EndKind, IntervalUnit, Pause

# What may not change once a schedule has begun (SPEC: start, interval and day rule, once it
# has made an invoice; and, as for a sent quote, the client and currency its invoices went
# to). A skipped date counts as a beginning too: its index is counted from the start.
FIXED_ONCE_INVOICED = (
    "start_date",
    "interval_count",
    "interval_unit",
    "day_rule",
    "client",
    "currency",
)


def _date(day: datetime.date | None) -> str:
    return formats.date_format(day) if day is not None else ""


def recurrence_problem(recurrence: Recurrence) -> tuple[str, str] | None:
    """(field, message) when start, interval and day rule do not make a schedule."""
    if recurrence.day_rule == DayRule.LAST_DAY:
        if recurrence.unit == IntervalUnit.WEEK:
            return "day_rule", _(
                "Day of the month: a schedule every few weeks bills on its start's weekday; "
                "choose “the start's day”."
            )
        if not is_last_day_of_month(recurrence.start):
            return "start_date", _(
                "Start date: with “always the month's last day”, the start (the first "
                "invoice's date) is a month's last day, such as %(date)s."
            ) % {"date": _date(last_day_of_month(recurrence.start))}
    return None


def fixed_change_refusal(schedule: Any, changing: Iterable[str]) -> tuple[str, str] | None:
    """(field, message) when ``changing`` touches what a schedule keeps once it has begun
    (``FIXED_ONCE_INVOICED``): its first occurrence is recorded, an invoice made or a date
    skipped, and the dates after it are counted from the same start."""
    fixed = [field for field in FIXED_ONCE_INVOICED if field in set(changing)]
    if not fixed or not schedule.occurrences.exists():
        return None
    return fixed[0], _(
        "%(field)s: schedule “%(name)s” has begun billing, so its start, interval, day rule, "
        "client and currency stay as they are. To change them, end it and start a new one."
    ) % {"field": field_label(schedule, fixed[0]), "name": schedule.name}


def end_problem(
    *, end_kind: str, end_after: int | None, end_date: datetime.date | None, start: datetime.date
) -> tuple[str, str] | None:
    """(field, message) when the end a user gave does not fit the schedule."""
    if end_kind == EndKind.AFTER and not end_after:
        return "end_after", _("Number of invoices: give how many invoices the schedule makes.")
    if end_kind == EndKind.ON_DATE:
        if end_date is None:
            return "end_date", _("End date: give the date of the last possible invoice.")
        if end_date < start:
            return "end_date", _("End date: cannot be before the start date (%(date)s).") % {
                "date": _date(start)
            }
    return None


def end_reason(schedule: Any, *, made: int, next_date: datetime.date | None) -> str | None:
    """Why ``schedule`` has nothing more to bill, or None: it made its N invoices ("after
    N invoices" counts invoices made), its next date is past its end date, or past the
    calendar's end."""
    if schedule.end_kind == EndKind.AFTER and schedule.end_after and made >= schedule.end_after:
        return _("It made its %(count)d invoices.") % {"count": schedule.end_after}
    if next_date is None:
        return _("Its dates ran past the calendar's end.")
    if (
        schedule.end_kind == EndKind.ON_DATE
        and schedule.end_date is not None
        and next_date > schedule.end_date
    ):
        return _("Its end date, %(date)s, has passed.") % {"date": _date(schedule.end_date)}
    return None


def paused_on(pauses: Iterable[Pause], day: datetime.date) -> Pause | None:
    """The pause ``day`` falls in, if any: its occurrence is skipped, whenever the run
    happens (SPEC)."""
    return next((pause for pause in pauses if pause.covers(day)), None)


def pause_problem(
    *,
    starts_on: datetime.date,
    last_recorded: datetime.date | None,
    last_resumed: datetime.date | None = None,
) -> tuple[str, str] | None:
    """A pause cannot cover a date whose occurrence is already recorded, nor reach back
    into the previous pause (pauses never overlap: each date is in one at most)."""
    if last_recorded is not None and starts_on <= last_recorded:
        return "starts_on", _(
            "Paused from: the occurrence of %(date)s is already recorded; pause from the day "
            "after it or later."
        ) % {"date": _date(last_recorded)}
    if last_resumed is not None and starts_on < last_resumed:
        return "starts_on", _(
            "Paused from: the schedule was last resumed on %(date)s; pause from that day or later."
        ) % {"date": _date(last_resumed)}
    return None


def resume_problem(
    *,
    pause: Pause,
    ends_on: datetime.date,
    today: datetime.date,
    last_recorded: datetime.date | None,
) -> tuple[str, str] | None:
    """A pause ends on a day from its start to today (a resume is not planned ahead: the
    schedule would show active while still skipping), and never before a date the run has
    already recorded as skipped in it: that date stays skipped whenever the run happened."""
    if ends_on < pause.starts_on:
        return "ends_on", _("Resume on: cannot be before the pause began (%(date)s).") % {
            "date": _date(pause.starts_on)
        }
    if ends_on > today:
        return "ends_on", _(
            "Resume on: cannot be after today (%(date)s); resume the schedule on the day its "
            "invoices start again."
        ) % {"date": _date(today)}
    if last_recorded is not None and ends_on <= last_recorded:
        return "ends_on", _(
            "Resume on: the occurrence of %(date)s is already recorded as skipped; resume on "
            "the day after it or later."
        ) % {"date": _date(last_recorded)}
    return None


def resume_default(*, today: datetime.date, last_recorded: datetime.date | None) -> datetime.date:
    """The day a resume takes effect when none is given: today, or the day after the last
    recorded (skipped) date when the run recorded today already."""
    if last_recorded is not None and last_recorded >= today:
        return last_recorded + datetime.timedelta(days=1)
    return today


def period_values(day: datetime.date, next_day: datetime.date | None) -> dict[str, str]:
    """What a template line's ``{period}``, ``{month}`` and ``{year}`` say for the
    occurrence on ``day``: its month and year, and the period it opens, up to the day
    before the next occurrence."""
    end = (next_day - datetime.timedelta(days=1)) if next_day is not None else None
    period = _date(day) if end is None or end <= day else f"{_date(day)} – {_date(end)}"
    return {
        "period": period,
        "month": formats.date_format(day, "F"),
        "year": str(day.year),
    }


def fill_period(text: str, values: dict[str, str]) -> str:
    """``text`` with each known placeholder replaced; any other braces stay as typed."""
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text


def upcoming(
    schedule: Any,
    *,
    made: int,
    pauses: Iterable[Pause],
    until: datetime.date | None = None,
    count: int | None = None,
) -> list[tuple[datetime.date, str]]:
    """The schedule's next occurrences from ``next_index``, as a run would record them:
    (date, "invoice" or "paused"), up to ``until`` or ``count`` dates, stopping where its
    end is reached. The page's next dates, and a dry run's plan."""
    if schedule.state == "ended":
        return []
    recurrence = Recurrence.of(schedule)
    pauses = list(pauses)
    found: list[tuple[datetime.date, str]] = []
    for _index, day in recurrence.dates(schedule.next_index):
        if end_reason(schedule, made=made, next_date=day):
            break
        if (until is not None and day > until) or (count is not None and len(found) >= count):
            break
        if paused_on(pauses, day):
            found.append((day, "paused"))
        else:
            found.append((day, "invoice"))
            made += 1
    return found
