"""Turning what a user typed into the Decimals and dates the operations work with.

Every refusal names the field and what is wrong with it (SPEC: Bad input).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.db import models
from django.utils.translation import gettext as _

from otb.dates import clean_date  # noqa: F401  (the operations import it from here)
from otb.inputs import clean_currency  # noqa: F401  (the operations import it from here)
from otb.numbers import NumberRefused, plain_decimal
from otb.operations import InvalidInput
from otb.text import CONTROL_CHARACTERS, control_character_message, validate_model

from .money import MAX_AMOUNT, MINOR_UNIT_DECIMALS


def clean_decimal(
    value,
    *,
    field: str,
    label: str,
    decimal_places: int,
    minimum: Decimal | None = Decimal(0),
    maximum: Decimal | None = None,
    minimum_exclusive: bool = False,
) -> Decimal:
    """A Decimal from a Decimal, an int or text in plain decimal notation (``otb.numbers``);
    never from a float, which cannot hold amounts of money exactly."""
    try:
        return plain_decimal(
            value,
            label=label,
            decimal_places=decimal_places,
            minimum=minimum,
            maximum=maximum,
            minimum_exclusive=minimum_exclusive,
        )
    except NumberRefused as exc:
        raise InvalidInput.single(field, str(exc)) from None


def clean_amount(value, *, field: str = "amount", label: str | None = None) -> Decimal:
    """An amount of money: more than 0, at most 2 decimals, fits DECIMAL(14,2)."""
    return clean_decimal(
        value,
        field=field,
        label=label or _("Amount"),
        decimal_places=2,
        minimum=Decimal(0),
        minimum_exclusive=True,
        maximum=MAX_AMOUNT,
    )


def require_minor_unit(amount: Decimal, currency: str, *, field: str, label: str) -> Decimal:
    """Refuse fractions the currency does not have (a yen has no cents)."""
    places = MINOR_UNIT_DECIMALS.get(currency, 2)
    if amount != amount.quantize(Decimal(1).scaleb(-places)):
        raise InvalidInput.single(
            field,
            _("%(label)s: %(currency)s amounts have at most %(n)d decimal places.")
            % {"label": label, "currency": currency, "n": places},
        )
    return amount


MAX_TEXT_LENGTH = 20000


def clean_text(value: object, *, field: str, label: str, one_line: bool = False) -> str:
    """Text as typed (notes, terms, reasons, references): a string of at most 20000
    characters; with ``one_line``, without line breaks or control characters."""
    if not isinstance(value, str):
        raise InvalidInput.single(field, _("%(label)s: must be text.") % {"label": label})
    if one_line and CONTROL_CHARACTERS.search(value):
        raise InvalidInput.single(field, control_character_message(label))
    if len(value) > MAX_TEXT_LENGTH:
        raise InvalidInput.single(
            field,
            _("%(label)s: at most %(n)d characters.") % {"label": label, "n": MAX_TEXT_LENGTH},
        )
    return value


def full_clean(instance: models.Model, *, exclude: Iterable[str] | None = None) -> None:
    """The model's own validation and the one-line rule (``otb.text``), its refusals as
    InvalidInput naming each field."""
    validate_model(instance, exclude=exclude)
