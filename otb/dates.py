"""Turning what a user typed into a date, for the operations of every app (SPEC: Bad input):
each refusal names the field and says what is wrong."""

from __future__ import annotations

import datetime

from django.utils.translation import gettext as _

from otb.operations import InvalidInput


def clean_date(value, *, field: str, label: str, required: bool = True) -> datetime.date | None:
    """A date from a date or from text in ISO form (YYYY-MM-DD); None for nothing given,
    unless ``required``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidInput.single(
                field, _("%(label)s: this field is required.") % {"label": label}
            )
        return None
    if isinstance(value, datetime.datetime):
        raise InvalidInput.single(
            field, _("%(label)s: give a date, not a time.") % {"label": label}
        )
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidInput.single(
            field,
            _("%(label)s: “%(value)s” is not a date; use YYYY-MM-DD.")
            % {"label": label, "value": str(value)[:40]},
        ) from None


def days_after(date: datetime.date, days: int, *, field: str, label: str) -> datetime.date:
    """``date`` + ``days``, or a refusal naming ``field`` when that is past the last date
    there is (a date typed in the last days of the year 9999)."""
    try:
        return date + datetime.timedelta(days=days)
    except OverflowError:
        raise InvalidInput.single(
            field,
            _("%(label)s: %(date)s leaves no date %(days)d days after it; check the year.")
            % {"label": label, "date": date.isoformat(), "days": days},
        ) from None
