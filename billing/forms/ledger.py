"""The form of a manual credit or debit: the client's ledger page, and the back office."""

from django import forms
from django.utils.translation import gettext_lazy as _

from ledger.events import EntryKind
from ledger.models import LedgerEntry
from otb.forms import Form


class ManualEntryForm(Form):
    """A manual credit or debit. The amount is checked by the operation (more than 0, at
    most 2 decimals), so the page says what every other caller is told."""

    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[
            (EntryKind.MANUAL_CREDIT, _("Credit (in the client's favour)")),
            (EntryKind.MANUAL_DEBIT, _("Debit (the client owes more)")),
        ],
    )
    amount = forms.CharField(
        label=_("Amount"),
        max_length=40,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    memo = forms.CharField(
        label=_("Memo"),
        max_length=LedgerEntry._meta.get_field("memo").max_length,
        help_text=_("Say what this entry is for."),
    )
    date = forms.DateField(
        label=_("Date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class ManualEntryAdminForm(ManualEntryForm, forms.ModelForm):
    """The back office's form for the same entry: the client chosen, every other field and
    every check the ledger page's. Only manual credits and debits are entered by hand; every
    other entry is posted by the operation that caused it."""

    class Meta:
        model = LedgerEntry
        fields = ("client", "kind", "amount", "memo", "date")

    def _get_validation_exclusions(self):
        # The amount typed is positive, and text until the operation cleans it; its stored
        # sign comes from the kind, in the operation.
        return super()._get_validation_exclusions() | {"amount", "kind"}
