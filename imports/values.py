"""A cell's text as the value an operation takes: amounts, yes or no, countries. Each
refusal is an InvalidInput on the field, worded for the person who made the file."""

from __future__ import annotations

import functools
import gettext
import re
from decimal import Decimal
from typing import Any

import pycountry
from django.utils.translation import gettext as _
from django_countries import countries

from otb.numbers import NumberRefused, plain_decimal
from otb.operations import InvalidInput

_YES = frozenset({"1", "y", "yes", "true", "t", "x", "on", "active", "oui", "ja"})
_NO = frozenset({"0", "n", "no", "false", "f", "off", "inactive", "archived", "non", "nein"})
_SYMBOLS = re.compile(r"[$€£¥]")
# A no-break space groups thousands as a space does (a French spreadsheet writes 1 250,50).
_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " "})
_NUMBER = re.compile(r"[0-9][0-9., ]*|[.,][0-9]+")


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


def decimal_mark_of(delimiter: str) -> str:
    """The decimal mark a file's numbers most likely use: a comma in a file separated by
    semicolons (what a spreadsheet writes in a language whose decimal mark is a comma), else
    a point. It only decides a number that could be read either way (1.250, 1,250)."""
    return "," if delimiter == ";" else "."


def read_number(text: str, *, field: str, label: str, decimal_mark: str = ".") -> Decimal:
    """A number as a spreadsheet or a product writes it: 1250.5, 1,250.50, 1.250,50,
    1 250,50, -12, (12.00), with or without a currency sign; ASCII digits only. A single
    mark before exactly three digits (1.250, 1,250) could be a decimal mark or a thousands
    separator: the file's ``decimal_mark`` decides (``decimal_mark_of``)."""
    plain = _plain(text, decimal_mark)
    if plain is None:
        raise InvalidInput.single(
            field,
            _("%(label)s: “%(value)s” is not a number.") % {"label": label, "value": text[:40]},
        )
    try:
        return plain_decimal(plain, label=label, decimal_places=None, minimum=None)
    except NumberRefused as exc:
        raise InvalidInput.single(field, str(exc)) from None


def _plain(text: str, decimal_mark: str) -> str | None:
    """The number in plain notation ("-1250.50"), or None when the text is no number."""
    value = _SYMBOLS.sub("", text.translate(_SPACES)).strip()
    sign = ""
    if value.startswith("(") and value.endswith(")"):
        sign, value = "-", value[1:-1].strip()  # an accountant's negative: no sign inside
    elif value[:1] in ("+", "-"):
        sign, value = ("-" if value[0] == "-" else ""), value[1:].strip()
    if not value or not _NUMBER.fullmatch(value):
        return None
    marks = [mark for mark in dict.fromkeys(value) if mark in ",. "]
    if not marks:
        return sign + value
    last = max(value.rfind(mark) for mark in marks)
    if value[last] == " ":  # 1 250: spaces group thousands only
        return sign + value.replace(" ", "") if _grouped(value, " ") else None
    head, mark, tail = value[:last], value[last], value[last + 1 :]
    grouping = [other for other in marks if other != mark]
    if len(grouping) > 1 or mark in head:
        # 1,250,000 or 1.250.000: every mark groups thousands
        if grouping or not _grouped(value, mark):
            return None
        return sign + value.replace(mark, "")
    if grouping:  # 1,250.50, 1.250,50, 1 250,50: the last mark is the decimal one
        if not _grouped(head, grouping[0]):
            return None
        return f"{sign}{head.replace(grouping[0], '') or '0'}.{tail}"
    if len(tail) == 3 and re.fullmatch(r"[1-9][0-9]{0,2}", head) and mark != decimal_mark:
        return sign + head + tail  # 1.250 in a file whose decimal mark is a comma
    return f"{sign}{head or '0'}.{tail}"


def _grouped(text: str, mark: str) -> bool:
    """Digits in groups of three after the first: 1,250,000."""
    return re.fullmatch(rf"[0-9]{{1,3}}(?:{re.escape(mark)}[0-9]{{3}})+", text) is not None


# The names people write that no standard lists: abbreviations and the parts of a kingdom.
COUNTRY_ALIASES = {
    "uk": "GB",
    "u.k.": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "usa": "US",
    "u.s.a.": "US",
    "u.s.": "US",
    "america": "US",
    "holland": "NL",
    "uae": "AE",
}
# The languages whose names of countries a file may hold (ISO 3166 names in pycountry's
# translations, from Debian's iso-codes): the neighbours of the businesses we bill for.
COUNTRY_NAME_LANGUAGES = ("de", "fr", "es", "it", "nl", "pt", "sv", "da", "nb", "fi", "pl")


@functools.cache
def _country_names() -> dict[str, str]:
    """Every name of every country in COUNTRY_NAME_LANGUAGES, casefolded → its code."""
    names: dict[str, str] = {}
    for language in COUNTRY_NAME_LANGUAGES:
        try:
            catalog = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language])
        except OSError:
            continue
        for country in pycountry.countries:
            for name in (country.name, *_other_names(country)):
                names.setdefault(catalog.gettext(name).casefold(), country.alpha_2)
    return names


def _other_names(country: Any) -> list[str]:
    return [
        name
        for name in (getattr(country, "official_name", None), getattr(country, "common_name", None))
        if name
    ]


def read_country(text: str, *, field: str, label: str) -> str:
    """The two-letter code of a country written as a code (DE, DEU) or a name: in English,
    short or official ("Germany", "Federal Republic of Germany": Invoice Ninja's export
    writes the official one), as people shorten it (UK, USA), or in a neighbouring
    language ("Deutschland", "Royaume-Uni")."""
    value = text.strip()
    if len(value) == 2 and value.upper() in countries:
        return value.upper()
    try:
        return pycountry.countries.lookup(value).alpha_2
    except LookupError:
        pass
    folded = value.casefold()
    code = (
        COUNTRY_ALIASES.get(folded)
        or _country_names().get(folded)
        or countries.by_name(value, insensitive=True)
    )
    if code:
        return code
    raise InvalidInput.single(
        field,
        _("%(label)s: “%(value)s” is no country we know; write its two-letter code (DE, CA).")
        % {"label": label, "value": value[:60]},
    )
