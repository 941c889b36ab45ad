"""The export page's form. It only shows the fields and their errors: what was asked is
read by ``exports.inputs.clean_export``, as the command and the API read it."""

from __future__ import annotations

from typing import Any

from crispy_forms.helper import FormHelper
from django import forms
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from otb.operations import InvalidInput

from .formats import FORMATS
from .inputs import ExportRequest, clean_export

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ExportForm(forms.Form):
    # Text fields: their own checks would be a second reading of the input.
    format = forms.CharField(label=_("Format"), required=False, widget=forms.RadioSelect)
    start = forms.CharField(label=_("Start date"), required=False, widget=DATE_INPUT)
    end = forms.CharField(label=_("End date"), required=False, widget=DATE_INPUT)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        widget = self.fields["format"].widget
        assert isinstance(widget, forms.RadioSelect)
        widget.choices = [
            (
                key,
                format_html(
                    '{}<span class="d-block small text-body-secondary">{}</span>',
                    found.label,
                    found.description,
                ),
            )
            for key, found in FORMATS.items()
        ]
        self.helper = FormHelper()
        self.helper.form_tag = False
        # A GET form: a CSRF token would ride in the download's address (and its logs).
        self.helper.disable_csrf = True
        self.export: ExportRequest | None = None

    def clean(self) -> dict[str, Any]:
        cleaned = self.cleaned_data
        try:
            self.export = clean_export(
                format_key=cleaned.get("format"), start=cleaned.get("start"), end=cleaned.get("end")
            )
        except InvalidInput as exc:
            for field, messages in exc.errors.items():
                for message in messages:
                    self.add_error(field if field in self.fields else None, message)
        return cleaned
