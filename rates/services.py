"""Typing exchange rates in, changing and deleting them (SPEC: Currencies and exchange rates).

A rate is how much of the business's base currency one unit of another currency is worth on
a day. Documents copy the rate they use when they are issued, so changing or deleting a
stored rate never changes a document already issued.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

from django.db import IntegrityError, transaction
from django.utils import formats
from django.utils.translation import gettext as _

from audit import recording as audit
from otb.dates import clean_date
from otb.inputs import clean_currency
from otb.numbers import NumberRefused, plain_decimal
from otb.operations import InvalidInput, StaleRead, ensure_permitted, operation
from otb.text import CONTROL_CHARACTERS, control_character_message, validate_model
from settings_app.selectors import get_business_settings

from .models import MAX_RATE, RATE_DECIMALS, SOURCE_TYPED, ExchangeRate

if TYPE_CHECKING:
    from django.contrib.auth.models import User

MAX_SOURCE_LENGTH = ExchangeRate._meta.get_field("source").max_length or 100


class RateFields(TypedDict, total=False):
    """What a caller may change on a stored rate."""

    currency: str
    date: datetime.date | str
    rate: Decimal | str | int
    source: str


RATE_FIELDS = frozenset(RateFields.__annotations__)


@operation
def record_rate(
    *,
    acting_user: User | None,
    currency: str,
    date: datetime.date | str,
    rate: Decimal | str | int,
    source: str = SOURCE_TYPED,
) -> ExchangeRate:
    """Keep ``rate`` units of the base currency for one unit of ``currency`` on ``date``:
    a new rate, or the new value of the one that currency already has that day (whatever
    its source: the rate recorded last is the one that counts)."""
    ensure_permitted(acting_user, "rates.add_exchangerate", _("add exchange rates"))
    base = get_business_settings().default_currency
    values = _clean(
        {"currency": currency, "date": date, "rate": rate, "source": source}, base_currency=base
    )
    existing = (
        ExchangeRate.objects.select_for_update()
        .filter(base_currency=base, currency=values["currency"], date=values["date"])
        .first()
    )
    if existing is not None:
        ensure_permitted(acting_user, "rates.change_exchangerate", _("change exchange rates"))
        before = audit.snapshot(existing)
        existing.rate, existing.source = values["rate"], values["source"]
        validate_model(existing)
        existing.save()
        audit.changed(existing, before)
        return existing
    row = ExchangeRate(base_currency=base, created_by=acting_user, **values)
    validate_model(row)
    try:
        with transaction.atomic():  # a savepoint: the outer transaction stays usable
            row.save()
    except IntegrityError:
        # Another request recorded that currency's rate for that day since we looked: run
        # again as a whole (@operation), which finds it and changes it.
        raise StaleRead("an exchange rate was recorded for the same day meanwhile") from None
    audit.created(row)
    return row


@operation
def update_rate(
    *, rate_row: ExchangeRate, acting_user: User | None, **fields: Unpack[RateFields]
) -> ExchangeRate:
    """Change a stored rate: its value, source, or the currency and day it is for. Issued
    documents keep the rate they copied."""
    ensure_permitted(acting_user, "rates.change_exchangerate", _("change exchange rates"))
    row = ExchangeRate.objects.select_for_update().get(pk=rate_row.pk)
    given = {name: fields[name] for name in RATE_FIELDS & fields.keys()}  # type: ignore[literal-required]
    values = _clean(given, base_currency=row.base_currency)
    before = audit.snapshot(row)
    for name, value in values.items():
        setattr(row, name, value)
    taken = (
        ExchangeRate.objects.filter(
            base_currency=row.base_currency, currency=row.currency, date=row.date
        )
        .exclude(pk=row.pk)
        .exists()
    )
    if taken:
        raise InvalidInput.single("date", _already_recorded(row.currency, row.date))
    validate_model(row)
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        raise InvalidInput.single("date", _already_recorded(row.currency, row.date)) from None
    audit.changed(row, before)
    return row


@operation
def delete_rate(*, rate_row: ExchangeRate, acting_user: User | None) -> None:
    """Delete a stored rate (typed in by mistake). Issued documents keep the rate they
    copied; documents issued from now on take the newest rate left on or before their
    date. A rate already deleted is nothing more to do."""
    ensure_permitted(acting_user, "rates.delete_exchangerate", _("delete exchange rates"))
    row = ExchangeRate.objects.select_for_update().filter(pk=rate_row.pk).first()
    if row is None:
        return
    audit.deleted(row)
    row.delete()


def _already_recorded(currency: str, date: datetime.date) -> str:
    return _("Date: %(currency)s already has a rate on %(date)s; change that one.") % {
        "currency": currency,
        "date": formats.date_format(date),
    }


def _clean(fields: dict[str, Any], *, base_currency: str) -> dict[str, Any]:
    """The values a caller gave, checked, in the types of the model; each refusal names
    its field and says what is wrong (SPEC: Bad input)."""
    values: dict[str, Any] = {}
    if "currency" in fields:
        values["currency"] = _clean_currency(fields["currency"], base_currency=base_currency)
    if "date" in fields:
        values["date"] = clean_date(fields["date"], field="date", label=_("Date"))
    if "rate" in fields:
        try:
            values["rate"] = plain_decimal(
                fields["rate"],
                label=_("Rate"),
                decimal_places=RATE_DECIMALS,
                minimum=Decimal(0),
                minimum_exclusive=True,
                maximum=MAX_RATE,
            )
        except NumberRefused as exc:
            raise InvalidInput.single("rate", str(exc)) from None
    if "source" in fields:
        values["source"] = _clean_source(fields["source"])
    return values


def _clean_currency(value: Any, *, base_currency: str) -> str:
    """A currency offered (``otb.inputs.clean_currency``) other than the base one."""
    label = _("Currency")
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput.single(
            "currency", _("%(label)s: this field is required.") % {"label": label}
        )
    code = clean_currency(value.strip())
    if code == base_currency:
        raise InvalidInput.single(
            "currency",
            _(
                "%(label)s: %(code)s is the base currency; 1 %(code)s is always 1 %(code)s, "
                "so it has no exchange rate."
            )
            % {"label": label, "code": code},
        )
    return code


def _clean_source(value: Any) -> str:
    """Where the rate came from, one line; left empty, "typed in"."""
    label = _("Source")
    if value is None:
        return SOURCE_TYPED
    if not isinstance(value, str):
        raise InvalidInput.single("source", _("%(label)s: must be text.") % {"label": label})
    value = value.strip()
    if CONTROL_CHARACTERS.search(value):
        raise InvalidInput.single("source", control_character_message(label))
    if len(value) > MAX_SOURCE_LENGTH:
        raise InvalidInput.single(
            "source",
            _("%(label)s: at most %(n)d characters.") % {"label": label, "n": MAX_SOURCE_LENGTH},
        )
    return value or SOURCE_TYPED
