"""Model fields every app's money shares (SPEC: Money)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import models

ZERO = Decimal("0.00")
# The largest amount DECIMAL(14,2) holds.
MAX_AMOUNT = Decimal("999999999999.99")


def amount_field(verbose_name: Any, **kwargs: Any) -> models.DecimalField:
    """DECIMAL(14,2): every amount of money."""
    kwargs.setdefault("default", ZERO)
    return models.DecimalField(verbose_name, max_digits=14, decimal_places=2, **kwargs)
