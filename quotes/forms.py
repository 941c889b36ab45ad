"""Forms of the quote pages. The quote form is the invoice form with "valid until" in place
of the due date; its lines are the invoice form's lines. They only check the shape of the
input: quotes.services checks the rules, and its refusals are put back on these forms."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from billing.forms.filters import ListFilterForm
from billing.forms.invoices import DATE_INPUT, InvoiceForm
from otb.forms import Form

from .models import STAFF_CHANNELS, Answer, QuoteState


class QuoteForm(InvoiceForm):
    due_date = None  # type: ignore[assignment]  # a quote has "valid until" instead
    valid_until = forms.DateField(
        label=_("Valid until"),
        required=False,
        widget=DATE_INPUT,
        help_text=_("Empty: the quote date plus the days of the settings, when it is sent."),
    )

    def __init__(self, *args, sent: bool = False, current_client=None, **kwargs):
        super().__init__(*args, issued=sent, current_client=current_client, **kwargs)
        self.fields["issue_date"].label = _("Quote date")
        self.fields["discount_kind"].label = _("Quote discount")
        self.fields["terms"].label = _("Terms")
        self.fields["currency"].help_text = _("Fixed once the quote is sent.")
        # SPEC: a sent quote went to that client; it keeps it (and its currency).
        self.fields["client"].disabled = sent


class MarkSentForm(Form):
    issue_date = forms.DateField(
        label=_("Quote date"),
        required=False,
        widget=DATE_INPUT,
        help_text=_("Empty: today."),
    )
    valid_until = forms.DateField(
        label=_("Valid until"),
        required=False,
        widget=DATE_INPUT,
        help_text=_("Empty: the quote date plus the days of the settings."),
    )


class WithdrawForm(Form):
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class AnswerForm(Form):
    """The client's answer, recorded by staff on its behalf (``services.record_answer``)."""

    answer = forms.ChoiceField(label=_("Answer"), choices=Answer.choices, widget=forms.RadioSelect)
    name = forms.CharField(
        label=_("Name"),
        max_length=200,
        help_text=_("Who answered for the client."),
    )
    channel = forms.ChoiceField(
        label=_("How"), choices=[(channel.value, channel.label) for channel in STAFF_CHANNELS]
    )
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class QuoteFilterForm(ListFilterForm):
    state = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", _("Any state")), *QuoteState.choices]
    )
    client = forms.CharField(label=_("Client code"), required=False, max_length=20)
