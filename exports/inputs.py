"""What an export is asked for: a format and a date range, read the one way the page, the
command and the API all read it. Each refusal names its field (SPEC: Bad input)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from otb.dates import clean_date
from otb.operations import InvalidInput

from .books import Books
from .formats import FORMATS, Format

# The dates the reports take too: the file names and the journal write four-digit years.
EARLIEST = datetime.date(1970, 1, 1)
LATEST = datetime.date(2999, 12, 31)


@dataclass(frozen=True)
class ExportRequest:
    format: Format
    start: datetime.date
    end: datetime.date

    def books(self, *, progress: Callable[[int], None] | None = None) -> Books:
        return Books.of(self.start, self.end, progress=progress)


def as_options(exc: InvalidInput) -> str:
    """A refusal as a command says it: each problem under its option (``--end: …``)."""
    return "\n".join(
        f"--{field}: {message}" for field, messages in exc.errors.items() for message in messages
    )


def format_keys() -> str:
    return ", ".join(FORMATS)


def clean_export(*, format_key: object, start: object, end: object) -> ExportRequest:
    """The format and range asked for, from text (a query string, a command's options) or
    dates. Every field is checked, so one refusal names all that is wrong."""
    errors: dict[str, list[str]] = {}
    export_format = None
    key = format_key.strip() if isinstance(format_key, str) else ""
    if not key:
        errors["format"] = [_("Format: choose one of %(keys)s.") % {"keys": format_keys()}]
    elif key not in FORMATS:
        errors["format"] = [
            _("Format: “%(value)s” is not an export format; choose one of %(keys)s.")
            % {"value": key[:40], "keys": format_keys()}
        ]
    else:
        export_format = FORMATS[key]
    first = _date(start, field="start", label=_("Start date"), errors=errors)
    last = _date(end, field="end", label=_("End date"), errors=errors)
    if first and last and last < first:
        errors["end"] = [
            _("End date: must be on or after the start date (%(start)s).")
            % {"start": first.isoformat()}
        ]
    if errors or export_format is None or first is None or last is None:
        raise InvalidInput(errors)
    return ExportRequest(format=export_format, start=first, end=last)


def _date(
    value: object, *, field: str, label: str, errors: dict[str, list[str]]
) -> datetime.date | None:
    try:
        day = clean_date(value, field=field, label=label)
    except InvalidInput as exc:
        errors.update(exc.errors)
        return None
    if day is not None and not EARLIEST <= day <= LATEST:
        errors[field] = [
            _("%(label)s: enter a date between %(first)s and %(last)s.")
            % {"label": label, "first": EARLIEST.isoformat(), "last": LATEST.isoformat()}
        ]
        return None
    return day


def last_year(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The last full calendar year: what an accountant asks for at the year's end."""
    return datetime.date(today.year - 1, 1, 1), datetime.date(today.year - 1, 12, 31)
