"""The table of money events (SPEC: Client ledger, Payments).

Each kind of event that changes what a client owes, or what an invoice has been paid, has one
row here: the ledger entry it posts (or none), the sign of that entry, its memo, whether its
payment counts as paid on the invoice, and whether it is money collected. The one entry point,
``billing.accounting.post``, reads this table; so do the ledger's sign constraint, the reports
and the benchmark data. A new kind of event is one new row and one call.

This module knows nothing of billing: it is plain data.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class EntryKind(models.TextChoices):
    """What a ledger entry records: the stored ``LedgerEntry.kind``."""

    INVOICE_ISSUED = "invoice_issued", _("Invoice issued")
    INVOICE_CHANGED = "invoice_changed", _("Issued invoice changed")
    INVOICE_CANCELLED = "invoice_cancelled", _("Invoice cancelled")
    PAYMENT_CONFIRMED = "payment_confirmed", _("Payment received")
    PAYMENT_REVERSED = "payment_reversed", _("Payment reversed")
    MANUAL_CREDIT = "manual_credit", _("Manual credit")
    MANUAL_DEBIT = "manual_debit", _("Manual debit")
    CREDIT_NOTE_ISSUED = "credit_note_issued", _("Credit note issued")
    REFUND_PAID = "refund_paid", _("Refund")
    REFUND_REVERSED = "refund_reversed", _("Refund reversed")
    IMPORTED_BALANCE = "imported_balance", _("Balance brought in")


class Event(models.TextChoices):
    """Every money event, whether or not it posts a ledger entry."""

    INVOICE_ISSUED = "invoice_issued", _("Invoice issued")
    INVOICE_CHANGED = "invoice_changed", _("Issued invoice changed")
    INVOICE_MOVED_AWAY = "invoice_moved_away", _("Invoice moved to another client")
    INVOICE_MOVED_HERE = "invoice_moved_here", _("Invoice moved from another client")
    INVOICE_CANCELLED = "invoice_cancelled", _("Invoice cancelled")
    PAYMENT_CONFIRMED = "payment_confirmed", _("Payment confirmed")
    PAYMENT_REVERSED = "payment_reversed", _("Confirmed payment reversed")
    CREDIT_APPLIED = "credit_applied", _("Client credit applied to an invoice")
    CREDIT_APPLICATION_REVERSED = "credit_reversed", _("Client credit application reversed")
    MANUAL_CREDIT = "manual_credit", _("Manual credit")
    MANUAL_DEBIT = "manual_debit", _("Manual debit")
    CREDIT_NOTE_ISSUED = "credit_note_issued", _("Credit note issued")
    REFUND_PAID = "refund_paid", _("Refund paid")
    REFUND_REVERSED = "refund_reversed", _("Refund reversed")
    IMPORTED_BALANCE = "imported_balance", _("Balance brought in")


# Signs of an entry's amount: in the client's favour, against it, or either way.
CREDIT, DEBIT, EITHER = 1, -1, 0


@dataclass(frozen=True)
class EventRule:
    entry_kind: str | None
    """The ledger entry the event posts; None: it posts nothing (the money was already on
    the account, as client credit)."""
    sign: int
    """CREDIT (amount ≥ 0), DEBIT (amount ≤ 0) or EITHER."""
    memo: Promise | None
    """The entry's memo, filled with the event's values; None: the user types it."""
    counts_as_paid: bool = False
    """Its payment counts toward the invoice's amount paid from this event on (the
    reversals say False: they end it)."""
    collected: int = 0
    """+1: money received, -1: money received earlier given back; 0: not money in."""
    manual: bool = False
    """Entered by a person (a manual credit or debit), never caused by another record."""
    credited: bool = False
    """A credit note: it lowers its invoice's balance due (amount credited)."""


RULES: dict[str, EventRule] = {
    Event.INVOICE_ISSUED: EventRule(
        EntryKind.INVOICE_ISSUED, DEBIT, _("Invoice %(number)s issued")
    ),
    Event.INVOICE_CHANGED: EventRule(
        EntryKind.INVOICE_CHANGED,
        EITHER,
        _("Invoice %(number)s changed: total %(old)s → %(new)s"),
    ),
    Event.INVOICE_MOVED_AWAY: EventRule(
        EntryKind.INVOICE_CHANGED, CREDIT, _("Invoice %(number)s moved to client %(code)s")
    ),
    Event.INVOICE_MOVED_HERE: EventRule(
        EntryKind.INVOICE_CHANGED, DEBIT, _("Invoice %(number)s moved from client %(code)s")
    ),
    Event.INVOICE_CANCELLED: EventRule(
        EntryKind.INVOICE_CANCELLED, CREDIT, _("Invoice %(number)s cancelled")
    ),
    Event.PAYMENT_CONFIRMED: EventRule(
        EntryKind.PAYMENT_CONFIRMED,
        CREDIT,
        _("Payment received: %(method)s%(reference)s (%(where)s)"),
        counts_as_paid=True,
        collected=1,
    ),
    Event.PAYMENT_REVERSED: EventRule(
        EntryKind.PAYMENT_REVERSED,
        DEBIT,
        _("Payment reversed: %(method)s%(reference)s (%(where)s): %(reason)s"),
        collected=-1,
    ),
    # SPEC: a "client credit" payment moves credit already on the account to an invoice, so
    # it posts no entry: the balance already holds that money.
    Event.CREDIT_APPLIED: EventRule(None, CREDIT, None, counts_as_paid=True),
    Event.CREDIT_APPLICATION_REVERSED: EventRule(None, DEBIT, None),
    Event.MANUAL_CREDIT: EventRule(EntryKind.MANUAL_CREDIT, CREDIT, None, manual=True),
    Event.MANUAL_DEBIT: EventRule(EntryKind.MANUAL_DEBIT, DEBIT, None, manual=True),
    # SPEC: Exports and imports. What a client owed (or had in hand) on the day the books
    # moved here from another product: a manual entry of its own kind, so the journal posts
    # it against the opening balances, not as an adjustment.
    Event.IMPORTED_BALANCE: EventRule(EntryKind.IMPORTED_BALANCE, EITHER, None, manual=True),
    # SPEC: Credit notes. Its total is in the client's favour: it lowers the invoice's
    # balance due, and what goes beyond it is client credit.
    Event.CREDIT_NOTE_ISSUED: EventRule(
        EntryKind.CREDIT_NOTE_ISSUED,
        CREDIT,
        _("Credit note %(number)s for invoice %(invoice)s"),
        credited=True,
    ),
    # SPEC: Payments, a refund pays client credit back: money given back.
    Event.REFUND_PAID: EventRule(
        EntryKind.REFUND_PAID,
        DEBIT,
        _("Refund: %(method)s%(reference)s"),
        collected=-1,
    ),
    Event.REFUND_REVERSED: EventRule(
        EntryKind.REFUND_REVERSED,
        CREDIT,
        _("Refund reversed: %(method)s%(reference)s: %(reason)s"),
        collected=1,
    ),
}


def entry_kinds_with_sign(sign: int) -> list[str]:
    """The entry kinds whose events all post amounts of ``sign``: the ledger's check
    constraint, written from this table."""
    kinds: dict[str, set[int]] = {}
    for rule in RULES.values():
        if rule.entry_kind is not None:
            kinds.setdefault(rule.entry_kind, set()).add(rule.sign)
    return sorted(kind for kind, signs in kinds.items() if signs == {sign})


def collected_kinds() -> list[str]:
    """The entry kinds that are money received (+) or given back (−)."""
    return sorted(
        {rule.entry_kind for rule in RULES.values() if rule.collected and rule.entry_kind}
    )


def manual_kinds() -> list[str]:
    return sorted({rule.entry_kind for rule in RULES.values() if rule.manual and rule.entry_kind})


def credit_kinds() -> list[str]:
    """The entry kinds of credit notes, which lower what their invoice has outstanding."""
    return sorted({rule.entry_kind for rule in RULES.values() if rule.credited and rule.entry_kind})


def charge_kinds() -> list[str]:
    """The entry kinds that change what an invoice charges: issued and changed (a move
    between clients is a change on each)."""
    return [EntryKind.INVOICE_ISSUED, EntryKind.INVOICE_CHANGED]
