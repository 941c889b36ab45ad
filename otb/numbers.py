"""Numbers as people type them: plain decimal notation only (SPEC: Bad input).

Python's Decimal also reads "1e5", "Infinity", "NaN" and digits of other scripts; a billing
clerk who types "1e5" into an amount means a typo, not 100,000.00. Every amount, quantity,
price, rate and discount field reads its text through ``plain_decimal`` (the pages' and the
admin's form fields, the operations, the API's fields), so all of them refuse the same input
with the same message.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

# ASCII digits only: Decimal() would also take "١٢٣".
_PLAIN = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)", re.ASCII)


class NumberRefused(ValueError):
    """Why the text is not an acceptable number, as a sentence naming the field."""


def parse_plain(text: str) -> Decimal | None:
    """The number ``text`` writes in plain decimal notation ("1234.5", "-3", ".25",
    surrounding spaces allowed); None for anything else ("1e5", "1,000", "Infinity")."""
    text = text.strip()
    if not _PLAIN.fullmatch(text):
        return None
    return Decimal(text)


def not_plain_message(label: Any, value: Any) -> str:
    return _("%(label)s: “%(value)s” is not a number; write it like 1234.56.") % {
        "label": label,
        "value": str(value)[:40],
    }


def plain_decimal(
    value: Any,
    *,
    label: Any,
    decimal_places: int | None,
    minimum: Decimal | None = Decimal(0),
    maximum: Decimal | None = None,
    minimum_exclusive: bool = False,
) -> Decimal:
    """A Decimal with ``decimal_places`` places from text in plain notation, an int or a
    Decimal (as it is when ``decimal_places`` is None); never from a float, which cannot hold
    amounts of money exactly. Raises
    NumberRefused with a message that names the field (``label``) and says what is wrong."""
    if isinstance(value, bool):
        raise NumberRefused(not_plain_message(label, value))
    if isinstance(value, float):
        raise NumberRefused(
            _("%(label)s: give an exact decimal number, not a float.") % {"label": label}
        )
    if value is None or (isinstance(value, str) and not value.strip()):
        raise NumberRefused(_("%(label)s: this field is required.") % {"label": label})
    if isinstance(value, Decimal):
        number: Decimal | None = value
    elif isinstance(value, int):
        number = Decimal(value)
    else:
        number = parse_plain(str(value))
    if number is None:
        raise NumberRefused(not_plain_message(label, value))
    if not number.is_finite():
        raise NumberRefused(_("%(label)s: enter a finite number.") % {"label": label})
    if minimum is not None and (number <= minimum if minimum_exclusive else number < minimum):
        message = (
            _("%(label)s: must be more than %(min)s.")
            if minimum_exclusive
            else _("%(label)s: must be at least %(min)s.")
        )
        raise NumberRefused(message % {"label": label, "min": plain_text(minimum)})
    if maximum is not None and number > maximum:
        raise NumberRefused(
            _("%(label)s: must be at most %(max)s.") % {"label": label, "max": plain_text(maximum)}
        )
    # Before quantize(), which raises on numbers of more than 28 digits.
    if abs(number) >= Decimal(10) ** 20:
        raise NumberRefused(_("%(label)s: the number is too large.") % {"label": label})
    if decimal_places is None:
        return number
    step = Decimal(1).scaleb(-decimal_places)
    if number != number.quantize(step):
        raise NumberRefused(
            _("%(label)s: use at most %(n)d decimal places.")
            % {"label": label, "n": decimal_places}
        )
    return number.quantize(step)


def largest(*, max_digits: int, decimal_places: int) -> Decimal:
    """The largest number a DECIMAL(max_digits, decimal_places) column holds."""
    return Decimal(10) ** (max_digits - decimal_places) - Decimal(1).scaleb(-decimal_places)


def plain_text(number: Decimal) -> str:
    """A number as a form shows it back: plain notation, no trailing zeros ("12.5", "95",
    "0.0125"), never "1E+2"."""
    text = f"{number:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def format_number(value: Decimal, *, min_places: int = 0) -> str:
    """How pages, PDFs and e-mails write a quantity or price: grouped thousands, no trailing
    zeros beyond ``min_places``: 1.500 -> "1.5", 6400 -> "6,400.00" (min_places=2),
    0.6125 -> "0.6125". The one place to change for locales, beside ``format_money``."""
    value = Decimal(value)
    places = max(min_places, places_of(value.normalize()))
    return f"{value:,.{places}f}"


def places_of(value: Decimal) -> int:
    """How many digits ``value`` has after the point, as written (1.50 has 2, 1E+2 has 0).
    For a finite number; an infinity or NaN has none."""
    exponent = value.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0
