"""Forms of the invoice pages. They only check the shape of the input; the rules are the
operations' (billing.services), whose refusals are put back on these forms."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import cast

from django import forms
from django.db.models import Q
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from billing.models import (
    Client,
    DiscountKind,
    PaymentMethod,
    Service,
)
from billing.money import CURRENCY_CHOICES
from billing.services import LineData
from otb.forms import Form, PlainDecimalField

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ClientChoiceField(forms.ModelChoiceField):
    """A client by its code, typed into a box that offers matching clients as one types
    (static/otb/site.js asks billing.views.search.client_choices): a <select> of ten
    thousand clients is unusable. "acme" is ACME; a choice's "ACME – Acme Ltd" is ACME."""

    widget = forms.TextInput

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "error_messages",
            {
                "invalid_choice": _(
                    "no client has the code “%(value)s”: type part of its name and choose "
                    "it from the list."
                )
            },
        )
        super().__init__(*args, to_field_name="code", **kwargs)
        self.widget.attrs.update(
            {
                "autocomplete": "off",
                "list": "client-choices",
                "data-client-lookup": reverse_lazy("search-clients"),
                "placeholder": _("Code or part of the name"),
            }
        )

    def to_python(self, value):
        if isinstance(value, str):
            value = value.split(" – ", 1)[0].strip().upper()
        return super().to_python(value)

    def label_from_instance(self, client):
        return f"{client.code} – {client.name}"


class InvoiceForm(Form):
    client = ClientChoiceField(label=_("Client"), queryset=Client.objects.filter(is_active=True))
    currency = forms.ChoiceField(
        label=_("Currency"),
        choices=[("", _("The client's currency")), *CURRENCY_CHOICES],
        required=False,
        help_text=_("Fixed once the invoice is issued."),
    )
    discount_kind = forms.ChoiceField(
        label=_("Invoice discount"), choices=DiscountKind.choices, required=False
    )
    discount_value = PlainDecimalField(
        label=_("Discount (percent or amount)"),
        max_digits=14,
        decimal_places=3,
        min_value=0,
        required=False,
    )
    issue_date = forms.DateField(label=_("Issue date"), required=False, widget=DATE_INPUT)
    due_date = forms.DateField(label=_("Due date"), required=False, widget=DATE_INPUT)
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    terms = forms.CharField(
        label=_("Payment terms"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(
        self, *args, locked: bool = False, issued: bool = False, current_client=None, **kwargs
    ):
        super().__init__(*args, **kwargs)
        # SPEC: a document's currency never changes once issued.
        self.fields["currency"].disabled = issued
        if current_client is not None:
            # An invoice keeps its client even after the client was made inactive.
            cast(forms.ModelChoiceField, self.fields["client"]).queryset = Client.objects.filter(
                Q(is_active=True) | Q(pk=current_client.pk)
            )
        if locked:
            # SPEC: a locked invoice keeps its client, discount and dates; notes and terms
            # may still change.
            for name in ("client", "discount_kind", "discount_value", "issue_date", "due_date"):
                self.fields[name].disabled = True

    def operation_fields(self) -> dict:
        """The cleaned values to hand to create_draft/update_invoice."""
        data = dict(self.cleaned_data)
        for name, field in self.fields.items():
            if field.disabled:
                data.pop(name, None)
        if "discount_value" in data and data["discount_value"] is None:
            data["discount_value"] = 0
        if not data.get("currency"):
            data.pop("currency", None)  # the client's
        return data


class ServiceOrTypedLine:
    """A line takes its description and price from its service, or has them typed in."""

    def clean(self):
        cleaned_data = super().clean()
        if not cleaned_data.get("service"):
            if not cleaned_data.get("description") and "description" not in self.errors:
                self.add_error("description", _("Enter a description or choose a service."))
            if cleaned_data.get("unit_price") is None and "unit_price" not in self.errors:
                self.add_error("unit_price", _("Enter a unit price or choose a service."))
        return cleaned_data


class LineForm(ServiceOrTypedLine, Form):
    # Every service is accepted, so an existing line keeps an inactive one; the page offers
    # only active services for new lines (_line_row.html).
    service = forms.ModelChoiceField(
        label=_("Service"),
        queryset=Service.objects.all(),
        required=False,
        to_field_name="code",
    )
    description = forms.CharField(label=_("Description"), max_length=500, required=False)
    quantity = PlainDecimalField(
        label=_("Quantity"), max_digits=14, decimal_places=3, min_value=0, initial=1
    )
    unit = forms.CharField(label=_("Unit"), max_length=20, required=False)
    unit_price = PlainDecimalField(
        label=_("Unit price"), max_digits=14, decimal_places=4, min_value=0, required=False
    )
    discount_percent = PlainDecimalField(
        label=_("Discount %"),
        max_digits=6,
        decimal_places=3,
        min_value=0,
        max_value=100,
        required=False,
        initial=0,
    )
    taxable = forms.BooleanField(label=_("Taxable"), required=False, initial=True)
    # With several taxes: the labels of the invoice's taxes the line carries ("GST"); blank
    # for its service's, or all of them.
    taxes = forms.CharField(label=_("Taxes"), max_length=200, required=False)

    def line_data(self) -> LineData:
        data = self.cleaned_data
        labels = [label for label in re.split(r"[,;\s]+", data.get("taxes") or "") if label]
        return LineData(
            service=data.get("service"),
            description=data.get("description") or "",
            quantity=data["quantity"],
            unit=data.get("unit") or "",
            unit_price=data.get("unit_price"),
            discount_percent=data.get("discount_percent") or 0,
            taxable=data.get("taxable", True),
            taxes=labels or None,
        )


class BaseLineFormSet(forms.BaseFormSet):
    def forms_in_use(self) -> list[LineForm]:
        """The lines to save, in order: existing lines unless removed, and new rows that were
        filled in (an untouched blank row is not a line)."""
        return [
            form
            for index, form in enumerate(self.forms)
            if not self._should_delete_form(form)  # type: ignore[attr-defined]
            and (index < self.initial_form_count() or form.has_changed())
        ]

    def line_data(self) -> list[LineData]:
        return [form.line_data() for form in self.forms_in_use()]


LineFormSet = forms.formset_factory(LineForm, formset=BaseLineFormSet, extra=1, can_delete=True)


def initial_lines(invoice) -> list[dict]:
    return [
        {
            "service": line.service.code if line.service_id else None,
            "description": line.description,
            "quantity": line.quantity,
            "unit": line.unit,
            "unit_price": line.unit_price,
            "discount_percent": line.discount_percent,
            "taxable": line.taxable,
            "taxes": "" if line.taxes is None else ", ".join(line.taxes),
        }
        for line in invoice.lines.select_related("service")
    ]


class IssueForm(Form):
    issue_date = forms.DateField(label=_("Issue date"), widget=DATE_INPUT)
    due_date = forms.DateField(
        label=_("Due date"),
        required=False,
        widget=DATE_INPUT,
        help_text=_("Empty: the issue date plus the payment terms."),
    )


class ForeignIssueForm(IssueForm):
    """Issuing a draft in another currency than the base one: the rate it freezes may be
    typed in (SPEC: Currencies and exchange rates); the operation checks what is typed."""

    exchange_rate = forms.CharField(
        label=_("Exchange rate"),
        required=False,
        max_length=40,
        help_text=_(
            "How much of the base currency one unit is worth. Empty: the newest rate "
            "stored on or before the issue date (Exchange rates page)."
        ),
    )
    rate_source = forms.CharField(
        label=_("Source of the rate"),
        required=False,
        max_length=100,
        help_text=_("Where a rate typed in comes from: your bank, say."),
    )


class ReasonForm(Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class OptionalReasonForm(ReasonForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = False


class PaymentDetailsForm(Form):
    """What a payment is made of; a pending payment is corrected with this form alone."""

    amount = PlainDecimalField(
        label=_("Amount"), max_digits=14, decimal_places=2, min_value=Decimal("0.01")
    )
    date = forms.DateField(label=_("Date"), widget=DATE_INPUT)
    method = forms.ChoiceField(label=_("Method"), choices=PaymentMethod.choices)
    reference = forms.CharField(label=_("Reference"), max_length=200, required=False)
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class PaymentForm(PaymentDetailsForm):
    client = ClientChoiceField(
        label=_("Client"),
        queryset=Client.objects.all(),
        required=False,
        help_text=_("Taken from the invoice when left empty."),
    )
    invoice = forms.CharField(
        label=_("Invoice number"),
        required=False,
        max_length=32,
        help_text=_("Leave empty to put the amount on the client's account as credit."),
    )
    confirmed = forms.BooleanField(
        label=_("Confirmed"),
        required=False,
        initial=True,
        help_text=_("Untick to record it as pending, to be confirmed when the money is in."),
    )
    currency = forms.ChoiceField(
        label=_("Currency"),
        choices=[("", _("The invoice's, or the client's")), *CURRENCY_CHOICES],
        required=False,
        help_text=_("A payment on an invoice is in the invoice's currency."),
    )
    exchange_rate = forms.CharField(
        label=_("Exchange rate"),
        required=False,
        max_length=40,
        help_text=_(
            "In another currency than the base one: how much of the base currency one unit "
            "was worth. Empty: the newest rate stored on or before the payment's date."
        ),
    )
