from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Action, Source

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class AuditFilterForm(forms.Form):
    user = forms.CharField(label=_("Who"), required=False, max_length=150)
    object_type = forms.CharField(label=_("Object type"), required=False, max_length=100)
    object_id = forms.CharField(label=_("Object id"), required=False, max_length=191)
    operation = forms.CharField(label=_("Operation"), required=False, max_length=100)
    source = forms.ChoiceField(
        label=_("Through"), required=False, choices=[("", _("Anything")), *Source.choices]
    )
    action = forms.ChoiceField(
        label=_("Action"), required=False, choices=[("", _("Any action")), *Action.choices]
    )
    date_from = forms.DateField(
        label=_("From"), required=False, widget=DATE_INPUT, input_formats=["%Y-%m-%d"]
    )
    date_to = forms.DateField(
        label=_("Until"), required=False, widget=DATE_INPUT, input_formats=["%Y-%m-%d"]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            css = "form-select" if isinstance(field, forms.ChoiceField) else "form-control"
            field.widget.attrs["class"] = f"{css} form-control-sm"

    def selection(self) -> dict[str, Any] | None:
        """The filters, or None when one is not valid (then nothing is listed)."""
        if not self.is_bound:
            return {}
        if not self.is_valid():
            return None
        return dict(self.cleaned_data)
