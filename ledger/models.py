from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from billing.models import amount_field


class LedgerIsAppendOnly(Exception):
    """Ledger entries are never changed or deleted: a mistake is corrected by a new entry."""


class EntryKind(models.TextChoices):
    INVOICE_ISSUED = "invoice_issued", _("Invoice issued")
    INVOICE_CHANGED = "invoice_changed", _("Issued invoice changed")
    INVOICE_CANCELLED = "invoice_cancelled", _("Invoice cancelled")
    PAYMENT_CONFIRMED = "payment_confirmed", _("Payment received")
    PAYMENT_REVERSED = "payment_reversed", _("Payment reversed")
    MANUAL_CREDIT = "manual_credit", _("Manual credit")
    MANUAL_DEBIT = "manual_debit", _("Manual debit")


class LedgerEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise LedgerIsAppendOnly("Ledger entries cannot be changed.")

    def delete(self):
        raise LedgerIsAppendOnly("Ledger entries cannot be deleted.")

    update.queryset_only = True
    delete.queryset_only = True


class LedgerEntry(models.Model):
    """One event that changed what a client owes. Positive amounts are in the client's
    favour (payments, credits); negative ones are what the client owes (invoices, debits)."""

    client = models.ForeignKey(
        "billing.Client",
        on_delete=models.PROTECT,
        related_name="ledger_entries",
        verbose_name=_("client"),
    )
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=20, choices=EntryKind.choices)
    amount = amount_field(_("amount"))
    # The currency of the amount: its invoice's, or the client's (post_entry sets it).
    currency = models.CharField(_("currency"), max_length=3, editable=False)
    memo = models.CharField(_("memo"), max_length=500, blank=True)
    invoice = models.ForeignKey(
        "billing.Invoice",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
    )
    payment = models.ForeignKey(
        "billing.Payment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    objects = LedgerEntryQuerySet.as_manager()

    class Meta:
        ordering = ["date", "id"]
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        # No "change" or "delete": the ledger is append-only.
        default_permissions = ("add", "view")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind__in=["manual_credit", "payment_confirmed", "invoice_cancelled"])
                    & Q(amount__gte=0)
                )
                | (
                    Q(kind__in=["manual_debit", "payment_reversed", "invoice_issued"])
                    & Q(amount__lte=0)
                )
                | Q(kind="invoice_changed"),
                name="ledger_entry_sign_matches_kind",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["manual_credit", "manual_debit"]) | ~Q(amount=0),
                name="ledger_manual_entry_not_zero",
            ),
        ]
        indexes = [
            # With the amount: the balance before a page of the ledger is read from the index.
            models.Index(fields=["client", "date", "id", "amount"], name="ledger_client_date"),
            models.Index(fields=["date", "id"], name="ledger_date"),
            # Money collected per period and currency, from the index alone (reports).
            models.Index(fields=["kind", "date", "currency", "amount"], name="ledger_kind_date"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise LedgerIsAppendOnly("Ledger entries cannot be changed.")
        # Always an INSERT: a new instance given the id of an existing entry would otherwise
        # be saved with an UPDATE that overwrites it (the database refuses the duplicate id).
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise LedgerIsAppendOnly("Ledger entries cannot be deleted.")
