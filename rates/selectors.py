"""Reading exchange rates."""

from __future__ import annotations

import datetime

from .models import ExchangeRate


def rate_on(currency: str, date: datetime.date, *, base_currency: str) -> ExchangeRate | None:
    """The rate in force for ``currency`` on ``date``: the newest one on or before it
    (SPEC: Currencies and exchange rates), or None when there is none."""
    return (
        ExchangeRate.objects.filter(base_currency=base_currency, currency=currency, date__lte=date)
        .order_by("-date")
        .first()
    )
