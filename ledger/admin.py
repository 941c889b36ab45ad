from decimal import Decimal

from django import forms
from django.contrib import admin
from django.contrib.admin import DateFieldListFilter
from django.utils.translation import gettext_lazy

from billing.admin import signed_amount
from otb.admin import OperationAdmin
from settings_app.selectors import business_today

from .models import EntryKind, LedgerEntry
from .services import post_manual_credit, post_manual_debit


class ManualEntryForm(forms.ModelForm):
    """Only manual credits and debits are entered by hand; every other entry is posted by
    the operation that caused it."""

    kind = forms.ChoiceField(
        label=gettext_lazy("kind"),
        choices=[
            (EntryKind.MANUAL_CREDIT, EntryKind.MANUAL_CREDIT.label),
            (EntryKind.MANUAL_DEBIT, EntryKind.MANUAL_DEBIT.label),
        ],
    )
    amount = forms.DecimalField(
        label=gettext_lazy("amount"),
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0.01"),
        help_text=gettext_lazy("Always positive: the kind says in whose favour."),
    )

    class Meta:
        model = LedgerEntry
        fields = ("client", "kind", "amount", "memo", "date")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "memo" in self.fields:
            self.fields["memo"].required = True

    def _get_validation_exclusions(self):
        # The amount typed is positive; its stored sign comes from the kind, in the service.
        return super()._get_validation_exclusions() | {"amount", "kind"}


@admin.register(LedgerEntry)
class LedgerEntryAdmin(OperationAdmin):
    form = ManualEntryForm
    list_display = (
        "date",
        "client",
        "kind",
        "amount_display",
        "memo",
        "invoice",
        "payment",
        "created_by",
        "created_at",
    )
    list_filter = ("kind", ("date", DateFieldListFilter))
    search_fields = ("client__code", "client__name", "memo")
    # Prefetched, not joined: see billing.views.invoices.invoice_list.
    list_select_related = ()
    list_prefetch_related = ("client", "invoice", "payment", "created_by")
    autocomplete_fields = ("client",)
    ordering = ("-date", "-id")
    actions = None

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("client", "kind", "amount", "memo", "date")
        return (
            "client",
            "date",
            "kind",
            "amount",
            "memo",
            "invoice",
            "payment",
            "created_by",
            "created_at",
        )

    def has_change_permission(self, request, obj=None):
        return False  # append-only: a mistake is corrected by a new entry

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("amount"), ordering="amount")
    def amount_display(self, entry):
        return signed_amount(entry.amount, entry.client.default_currency)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("date", business_today())
        return initial

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        post = post_manual_credit if data["kind"] == EntryKind.MANUAL_CREDIT else post_manual_debit
        obj.pk = post(
            client=data["client"],
            amount=data["amount"],
            memo=data["memo"],
            date=data["date"],
            acting_user=request.user,
        ).pk
