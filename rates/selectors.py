"""Reading exchange rates."""

from __future__ import annotations

import datetime

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from otb.currencies import CURRENCIES
from otb.operations import InvalidInput

from .models import ExchangeRate


def rate_on(currency: str, date: datetime.date, *, base_currency: str) -> ExchangeRate | None:
    """The rate in force for ``currency`` on ``date``: the newest one on or before it
    (SPEC: Currencies and exchange rates), or None when there is none."""
    return (
        ExchangeRate.objects.filter(base_currency=base_currency, currency=currency, date__lte=date)
        .order_by("-date")
        .first()
    )


def filter_rates(
    rates: QuerySet[ExchangeRate],
    *,
    currency: str = "",
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> QuerySet[ExchangeRate]:
    """The rates of the office's list or of ``GET /api/v1/exchange-rates/``, newest first:
    ``currency`` a code, any case (one the product does not offer is refused, naming the
    parameter); ``date_from``, ``date_to`` the rate's date on or after, on or before."""
    code = currency.strip().upper()
    if code:
        if code not in CURRENCIES:
            raise InvalidInput.single(
                "currency",
                _("currency: “%(value)s” is not a currency; use one of %(values)s.")
                % {"value": currency.strip()[:20], "values": ", ".join(CURRENCIES)},
            )
        rates = rates.filter(currency=code)
    if date_from is not None:
        rates = rates.filter(date__gte=date_from)
    if date_to is not None:
        rates = rates.filter(date__lte=date_to)
    return rates.order_by("-date", "currency", "-id")
