"""Turning what a user typed into a currency, for the operations of every app (SPEC: Bad
input): a refusal names the field and lists the currencies offered."""

from __future__ import annotations

from django.utils.translation import gettext as _

from otb.currencies import CURRENCIES
from otb.operations import InvalidInput


def clean_currency(value: object, *, field: str = "currency") -> str:
    """A currency the product offers, by its code."""
    code = value.strip().upper() if isinstance(value, str) else ""
    if code not in CURRENCIES:
        raise InvalidInput.single(
            field,
            _("Currency: “%(code)s” is not a currency OTB Billing offers; use one of %(codes)s.")
            % {"code": str(value)[:20], "codes": ", ".join(CURRENCIES)},
        )
    return code
