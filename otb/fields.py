"""Model fields every app's money shares (SPEC: Money)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

ZERO = Decimal("0.00")
# The largest amount DECIMAL(14,2) holds.
MAX_AMOUNT = Decimal("999999999999.99")


class DecimalField(models.DecimalField):
    """A DECIMAL column whose form field (on the pages and in the admin) takes plain decimal
    notation only (``otb.forms.PlainDecimalField``). Migrations see a plain DecimalField: the
    column is the same."""

    def formfield(
        self, form_class: Any = None, choices_form_class: Any = None, **kwargs: Any
    ) -> Any:
        from otb.forms import PlainDecimalField

        kwargs["form_class"] = form_class or PlainDecimalField
        kwargs["choices_form_class"] = choices_form_class
        # The column's range, checked by the form with a message naming the field.
        for validator in self.validators:
            if isinstance(validator, MinValueValidator):
                kwargs.setdefault("min_value", validator.limit_value)
            elif isinstance(validator, MaxValueValidator):
                kwargs.setdefault("max_value", validator.limit_value)
        return super().formfield(**kwargs)

    def deconstruct(self) -> Any:
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.DecimalField", args, kwargs


def amount_field(verbose_name: Any, **kwargs: Any) -> DecimalField:
    """DECIMAL(14,2): every amount of money."""
    kwargs.setdefault("default", ZERO)
    return DecimalField(verbose_name, max_digits=14, decimal_places=2, **kwargs)
