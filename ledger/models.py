"""The client ledger: append-only entries, and each client's balance per currency.

The ledger sits below billing: it names billing's clients, invoices and payments only by
foreign keys, and imports nothing of billing. Entries and balances are written by
``ledger.journal`` alone, which only ``billing.accounting.post`` (the one path for money
events) calls: so the balance is the ledger's, moved in the transaction of each entry.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from otb.fields import amount_field

from .events import CREDIT, DEBIT, EntryKind, entry_kinds_with_sign, manual_kinds


class LedgerIsAppendOnly(Exception):
    """Ledger entries are never changed or deleted: a mistake is corrected by a new entry."""


MEMO_MAX_LENGTH = 500


class LedgerEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise LedgerIsAppendOnly("Ledger entries cannot be changed.")

    def delete(self):
        raise LedgerIsAppendOnly("Ledger entries cannot be deleted.")

    # Manager.from_queryset copies no method marked so: the manager cannot update or delete.
    update.queryset_only = True  # type: ignore[attr-defined]
    delete.queryset_only = True  # type: ignore[attr-defined]


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
    # The currency of the amount: its invoice's, or the client's (journal.append sets it).
    currency = models.CharField(_("currency"), max_length=3, editable=False)
    memo = models.CharField(_("memo"), max_length=MEMO_MAX_LENGTH, blank=True)
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
    credit_note = models.ForeignKey(
        "billing.CreditNote",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
    )
    refund = models.ForeignKey(
        "billing.Refund",
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
        # The accounting exports (exports/): the books in one file, to take away. The
        # ledger's app carries it, so administrators and bookkeepers have it, viewers not.
        permissions = [("export_books", "Can export the books")]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind__in=entry_kinds_with_sign(CREDIT)) & Q(amount__gte=0))
                | (Q(kind__in=entry_kinds_with_sign(DEBIT)) & Q(amount__lte=0))
                | ~Q(kind__in=entry_kinds_with_sign(CREDIT) + entry_kinds_with_sign(DEBIT)),
                name="ledger_entry_sign_matches_kind",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=manual_kinds()) | ~Q(amount=0),
                name="ledger_manual_entry_not_zero",
            ),
        ]
        indexes = [
            # With the amount: the balance before a page of the ledger is read from the index.
            # Per currency: a client's ledger is kept per currency.
            models.Index(
                fields=["client", "currency", "date", "id", "amount"],
                name="ledger_client_currency_date",
            ),
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


class Account(models.Model):
    """A client's balance in one currency: the sum of its ledger entries in that currency,
    kept by ``ledger.journal.append`` in the transaction that appends each one, so lists
    show it without summing a ledger per row. The entries stay the truth; ``check_ledger``
    compares the two. Positive: the client has credit; negative: the client owes."""

    client = models.ForeignKey("billing.Client", on_delete=models.PROTECT, related_name="accounts")
    currency = models.CharField(_("currency"), max_length=3)
    balance = amount_field(_("balance"))
    opened_by = models.OneToOneField(
        LedgerEntry,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("opened by"),
    )
    """The balance brought in that opened the account (an import's), if one did: set once,
    by the database's test of "none yet", so a file imported twice, or two imports at once,
    never open it twice."""

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        default_permissions = ("view",)
        constraints = [
            models.UniqueConstraint(fields=["client", "currency"], name="account_client_currency")
        ]

    def __str__(self) -> str:
        return f"{self.client_id} {self.currency} {self.balance}"
