"""A cell's text as the value an operation takes: amounts, yes or no, countries. Each
refusal is an InvalidInput on the field, worded for the person who made the file."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

import pycountry
from django.utils.translation import gettext as _
from django_countries import countries

from otb.operations import InvalidInput

_YES = frozenset({"1", "y", "yes", "true", "t", "x", "on", "active", "oui", "ja"})
_NO = frozenset({"0", "n", "no", "false", "f", "off", "inactive", "archived", "non", "nein"})
_SYMBOLS = re.compile(r"[\s\u00a0\u202f$€£¥]")


def read_yes_no(text: str, *, field: str, label: str) -> bool:
    """Yes or no as people and products write it (1/0, true/false, yes/no, x, active)."""
    value = text.strip().casefold()
    if value in _YES:
        return True
    if value in _NO:
        return False
    raise InvalidInput.single(
        field,
        _("%(label)s: “%(value)s” is neither yes nor no (write yes, no, true, false, 1 or 0).")
        % {"label": label, "value": text[:40]},
    )


def read_number(text: str, *, field: str, label: str) -> Decimal:
    """A number as a spreadsheet writes it: 1250.5, 1,250.50, 1.250,50, 1 250,50, -12 or
    (12.00), with or without a currency sign. A lone comma before one or two digits is the
    decimal mark (12,5); before three it is ambiguous and refused."""
    value = _SYMBOLS.sub("", text)
    negative = value.startswith("(") and value.endswith(")")
    if negative:
        value = value[1:-1]
    if value.startswith("-"):
        negative, value = not negative, value[1:]
    elif value.startswith("+"):
        value = value[1:]
    whole, mark, fraction = _split(value)
    if whole is None and re.fullmatch(r"\d{1,3},\d{3}", value):
        raise InvalidInput.single(
            field,
            _("%(label)s: “%(value)s” could be a thousand or one; write %(plain)s or %(small)s.")
            % {
                "label": label,
                "value": text[:40],
                "plain": value.replace(",", ""),
                "small": value.replace(",", "."),
            },
        )
    if whole is None:
        raise InvalidInput.single(
            field,
            _("%(label)s: “%(value)s” is not a number.") % {"label": label, "value": text[:40]},
        )
    try:
        number = Decimal(f"{whole or '0'}{mark}{fraction}")
    except InvalidOperation:
        raise InvalidInput.single(
            field,
            _("%(label)s: “%(value)s” is not a number.") % {"label": label, "value": text[:40]},
        ) from None
    return -number if negative else number


def _split(value: str) -> tuple[str | None, str, str]:
    """(digits before the decimal mark, "." or "", digits after it), or (None, "", "") when
    the text is no number or its reading is ambiguous."""
    marks = [c for c in dict.fromkeys(value) if c in ",."]
    if not marks:
        return (value, "", "") if value.isdigit() else (None, "", "")
    decimal_mark = value[max(value.rfind(","), value.rfind("."))]
    head, _mark, tail = value.rpartition(decimal_mark)
    if len(marks) == 2:  # 1,250.50 or 1.250,50: the last mark is the decimal one
        group = marks[0]
        if not tail.isdigit() or not (head.isdigit() or _grouped(head, group)):
            return None, "", ""
        return head.replace(group, ""), ".", tail
    if value.count(decimal_mark) > 1:  # 1,250,000 or 1.250.000: groups of thousands
        return (
            (value.replace(decimal_mark, ""), "", "")
            if _grouped(value, decimal_mark)
            else (
                None,
                "",
                "",
            )
        )
    if not tail.isdigit() or not (head.isdigit() or head == ""):
        return None, "", ""
    if decimal_mark == "," and len(tail) == 3:
        return None, "", ""  # 1,250: a thousand and a quarter, or one and a quarter?
    return head, ".", tail


def _grouped(text: str, mark: str) -> bool:
    return re.fullmatch(rf"\d{{1,3}}(?:{re.escape(mark)}\d{{3}})+", text) is not None


def read_country(text: str, *, field: str, label: str) -> str:
    """The two-letter code of a country written as a code (DE, DEU) or a name, short or
    official, in English: "Germany", "Federal Republic of Germany" (Invoice Ninja's export
    writes the official name)."""
    value = text.strip()
    if len(value) == 2 and value.upper() in countries:
        return value.upper()
    try:
        return pycountry.countries.lookup(value).alpha_2
    except LookupError:
        pass
    code = countries.by_name(value, insensitive=True)
    if code:
        return code
    raise InvalidInput.single(
        field,
        _("%(label)s: “%(value)s” is no country we know; write its two-letter code (DE, CA).")
        % {"label": label, "value": value[:60]},
    )
