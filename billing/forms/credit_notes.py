"""The credit note form (what to credit of an invoice) and the refund form. Each only turns
what was typed into values; billing.services.credit_notes and refunds say what is wrong."""

from __future__ import annotations

from decimal import Decimal
from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from otb.forms import Form, PlainDecimalField
from otb.numbers import format_number
from otb.operations import DomainError

from ..models import CreditKind, PaymentMethod
from ..services import CreditLineData
from ..services.credit_notes import LineLeft
from .invoices import DATE_INPUT


class CreditNoteForm(Form):
    kind = forms.ChoiceField(
        label=_("Credit"),
        choices=CreditKind.choices,
        widget=forms.RadioSelect,
        initial=CreditKind.FULL,
    )
    amount = PlainDecimalField(
        label=_("Amount to credit"),
        max_digits=14,
        decimal_places=2,
        required=False,
        help_text=_("For “an amount”: taxes included; they are split as on the invoice."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Printed on the credit note."),
    )

    def __init__(self, *args, lines_left: list[LineLeft], currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.line_fields: list[tuple[str, LineLeft]] = []
        for item in lines_left:
            if item.quantity <= 0:
                continue
            name = f"line_{item.line.pk}"
            self.fields[name] = PlainDecimalField(
                label=item.line.description,
                max_digits=14,
                decimal_places=3,
                required=False,
                help_text=_("For “some lines”: at most %(left)s %(unit)s left to credit.")
                % {"left": format_number(item.quantity), "unit": item.line.unit},
            )
            self.line_fields.append((name, item))

    def credit_lines(self) -> list[CreditLineData]:
        """The quantities typed, in the order of the invoice's lines."""
        return [
            CreditLineData(invoice_line=item.line.pk, quantity=self.cleaned_data[name])
            for name, item in self._typed()
        ]

    def _typed(self) -> list[tuple[str, LineLeft]]:
        return [
            (name, item)
            for name, item in self.line_fields
            if self.cleaned_data.get(name) not in (None, Decimal(0))
        ]

    def operation_fields(self) -> dict:
        data = self.cleaned_data
        fields: dict = {"kind": data["kind"], "reason": data["reason"]}
        if data["kind"] == CreditKind.AMOUNT:
            fields["amount"] = data["amount"]
        if data["kind"] == CreditKind.LINES:
            fields["lines"] = self.credit_lines()
        return fields

    def show(self, exc: DomainError) -> None:
        """The operation's refusal beside the field it is about: "lines.0.quantity" is the
        first line typed; what no field matches goes to the top of the form."""
        typed = self._typed()
        errors = getattr(exc, "errors", None) or {exc.field: [exc.message]}
        for key, messages in errors.items():
            parts = (key or "").split(".")
            if parts[0] == "lines" and len(parts) == 3 and parts[1].isdigit():
                index = int(parts[1])
                key = typed[index][0] if index < len(typed) else None
            target = key if key in self.fields else None
            for message in messages:
                self.add_error(target, message)


class CreditNoteIssueForm(Form):
    issue_date = forms.DateField(label=_("Issue date"), widget=DATE_INPUT)


class RefundForm(Form):
    currency = forms.ChoiceField(label=_("Currency of the credit"), required=False)
    amount = PlainDecimalField(
        label=_("Amount"), max_digits=14, decimal_places=2, min_value=Decimal("0.01")
    )
    date = forms.DateField(label=_("Date"), widget=DATE_INPUT)
    method = forms.ChoiceField(
        label=_("Paid back by"),
        choices=[(v, label) for v, label in PaymentMethod.choices if v != "client_credit"],
    )
    reference = forms.CharField(label=_("Reference"), max_length=200, required=False)
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, currencies: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        # A client's credit is kept per currency: a refund pays back one of them.
        cast(forms.ChoiceField, self.fields["currency"]).choices = [(c, c) for c in currencies]
