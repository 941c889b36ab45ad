from django import forms
from django.utils.translation import gettext_lazy as _

from billing.models import Service
from billing.money import plain_decimal
from otb.forms import OperationModelForm


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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["unit_price"] = plain_decimal(self.instance.unit_price)
