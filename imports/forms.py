"""The import pages' forms: the upload (what the file holds, the file, the cut-over day) and
the column mapping. They only read what was sent; the file is read by
``imports.services.read_upload`` and the rows are checked by ``run_import``."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from crispy_forms.helper import FormHelper
from django import forms
from django.utils.translation import gettext_lazy as _

from otb.forms import Form

from . import services
from .kinds import Kind
from .reading import FileRefused, Table

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
CHOOSE_KIND = _("choose clients, services or opening balances.")


class UploadForm(Form):
    kind = forms.ChoiceField(
        label=_("The file holds"),
        widget=forms.RadioSelect,
        error_messages={"required": CHOOSE_KIND, "invalid_choice": CHOOSE_KIND},
    )
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("UTF-8 (with or without a byte order mark) or Windows-1252."),
        error_messages={
            "required": _("choose the file to import."),
            "empty": _("the file is empty: its first row must name the columns."),
            "invalid": _("choose the file to import."),
        },
    )
    cut_over = forms.DateField(
        label=_("Cut-over day"),
        required=False,
        widget=DATE_INPUT,
        help_text=_("For opening balances: the day the balances were owed; empty: today."),
    )

    def __init__(self, *args: Any, kinds: list[Kind], **kwargs: Any):
        super().__init__(*args, **kwargs)
        # Only the kinds the user may import (Kind.permissions).
        kind_field = self.fields["kind"]
        assert isinstance(kind_field, forms.ChoiceField)
        kind_field.choices = [(kind.name, kind.label) for kind in kinds]
        self.fields["file"].widget.attrs["accept"] = ".csv,.txt,text/csv"
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True  # the page's form tag has its token
        self.content = b""

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        kind, upload = cleaned.get("kind"), cleaned.get("file")
        if kind and upload:
            # One byte more than the page takes is enough to refuse the rest unread.
            self.content = upload.read(services.MAX_UPLOAD_BYTES + 1)
            try:
                # Read to refuse it now; the preview reads it again from the database.
                # services.PAGE_ROWS read at each call: the tests lower it.
                services.read_upload(self.content, kind=kind, rows_limit=services.PAGE_ROWS)
            except FileRefused as exc:
                self.add_error("file", exc.message)
        return cleaned


def column_field(index: int) -> str:
    return f"column_{index}"


def mapping_signature(mapping: dict[str, str]) -> str:
    """Which mapping a preview was made with: the import asks for the same one."""
    return hashlib.sha256(json.dumps(sorted(mapping.items())).encode()).hexdigest()


class MappingForm(Form):
    """One choice per column of the file: the field it gives, or none. Several columns may
    give one field (street and city: the address)."""

    previewed = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(
        self, *args: Any, kind: Kind, table: Table, samples: list[str], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.kind, self.table, self.samples = kind, table, samples
        choices = [("", _("— skip —")), *((t.name, t.label) for t in kind.targets)]
        # Django fills in %(value)s: what was sent (a page changed by hand, or too old).
        invalid = _("“%%(value)s” is none of the fields of %(kind)s; choose one from the list.")
        for index, header in enumerate(table.headers):
            self.fields[column_field(index)] = forms.ChoiceField(
                label=_("Column “%(header)s”") % {"header": header},
                choices=choices,
                required=False,
                error_messages={"invalid_choice": invalid % {"kind": kind.noun}},
                widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
            )

    def columns(self) -> list[tuple[str, str, forms.BoundField]]:
        """Each column of the file: its header, a sample of its cells, and its choice."""
        return [
            (header, self.samples[index], self[column_field(index)])
            for index, header in enumerate(self.table.headers)
        ]

    def mapping(self) -> dict[str, str]:
        """Header → field, for the columns that give one (a form that is valid)."""
        return {
            header: self.cleaned_data[column_field(index)]
            for index, header in enumerate(self.table.headers)
            if self.cleaned_data.get(column_field(index))
        }


def initial_mapping(table: Table, mapping: dict[str, str]) -> dict[str, str]:
    initial = {
        column_field(index): mapping.get(header, "") for index, header in enumerate(table.headers)
    }
    initial["previewed"] = mapping_signature(mapping)
    return initial
