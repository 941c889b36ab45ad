from django import forms
from django.utils.translation import gettext_lazy as _

from billing.models import Client
from otb.forms import OperationModelForm


class ClientForm(OperationModelForm):
    class Meta:
        model = Client
        fields = [
            "code",
            "name",
            "contact_person",
            "email",
            "phone",
            "address",
            "country",
            "default_currency",
            "tax_number",
            "uses_default_taxes",
            "tax_exempt",
            "taxes",
            "is_active",
            "notes",
        ]
        widgets = {
            "taxes": forms.CheckboxSelectMultiple,
            "address": forms.Textarea(attrs={"rows": 3}),
            "notes": forms.Textarea(attrs={"rows": 3}),
            "code": forms.TextInput(attrs={"autocapitalize": "characters"}),
            "country": forms.TextInput(attrs={"autocapitalize": "characters", "size": 2}),
            "email": forms.EmailInput(attrs={"autocomplete": "off"}),
            "phone": forms.TextInput(attrs={"type": "tel"}),
        }


class ClientSearchForm(forms.Form):
    ACTIVE_CHOICES = [
        ("active", _("Active")),
        ("inactive", _("Inactive")),
        ("all", _("All")),
    ]

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    active = forms.ChoiceField(label=_("Show"), choices=ACTIVE_CHOICES, required=False)
