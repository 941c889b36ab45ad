"""The ECB's euro foreign exchange reference rates: reading the files the ECB publishes, and
the rule that turns a day's euro rates into rates in the business's base currency (SPEC:
Currencies and exchange rates). No database: bytes in, rates out.

The files, all from https://www.ecb.europa.eu/stats/eurofxref/:

- XML: eurofxref-daily.xml (the last day), eurofxref-hist-90d.xml and eurofxref-hist.xml; a
  gesmes:Envelope holding ``<Cube time="YYYY-MM-DD">`` days of ``<Cube currency= rate=>``.
- the history CSV (in eurofxref-hist.zip): ``Date,USD,JPY,...,`` then a row a day,
  ``2026-10-30,1.1172,...,`` with ``N/A`` where a currency had no rate that day;
- the daily CSV (in eurofxref.zip): ``Date, USD, JPY, ...`` then ``30 October 2026, 1.1172, ...``;
- a zip holding one such file, as the ECB serves the CSVs.

Every rate is how much of the currency one euro buys.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import re
import zipfile
from collections.abc import Mapping
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException  # type: ignore[import-untyped]
from defusedxml.ElementTree import fromstring  # type: ignore[import-untyped]
from django.utils.translation import gettext as _

from otb.currencies import CURRENCIES

from .models import RATE_DECIMALS, RATE_DIGITS

EURO = "EUR"
NAMESPACE = "http://www.ecb.int/vocabulary/2002-08-01/eurofxref"
CUBE = f"{{{NAMESPACE}}}Cube"

# A day's euro rates: currency -> how much of it one euro buys, by date.
EuroRates = dict[datetime.date, dict[str, Decimal]]

# What a rate column holds: DECIMAL(20,10), so less than 10**10.
RATE_LIMIT = Decimal(10) ** (RATE_DIGITS - RATE_DECIMALS)
RATE_STEP = Decimal(1).scaleb(-RATE_DECIMALS)
# The largest file a zip may unpack to: the ECB's whole history as CSV is about 2 MB.
MAX_UNZIPPED_BYTES = 50 * 1024 * 1024

CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")
# The daily CSV's dates ("30 October 2026") are in English whatever the locale.
MONTHS = {
    name: number
    for number, name in enumerate(
        [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ],
        start=1,
    )
}


class EcbFileError(ValueError):
    """The bytes are not a readable file of the ECB's euro reference rates; the message
    names what is wrong, and where."""


def parse(content: bytes) -> EuroRates:
    """The euro rates of each day of an ECB file (XML, CSV, or a zip of one of them)."""
    if not content.strip():
        raise EcbFileError(_("The file is empty."))
    if zipfile.is_zipfile(io.BytesIO(content)):
        content = _unzipped(content)
        if not content.strip():
            raise EcbFileError(_("The file in the zip is empty."))
    if content.removeprefix(codecs.BOM_UTF8).lstrip().startswith(b"<"):
        rates = _parse_xml(content)
    else:
        rates = _parse_csv(_text(content))
    if not rates:
        raise EcbFileError(_("The file holds no day of rates."))
    return rates


def crosses(euro_rates: Mapping[str, Decimal], *, base: str) -> dict[str, Decimal] | None:
    """One day's rates in ``base``: for each currency the product offers, other than the
    base, that the day has a euro rate for (the euro itself included), how much of the base
    one unit of it is worth. None when the day has no rate for the base: nothing can be
    worked out for that day.

    With EURX the euro rate of X (EUREUR = 1), the rate of X in B is EURB / EURX, rounded
    half-up to RATE_DECIMALS: so the euro in B is EURB, and X in euros is 1 / EURX."""
    euro_rates = {**euro_rates, EURO: Decimal(1)}
    if base not in euro_rates:
        return None
    return {
        currency: _cross(euro_rates[base], rate, currency=currency, base=base)
        for currency, rate in euro_rates.items()
        if currency != base and currency in CURRENCIES
    }


def _cross(base_rate: Decimal, rate: Decimal, *, currency: str, base: str) -> Decimal:
    # Below RATE_LIMIT, 2 * RATE_DIGITS significant digits reach well past the 11th decimal.
    # Cut there (not rounded), the quotient rounds half-up exactly as the true one would:
    # only its 11th decimal decides, and cutting leaves that digit as it is.
    with localcontext() as context:
        context.prec = 2 * RATE_DIGITS
        context.rounding = ROUND_DOWN
        quotient = base_rate / rate
    cross = quotient.quantize(RATE_STEP, rounding=ROUND_HALF_UP) if quotient < RATE_LIMIT else 0
    if not 0 < cross < RATE_LIMIT:
        raise EcbFileError(
            _("1 %(currency)s = %(rate)s %(base)s is out of the range a rate can hold.")
            % {"currency": currency, "rate": f"{quotient:f}", "base": base}
        )
    return Decimal(cross)


# --- The layouts ------------------------------------------------------------------------------
def _not_ecb(why: str) -> str:
    return _("This is not a file of the ECB's euro reference rates (XML, CSV or zip): %s.") % why


def _too_big_in_zip(name: str) -> str:
    return _("%(name)s in the zip is too big to be an ECB file (more than %(mb)d MB).") % {
        "name": name,
        "mb": MAX_UNZIPPED_BYTES // (1024 * 1024),
    }


def _unzipped(content: bytes) -> bytes:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            files = [info for info in archive.infolist() if not info.is_dir()]
            if len(files) != 1:
                raise EcbFileError(
                    _("The zip holds %(count)d files; an ECB zip holds one CSV or XML file.")
                    % {"count": len(files)}
                )
            if files[0].file_size > MAX_UNZIPPED_BYTES:
                raise EcbFileError(_too_big_in_zip(files[0].filename))
            with archive.open(files[0]) as member:
                # Read no more than it said: a zip can lie about its sizes.
                unpacked = member.read(MAX_UNZIPPED_BYTES + 1)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError) as exc:
        raise EcbFileError(_("The zip cannot be read: %(error)s.") % {"error": exc}) from None
    if len(unpacked) > MAX_UNZIPPED_BYTES:
        raise EcbFileError(_too_big_in_zip(files[0].filename))
    if zipfile.is_zipfile(io.BytesIO(unpacked)):
        raise EcbFileError(_not_ecb(_("the zip holds another zip")))
    return unpacked


def _text(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise EcbFileError(_not_ecb(_("it is not text"))) from None


def _parse_xml(content: bytes) -> EuroRates:
    try:
        root = fromstring(content)
    except ParseError as exc:
        raise EcbFileError(
            _("The file is not valid XML (%(error)s): is it cut short?") % {"error": exc}
        ) from None
    except DefusedXmlException as exc:
        raise EcbFileError(_not_ecb(_("its XML is refused (%(error)s)") % {"error": exc})) from None
    outer = root.find(CUBE)
    if outer is None:
        raise EcbFileError(
            _not_ecb(_("its XML has no Cube in the namespace %(ns)s") % {"ns": NAMESPACE})
        )
    days: EuroRates = {}
    for number, day in enumerate(outer.findall(CUBE), start=1):
        where = _("in the day number %(number)d of the file (Cube time=)") % {"number": number}
        date = _date(day.get("time"), where=where)
        if date in days:
            raise EcbFileError(_("The day %(date)s is in the file twice.") % {"date": date})
        days[date] = _xml_rates(day, date)
    return days


def _xml_rates(day: Element, date: datetime.date) -> dict[str, Decimal]:
    rates: dict[str, Decimal] = {}
    for cube in day.findall(CUBE):
        currency = _currency(cube.get("currency"), where=_("in the rates of %s") % date)
        if currency in rates:
            raise EcbFileError(
                _("%(currency)s has two rates on %(date)s.") % {"currency": currency, "date": date}
            )
        rates[currency] = _rate(cube.get("rate"), currency=currency, date=date)
    return rates


def _parse_csv(text: str) -> EuroRates:
    rows = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [cell.strip() for cell in next(rows)]
    except (StopIteration, csv.Error):
        header = []
    if not header or header[0] != "Date":
        first = text.splitlines()[0][:60] if text.strip() else ""
        raise EcbFileError(
            _not_ecb(_("its first line should start with “Date,”, not “%s”") % first)
        )
    while header and not header[-1]:
        header.pop()  # the ECB ends every line with a comma
    currencies = [_currency(code, where=_("in the first line")) for code in header[1:]]
    if len(set(currencies)) != len(currencies):
        raise EcbFileError(_("A currency is named twice in the first line."))
    days: EuroRates = {}
    try:
        for row in rows:
            values = [cell.strip() for cell in row]
            while values and not values[-1]:
                values.pop()
            if not values:
                continue
            line = rows.line_num
            if len(values) > len(header):
                raise EcbFileError(
                    _("Line %(line)d has %(values)d values for the %(columns)d columns.")
                    % {"line": line, "values": len(values), "columns": len(header)}
                )
            date = _date(values[0], where=_("on line %d") % line)
            if date in days:
                raise EcbFileError(
                    _("The day %(date)s is in the file twice (line %(line)d).")
                    % {"date": date, "line": line}
                )
            days[date] = {
                currency: _rate(value, currency=currency, date=date)
                for currency, value in zip(currencies, values[1:], strict=False)
                if value not in ("", "N/A")
            }
    except csv.Error as exc:
        raise EcbFileError(
            _("Line %(line)d cannot be read as CSV: %(error)s.")
            % {"line": rows.line_num, "error": exc}
        ) from None
    return days


# --- The values -----------------------------------------------------------------------------
def _date(value: str | None, *, where: str) -> datetime.date:
    """A date as the ECB writes it: 2026-10-30 (XML, history CSV) or 30 October 2026."""
    text = (value or "").strip()
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        pass
    day, _space, rest = text.partition(" ")
    month, _space, year = rest.partition(" ")
    try:
        if day.isdigit() and year.isdigit() and month in MONTHS:
            return datetime.date(int(year), MONTHS[month], int(day))
    except ValueError:
        pass
    raise EcbFileError(
        _("Bad date “%(date)s” %(where)s: the ECB writes 2026-10-30 or 30 October 2026.")
        % {"date": text, "where": where}
    )


def _currency(value: str | None, *, where: str) -> str:
    code = (value or "").strip()
    if not CURRENCY_CODE.match(code):
        raise EcbFileError(
            _("Bad currency code “%(code)s” %(where)s: a code is like USD.")
            % {"code": code, "where": where}
        )
    return code


def _rate(value: str | None, *, currency: str, date: datetime.date) -> Decimal:
    text = (value or "").strip()
    try:
        rate = Decimal(text)
    except InvalidOperation:
        rate = None
    if rate is None or not rate.is_finite() or not 0 < rate < RATE_LIMIT:
        raise EcbFileError(
            _(
                "Bad rate “%(rate)s” for %(currency)s on %(date)s: a rate is a number greater "
                "than 0 and less than %(limit)s."
            )
            % {"rate": text, "currency": currency, "date": date, "limit": f"{RATE_LIMIT:f}"}
        )
    return rate
