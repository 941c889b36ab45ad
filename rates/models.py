"""Exchange rates: what one unit of a currency was worth in the business's base currency
on a day (SPEC: Currencies and exchange rates), typed in or imported from the ECB."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from otb.currencies import CURRENCY_CHOICES
from otb.fields import DecimalField
from otb.numbers import format_number, largest

# Where a rate came from, as stored on the rate and copied onto the documents that froze it.
SOURCE_ECB = "ECB"
SOURCE_TYPED = "typed in"
# A rate: base currency per unit, up to 10 decimals (SPEC).
RATE_DIGITS = 20
RATE_DECIMALS = 10
# The largest rate the columns hold.
MAX_RATE = largest(max_digits=RATE_DIGITS, decimal_places=RATE_DECIMALS)


def rate_field(verbose_name, **kwargs) -> DecimalField:
    """DECIMAL(20,10): an exchange rate, here and on every document that freezes one."""
    return DecimalField(
        verbose_name, max_digits=RATE_DIGITS, decimal_places=RATE_DECIMALS, **kwargs
    )


class ExchangeRate(models.Model):
    """``rate`` units of ``base_currency`` for one unit of ``currency`` on ``date``.

    The base currency is stored with the rate: rates typed in or imported for another base
    are never read as this one's (the base cannot change once a figure uses it anyway)."""

    base_currency = models.CharField(_("base currency"), max_length=3, editable=False)
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    date = models.DateField(_("date"))
    rate = rate_field(
        _("rate"), help_text=_("How much of the base currency one unit of the currency is worth.")
    )
    source = models.CharField(_("source"), max_length=100, default=SOURCE_TYPED)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )

    class Meta:
        ordering = ["-date", "currency"]
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        constraints = [
            # The newest rate on or before a day is one step down this index.
            models.UniqueConstraint(
                fields=["base_currency", "currency", "date"], name="exchange_rate_unique"
            ),
            models.CheckConstraint(condition=Q(rate__gt=Decimal(0)), name="exchange_rate_gt_0"),
            models.CheckConstraint(
                condition=~Q(currency=F("base_currency")), name="exchange_rate_not_base"
            ),
        ]
        indexes = [models.Index(fields=["date", "currency"], name="exchange_rate_date")]

    def __str__(self) -> str:
        # As the pages write numbers and dates (tests/test_one_style.py): the audit trail
        # and the back office show it.
        return _("1 %(currency)s = %(rate)s %(base)s on %(date)s") % {
            "currency": self.currency,
            "rate": format_number(self.rate),
            "base": self.base_currency,
            "date": formats.date_format(self.date),
        }
