"""Money and other exact numbers as JSON strings, never floats (SPEC: Money)."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from otb.numbers import parse_plain, places_of

NOT_A_STRING = _('Send the value as a string, such as "1190.00"; a JSON number is refused.')
NOT_A_NUMBER = _("“%(value)s” is not a number; write it like 1234.56.")
TOO_MANY_PLACES = _("Use at most %(n)d decimal places.")


@extend_schema_field({"type": "string", "pattern": r"^-?\d+(\.\d+)?$", "example": "100.00"})
class DecimalStringField(serializers.Field):
    """A decimal sent and shown as a string. ``places``: how many decimals it may have
    (and is shown with); the operations check ranges."""

    def __init__(self, *, places: int, allow_int: bool = False, **kwargs):
        self.places = places
        self.allow_int = allow_int
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> Decimal:
        if isinstance(data, bool) or not isinstance(data, str | int):
            raise serializers.ValidationError(NOT_A_STRING, code="not_a_string")
        if isinstance(data, int) and not self.allow_int:
            raise serializers.ValidationError(NOT_A_STRING, code="not_a_string")
        # Plain decimal notation only: "1e5" is a typo, not 100000 (otb.numbers).
        number = Decimal(data) if isinstance(data, int) else parse_plain(data)
        if number is None:
            raise serializers.ValidationError(
                NOT_A_NUMBER % {"value": str(data)[:50]}, code="invalid"
            )
        # Before quantize(): a number of more than 28 digits would make it raise.
        if abs(number) >= Decimal(10) ** 15:
            raise serializers.ValidationError(_("The number is too large."), code="too_large")
        if places_of(number) > self.places and number != number.quantize(
            Decimal(1).scaleb(-self.places)
        ):
            raise serializers.ValidationError(TOO_MANY_PLACES % {"n": self.places}, code="places")
        return number.quantize(Decimal(1).scaleb(-self.places))

    def to_representation(self, value) -> str:
        return f"{Decimal(value).quantize(Decimal(1).scaleb(-self.places)):f}"


class MoneyField(DecimalStringField):
    """An amount: a string with exactly two decimals out ("1190.00"), at most two in."""

    def __init__(self, **kwargs):
        super().__init__(places=2, **kwargs)


@extend_schema_field(OpenApiTypes.STR)
class CodeField(serializers.CharField):
    """A client or service code; stored in capitals, so looked up in capitals."""

    def to_internal_value(self, data) -> str:
        return super().to_internal_value(data).strip().upper()
