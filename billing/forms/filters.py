"""The filter forms of the list pages. They read the query string; what each filter means is
billing.lists', which the API calls with the same values."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from billing.models import InvoiceStatus, PaymentMethod, PaymentStatus

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _date_field(label) -> forms.DateField:
    # YYYY-MM-DD only, as the API reads dates and as a date input sends them.
    return forms.DateField(
        label=label, required=False, widget=DATE_INPUT, input_formats=["%Y-%m-%d"]
    )


class ListFilterForm(forms.Form):
    """A list's filters. ``selection()`` gives them as billing.lists takes them."""

    # A field whose name on the page differs from billing.lists' parameter: {field: parameter}.
    parameter_names: dict[str, str] = {}

    def selection(self) -> dict[str, Any] | None:
        """The filters to apply: none for a page opened without any, and None when one is
        not valid. The page then lists nothing and shows the error beside the filters, as
        the API answers 400: half the filters would show rows that were not asked for."""
        if not self.is_bound:
            return {}
        if not self.is_valid():
            return None
        return {
            self.parameter_names.get(name, name): value for name, value in self.cleaned_data.items()
        }


class InvoiceFilterForm(ListFilterForm):
    q = forms.CharField(label=_("Number"), required=False, max_length=32)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *InvoiceStatus.choices]
    )
    client = forms.CharField(label=_("Client code"), required=False, max_length=20)
    issued_from = _date_field(_("Issued from"))
    issued_to = _date_field(_("Issued until"))

    parameter_names = {"q": "number"}


class PaymentFilterForm(ListFilterForm):
    q = forms.CharField(label=_("Reference or invoice"), required=False, max_length=200)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *PaymentStatus.choices]
    )
    method = forms.ChoiceField(
        label=_("Method"), required=False, choices=[("", _("Any method")), *PaymentMethod.choices]
    )
    client = forms.CharField(label=_("Client code"), required=False, max_length=20)
    date_from = _date_field(_("Paid from"))
    date_to = _date_field(_("Paid until"))

    parameter_names = {"q": "search"}
