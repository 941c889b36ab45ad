"""The shapes of the outbox's forms; what the values may be is for outbox/services.py."""

from django import forms
from django.utils.translation import gettext_lazy as _

from otb.forms import Form

from .models import MessageStatus


class SendInvoiceForm(Form):
    to = forms.CharField(
        label=_("To"),
        max_length=5000,
        help_text=_("Several addresses: separate them with commas."),
    )
    cc = forms.CharField(label=_("CC"), max_length=5000, required=False)
    bcc = forms.CharField(label=_("BCC"), max_length=5000, required=False)
    subject = forms.CharField(label=_("Subject"), max_length=255)
    body = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 10}), strip=False)

    def __init__(self, *args, is_draft: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.is_draft = is_draft

    def operation_fields(self) -> dict:
        # For a draft, the page's one button says "Issue and send", and the page says what
        # issuing does: pressing it is the confirmation (no box to tick first).
        return dict(self.cleaned_data) | ({"issue_draft": True} if self.is_draft else {})


class SendCreditNoteForm(Form):
    to = SendInvoiceForm.base_fields["to"]
    cc = SendInvoiceForm.base_fields["cc"]
    subject = SendInvoiceForm.base_fields["subject"]
    body = SendInvoiceForm.base_fields["body"]


class TestEmailForm(Form):
    to = forms.CharField(label=_("Send a test e-mail to"), max_length=254)


class OutboxFilterForm(forms.Form):
    ATTENTION = "attention"
    show = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[
            ("", _("All messages")),
            (ATTENTION, _("Needing attention")),
            *MessageStatus.choices,
        ],
    )
