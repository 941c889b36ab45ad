import datetime
import re

from django import template
from django.utils import formats, timezone

register = template.Library()

# How a record keeps a time (audit.recording._plain): ISO 8601, in UTC.
_STORED_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(\+00:00|Z)")


@register.filter
def shown(value):
    """A recorded value as a person reads it: a time in the business's time zone (active
    for the request), with its zone; anything else as recorded."""
    if isinstance(value, str) and _STORED_TIME.fullmatch(value):
        moment = datetime.datetime.fromisoformat(value)
        return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")
    return value
