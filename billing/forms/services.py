from django import forms
from django.utils.translation import gettext_lazy as _

from billing.models import Service
from billing.money import CURRENCIES, CURRENCY_CHOICES, plain_decimal
from otb.forms import Form, OperationModelForm


class ServiceForm(OperationModelForm):
    # Text, not a DecimalField: the operation checks the number (at least 0, 4 decimals).
    unit_price = forms.CharField(
        label=_("Default unit price"),
        max_length=40,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )

    class Meta:
        model = Service
        fields = [
            "code",
            "name",
            "description",
            "unit",
            "unit_price",
            "taxable",
            "taxes",
            "is_active",
        ]
        widgets = {
            "taxes": forms.CheckboxSelectMultiple,
            "code": forms.TextInput(attrs={"autocapitalize": "characters"}),
            "description": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, base_currency: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["unit_price"] = plain_decimal(self.instance.unit_price)
        if base_currency:
            self.fields["unit_price"].help_text = _(
                "In %(currency)s, the base currency; in other currencies, below."
            ) % {"currency": base_currency}


class PriceForm(Form):
    """One of a service's prices in another currency than the base one; a row without a
    price is none (``BasePriceFormSet.prices``)."""

    currency = forms.ChoiceField(
        label=_("Currency"), choices=[("", "—"), *CURRENCY_CHOICES], required=False
    )
    # Text: the operation checks the number, as for the default unit price.
    unit_price = forms.CharField(
        label=_("Unit price"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )


class BasePriceFormSet(forms.BaseFormSet):
    def forms_in_use(self) -> list[PriceForm]:
        """The rows with a price, in order (the operation names them so)."""
        return [form for form in self.forms if (form.cleaned_data.get("unit_price") or "").strip()]

    def prices(self) -> list[dict[str, str]]:
        """The prices to keep, as the operation takes them: all of them, a currency whose
        price was emptied losing it."""
        return [
            {
                "currency": form.cleaned_data["currency"],
                "unit_price": form.cleaned_data["unit_price"],
            }
            for form in self.forms_in_use()
        ]


PriceFormSet: type[BasePriceFormSet] = forms.formset_factory(  # type: ignore[assignment]
    PriceForm,
    formset=BasePriceFormSet,
    extra=2,
    max_num=len(CURRENCIES),
    absolute_max=len(CURRENCIES),
    validate_max=True,
)


def initial_prices(service: Service | None) -> list[dict[str, str]]:
    if service is None:
        return []
    return [
        {"currency": price.currency, "unit_price": plain_decimal(price.unit_price)}
        for price in service.prices.all()
    ]
