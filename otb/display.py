"""How recorded values read on a page: {% load display %}."""

import datetime
import re
from decimal import Decimal

from django import template
from django.utils import formats, timezone

from otb.numbers import format_number

register = template.Library()

# How a record keeps a time (audit.recording._plain): ISO 8601, in UTC.
_STORED_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(\+00:00|Z)")
_STORED_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_STORED_NUMBER = re.compile(r"-?\d+\.(\d+)")


@register.filter
def shown(value):
    """A recorded value as a person reads it, as the pages write it: a time in the
    business's time zone (active for the request) with its zone, a date in the language's
    style, a number grouped without its stored zeros ("12.500" -> "12.50"); anything else as
    recorded. A list reads as its items, a mapping as "name: value" pairs."""
    if isinstance(value, list):
        return "; ".join(str(shown(item)) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{name}: {shown(item)}" for name, item in value.items())
    if not isinstance(value, str):
        return value
    if _STORED_TIME.fullmatch(value):
        moment = datetime.datetime.fromisoformat(value)
        return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")
    if _STORED_DATE.fullmatch(value):
        try:
            return formats.date_format(datetime.date.fromisoformat(value))
        except ValueError:
            return value
    number = _STORED_NUMBER.fullmatch(value)
    if number:
        return format_number(Decimal(value), min_places=min(2, len(number.group(1))))
    return value
