"""Importing the ECB's euro reference rates (SPEC: Currencies and exchange rates): read a file
or an address (``fetch_source``), check all of it, then store its rates in the business's base
currency (``import_rates``). ``manage.py import_rates`` does both; an optional daily timer runs
it (deploy/README.md). Issuing a document never needs this: it reads the rates stored.
"""

from __future__ import annotations

import datetime
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from decimal import Decimal
from http.client import HTTPException
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from audit import recording as audit
from otb.operations import DomainError, ensure_permitted, operation
from settings_app.models import BusinessSettings

from . import ecb
from .models import SOURCE_ECB, ExchangeRate

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# What `manage.py import_rates` reads when given nothing, unless OTB_RATES_URL names another.
ECB_DAILY_URL = "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml"
# The ECB's history since 2025 in its XML format, shipped with the code (rates/data/README.md).
BUNDLED_HISTORY = Path(__file__).resolve().parent / "data" / "eurofxref-hist-2025.xml"

FETCH_TIMEOUT = 30  # seconds, to connect and for each read
# The ECB's whole history as XML is about 10 MB; nothing bigger is one of its files.
MAX_SOURCE_BYTES = 32 * 1024 * 1024
USER_AGENT = "OTB-Billing (exchange rates import)"
BATCH_SIZE = 1000
# The audit record of an import lists the stored ECB rates it changed, up to this many.
AUDIT_LISTED_CHANGES = 100

_URL = re.compile(r"^https?://", re.IGNORECASE)
_OTHER_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


class RatesRefused(DomainError):
    """A rates file or address that cannot be imported; nothing was stored."""

    code = "rates_refused"


@dataclass(frozen=True)
class ImportSummary:
    """What an import did. ``kept`` counts the rates the file has that were typed in (or
    came from elsewhere) and stay as they are; ``skipped_dates`` are the days on which the
    file has no rate for the base currency, so nothing could be worked out."""

    base_currency: str
    first_date: datetime.date
    last_date: datetime.date
    days: int
    added: int
    updated: int
    unchanged: int
    kept: int
    skipped_dates: tuple[datetime.date, ...] = ()

    def describe(self) -> str:
        if self.first_date == self.last_date:
            span = _("the ECB's rates of %(date)s") % {"date": self.first_date}
        else:
            span = ngettext(
                "the ECB's rates of %(count)d day, %(first)s to %(last)s",
                "the ECB's rates of %(count)d days, %(first)s to %(last)s",
                self.days,
            ) % {"count": self.days, "first": self.first_date, "last": self.last_date}
        text = _(
            "Imported %(span)s in %(base)s: %(added)d added, %(updated)d updated, "
            "%(unchanged)d unchanged, %(kept)d kept as typed in."
        ) % {
            "span": span,
            "base": self.base_currency,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "kept": self.kept,
        }
        if self.skipped_dates:
            text += " " + ngettext(
                "%(count)d day skipped: the file has no rate for %(base)s on it (%(first)s).",
                "%(count)d days skipped: the file has no rate for %(base)s on them "
                "(%(first)s to %(last)s).",
                len(self.skipped_dates),
            ) % {
                "count": len(self.skipped_dates),
                "base": self.base_currency,
                "first": self.skipped_dates[0],
                "last": self.skipped_dates[-1],
            }
        return text


def default_source() -> str:
    """OTB_RATES_URL (otb/settings.py: the environment or the instance's env file), else
    the ECB's daily file."""
    return settings.OTB_RATES_URL or ECB_DAILY_URL


def fetch_source(source: str) -> bytes:
    """The bytes of the file at path ``source``, or of the http(s) address ``source``: at
    most MAX_SOURCE_BYTES, refused with a message that says why when it cannot be had."""
    if _URL.match(source):
        return _download(source)
    if _OTHER_SCHEME.match(source):
        raise RatesRefused(
            _("“%(source)s”: give a file, or an address starting with http:// or https://.")
            % {"source": source}
        )
    return _read_file(Path(source).expanduser())


def _too_big(source: str) -> RatesRefused:
    return RatesRefused(
        _("%(source)s is larger than %(limit)s bytes: it is not a file of the ECB's rates.")
        % {"source": source, "limit": f"{MAX_SOURCE_BYTES:,}"}
    )


def _download(url: str) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT) as response:
            length = response.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > MAX_SOURCE_BYTES:
                raise _too_big(url)
            content = response.read(MAX_SOURCE_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise RatesRefused(
            _("%(url)s answered %(status)d %(reason)s: no rates were read.")
            % {"url": url, "status": exc.code, "reason": exc.reason}
        ) from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise _no_answer(url) from None
        raise RatesRefused(
            _("Could not reach %(url)s (%(reason)s): no rates were read.")
            % {"url": url, "reason": exc.reason}
        ) from None
    except TimeoutError:
        raise _no_answer(url) from None
    except (HTTPException, OSError, ValueError) as exc:
        raise RatesRefused(
            _("Could not read %(url)s (%(error)s): no rates were read.")
            % {"url": url, "error": str(exc) or type(exc).__name__}
        ) from None
    if len(content) > MAX_SOURCE_BYTES:
        raise _too_big(url)
    return content


def _no_answer(url: str) -> RatesRefused:
    return RatesRefused(
        _("%(url)s did not answer within %(seconds)s seconds: no rates were read.")
        % {"url": url, "seconds": FETCH_TIMEOUT}
    )


def _read_file(path: Path) -> bytes:
    try:
        if path.is_dir():
            raise RatesRefused(_("%(path)s is a folder, not a file.") % {"path": path})
        if path.stat().st_size > MAX_SOURCE_BYTES:
            raise _too_big(str(path))
        with path.open("rb") as file:
            content = file.read(MAX_SOURCE_BYTES + 1)
    except FileNotFoundError:
        raise RatesRefused(_("There is no file %(path)s.") % {"path": path}) from None
    except OSError as exc:
        raise RatesRefused(
            _("Could not read %(path)s: %(error)s.") % {"path": path, "error": exc.strerror or exc}
        ) from None
    if len(content) > MAX_SOURCE_BYTES:
        raise _too_big(str(path))
    return content


def _by_date_then_currency(item: tuple[tuple[str, datetime.date], Decimal]) -> tuple:
    (currency, date), _rate = item
    return date, currency


@operation
def import_rates(*, data: bytes, acting_user: User | None, origin: str = "") -> ImportSummary:
    """Store the rates of the ECB file ``data`` (from ``origin``, a path or an address, for
    the audit trail) in the base currency: each day's euro rates crossed to it
    (``ecb.crosses``). The whole file is read and checked first; a bad one is refused
    (RatesRefused, naming what is wrong) and nothing is stored. A rate the store lacks is
    added (source "ECB"); an ECB rate with another value is updated; a rate typed in is
    kept. Running it again on the same file changes nothing."""
    ensure_permitted(acting_user, "rates.add_exchangerate", _("import exchange rates"))
    try:
        euro_rates = ecb.parse(data)
    except ecb.EcbFileError as exc:
        raise RatesRefused(str(exc)) from None
    # Locked until the import commits: a second import at the same time (the timer and
    # someone by hand) waits here and then finds the rows this one adds, instead of failing
    # on the unique key; and the base currency cannot change half-way.
    business, _created = BusinessSettings.objects.select_for_update().get_or_create(
        pk=BusinessSettings.SINGLETON_PK
    )
    base = business.default_currency
    wanted: dict[tuple[str, datetime.date], Decimal] = {}
    skipped = []
    try:
        for date in sorted(euro_rates):
            day = ecb.crosses(euro_rates[date], base=base)
            if day is None:
                skipped.append(date)
                continue
            wanted.update({(currency, date): rate for currency, rate in day.items()})
    except ecb.EcbFileError as exc:
        raise RatesRefused(str(exc)) from None
    first, last = min(euro_rates), max(euro_rates)

    stored = ExchangeRate.objects.filter(base_currency=base, date__range=(first, last))
    now = timezone.now()
    changes: list[ExchangeRate] = []
    changed: list[dict[str, object]] = []
    unchanged = kept = 0
    for pk, currency, date, rate, source in stored.values_list(
        "pk", "currency", "date", "rate", "source"
    ).iterator(chunk_size=BATCH_SIZE):
        new = wanted.pop((currency, date), None)
        if new is None:
            continue
        if source != SOURCE_ECB:
            kept += 1
        elif rate == new:
            unchanged += 1
        else:
            changes.append(ExchangeRate(pk=pk, rate=new, updated_at=now))
            changed.append({"currency": currency, "date": date, "before": rate, "after": new})
    # What is left of ``wanted`` is not stored yet.
    ExchangeRate.objects.bulk_create(
        (
            ExchangeRate(
                base_currency=base,
                currency=currency,
                date=date,
                rate=rate,
                source=SOURCE_ECB,
                created_by=acting_user,
            )
            for (currency, date), rate in sorted(wanted.items(), key=_by_date_then_currency)
        ),
        batch_size=BATCH_SIZE,
    )
    # bulk_update sets no auto_now field: updated_at is given.
    ExchangeRate.objects.bulk_update(changes, ["rate", "updated_at"], batch_size=BATCH_SIZE)
    summary = ImportSummary(
        base_currency=base,
        first_date=first,
        last_date=last,
        days=len(euro_rates),
        added=len(wanted),
        updated=len(changes),
        unchanged=unchanged,
        kept=kept,
        skipped_dates=tuple(skipped),
    )
    if summary.added or summary.updated:
        # One record for the import, not one per rate (the full history is some 150,000):
        # what it read, what it did, and each ECB rate it changed (the first ones).
        audit.event(
            "exchange rates imported",
            subject=SOURCE_ECB,
            object_type=ExchangeRate._meta.label_lower,
            details={
                "from": origin,
                "base_currency": base,
                "first_date": first,
                "last_date": last,
                "days": summary.days,
                "added": summary.added,
                "updated": summary.updated,
                "unchanged": unchanged,
                "kept": kept,
                "skipped_days": len(skipped),
                "changed": changed[:AUDIT_LISTED_CHANGES],
            },
        )
    return summary
