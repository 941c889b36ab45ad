"""The office's forms of exchange rates: they turn what was typed into values; the
operations (rates/services.py) check the rules and say what is wrong."""

from __future__ import annotations

from typing import Any, cast

from crispy_forms.helper import FormHelper
from django import forms
from django.utils.translation import gettext_lazy as _

from otb.currencies import CURRENCY_CHOICES
from otb.forms import OperationModelForm

from .models import SOURCE_TYPED, ExchangeRate

# YYYY-MM-DD only, as a date input sends it and as the API reads it.
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _other_currencies(base_currency: str) -> list[tuple[str, str]]:
    return [(code, name) for code, name in CURRENCY_CHOICES if code != base_currency]


class RateForm(OperationModelForm):
    """A rate typed in: which currency, on which day, how much of ``base_currency`` one
    unit of it is worth, and where the figure comes from."""

    class Meta:
        model = ExchangeRate
        fields = ["currency", "date", "rate", "source"]
        widgets = {"date": DATE_INPUT}

    def __init__(self, *args: Any, base_currency: str, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.base_currency = base_currency
        # The base currency has no rate: 1 CAD is always 1 CAD.
        currency = cast(forms.ChoiceField, self.fields["currency"])
        currency.choices = [("", "---------"), *_other_currencies(base_currency)]
        cast(forms.DateField, self.fields["date"]).input_formats = ["%Y-%m-%d"]
        self.fields["rate"].help_text = _(
            "How much %(base)s one unit of the currency is worth, up to 10 decimals: "
            "for 1 USD = 1.35 %(base)s, type 1.35."
        ) % {"base": base_currency}
        source = self.fields["source"]
        source.required = False
        source.help_text = _(
            "Where the figure comes from: your bank, a newspaper… Left empty: %(default)s."
        ) % {"default": SOURCE_TYPED}
        if not self.instance.pk:
            self.initial.setdefault("source", SOURCE_TYPED)
        self.helper = FormHelper()
        self.helper.form_tag = False

    def rate_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class RateFilterForm(forms.Form):
    """The list's filter: one currency, or all of them."""

    currency = forms.ChoiceField(
        label=_("Currency"),
        required=False,
        choices=[("", _("Any currency")), *CURRENCY_CHOICES],
    )

    def selection(self) -> dict[str, Any] | None:
        """The filters to apply (rates.selectors.filter_rates); None when one is not valid,
        and the list then shows nothing but the error beside the filter."""
        if not self.is_bound:
            return {}
        if not self.is_valid():
            return None
        return dict(self.cleaned_data)
