"""The one path for money events (SPEC: Client ledger, Payments).

Every event that changes what a client owes or what an invoice has been paid goes through
``post``: invoice issued, changed, moved or cancelled; payment confirmed or reversed; client
credit applied; manual credit or debit. In the caller's transaction it posts the ledger entry
the event's row of ``ledger.events.RULES`` says (through ``ledger.journal``, which moves the
client's balance), recomputes the invoice's amount paid and status, and derives its
outstanding spans again. Once the transaction commits, ``money_event_committed`` tells the
subscribers (the receipt e-mail, the PDF cache); nothing of theirs can undo or half-do the
event. History loaded in bulk (the benchmark data, imports) goes through ``post_in_bulk``:
the same entries from the same table, written many at a time; a batch of invoices issued at
once (the recurring run) through ``issue_in_bulk``, which does for each all ``post`` does.

No other product code creates a ledger entry, moves a balance, or writes an invoice's amount
paid, status or spans: ``tests/test_architecture.py`` walks the code and fails on any.

Why billing holds the entry point and the ledger sits below it: the event's effects on an
invoice (amount paid, status, spans) are billing's, and its effect on the books (the entry
and the balance) the ledger's. The ledger owns its entries and its balances and imports
nothing of billing; billing calls down into it here and nowhere else. The dependency runs
one way, and the ledger can serve invoices, credit notes and refunds alike.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.dispatch import Signal
from django.utils import timezone

from ledger import journal
from ledger.events import CREDIT, DEBIT, RULES, Event
from ledger.models import LedgerEntry
from settings_app.selectors import business_today, get_business_settings

from . import outstanding, rules
from .models import (
    Client,
    CreditNote,
    CreditNoteStatus,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentStatus,
    Refund,
)
from .money import CENT, ZERO, payment_in_base

# What the one path keeps of a payment in the base currency.
PAYMENT_IN_BASE_FIELDS = ["amount_in_base", "settled_in_base", "exchange_difference"]

# Sent after the transaction that posted an event commits, with ``event``: a MoneyEvent.
money_event_committed = Signal()


@dataclass(frozen=True)
class MoneyEvent:
    event: str
    client_id: int
    invoice_id: int | None = None
    payment_id: int | None = None
    entry_id: int | None = None
    credit_note_id: int | None = None
    refund_id: int | None = None


def post(
    event: str,
    *,
    client: Client,
    acting_user: Any,
    amount: Decimal = ZERO,
    invoice: Invoice | None = None,
    payment: Payment | None = None,
    credit_note: CreditNote | None = None,
    refund: Refund | None = None,
    date: datetime.date | None = None,
    memo: str | None = None,
    values: dict[str, Any] | None = None,
    today: datetime.date | None = None,
    currency: str | None = None,
) -> LedgerEntry | None:
    """Post ``event`` for ``client`` (locked by the caller, with the invoice and payment).

    ``amount`` is signed, in the client's favour when positive; the event's rule fixes its
    sign. ``memo`` is the user's text for a manual entry; other memos are the rule's,
    filled with ``values``. ``invoice`` is saved here with its amount paid and status: the
    caller sets what else changed on it and leaves the saving to this function. Returns the
    entry posted, or None when the event posts none (client credit applied, a change that
    left the total as it was).
    """
    today = today or business_today()
    posting = _posting(
        event,
        client_id=client.pk,
        amount=amount,
        currency=_currency(client, invoice=invoice, payment=payment, refund=refund, given=currency),
        date=date or today,
        memo=memo,
        values=values,
        created_by=acting_user,
        invoice_id=invoice.pk if invoice is not None else None,
        payment_id=payment.pk if payment is not None else None,
        credit_note_id=credit_note.pk if credit_note is not None else None,
        refund_id=refund.pk if refund is not None else None,
    )
    entry = journal.append(posting, client_label=client.code) if posting is not None else None
    if invoice is not None:
        _settle(invoice, event=event, today=today)
    elif payment is not None:
        _value_on_account(payment)
    committed = MoneyEvent(
        event=event,
        client_id=client.pk,
        invoice_id=invoice.pk if invoice is not None else None,
        payment_id=payment.pk if payment is not None else None,
        entry_id=entry.pk if entry is not None else None,
        credit_note_id=credit_note.pk if credit_note is not None else None,
        refund_id=refund.pk if refund is not None else None,
    )
    _tell_on_commit(committed)
    return entry


def _tell_on_commit(event: MoneyEvent) -> None:
    """``money_event_committed`` for ``event`` once the transaction commits; a subscriber
    that fails is logged and stops nothing."""
    transaction.on_commit(
        lambda: money_event_committed.send(sender=MoneyEvent, event=event), robust=True
    )


def issue_in_bulk(invoices: Sequence[Invoice], *, acting_user: Any, today: datetime.date) -> None:
    """Post ``INVOICE_ISSUED`` for many invoices issued at once, not saved yet (numbered,
    dated, valued in the base currency): the live bulk form of ``post``, for a batch of
    the recurring run. Everything ``post`` does for each, in a few statements for all:
    each invoice saved (created here, with its amount paid and status, as ``post`` saves
    its invoice), its entry from the same row of RULES appended, its client's balance
    moved, its spans derived, and ``money_event_committed`` sent for each once the
    transaction commits.

    A balance the entries would take beyond what the column holds is refused
    (InvalidInput on "amount", ``journal.append_many``), and nothing is written."""
    if not invoices:
        return
    for invoice in invoices:
        _settle_issued(invoice, today=today)
    Invoice.objects.bulk_create(invoices)
    postings = []
    for invoice in invoices:
        assert invoice.issue_date is not None  # issued: dated
        posting = _posting(
            Event.INVOICE_ISSUED,
            client_id=invoice.client_id,
            amount=-invoice.total,
            currency=invoice.currency,
            date=invoice.issue_date,
            memo=None,
            values={"number": invoice.number},
            created_by=acting_user,
            invoice_id=invoice.pk,
            payment_id=None,
        )
        if posting is not None:
            postings.append(posting)
    journal.append_many(postings)
    outstanding.record_issued_many(invoices)
    for invoice in invoices:
        _tell_on_commit(
            MoneyEvent(
                event=Event.INVOICE_ISSUED, client_id=invoice.client_id, invoice_id=invoice.pk
            )
        )


def _currency(
    client: Client,
    *,
    invoice: Invoice | None,
    payment: Payment | None,
    refund: Refund | None,
    given: str | None,
) -> str:
    """The currency of an event's entry: its invoice's, its payment's or refund's, the one
    given (a manual entry), else the client's default (SPEC: a client's ledger is kept per
    currency)."""
    for source in (invoice, payment, refund):
        if source is not None:
            return source.currency
    return given or client.default_currency


def _posting(
    event: str,
    *,
    client_id: int,
    amount: Decimal,
    currency: str,
    date: datetime.date,
    memo: str | None,
    values: Mapping[str, Any] | None,
    created_by: Any,
    invoice_id: int | None,
    payment_id: int | None,
    credit_note_id: int | None = None,
    refund_id: int | None = None,
    recorded_at: datetime.datetime | None = None,
) -> journal.Posting | None:
    """The ledger entry ``event`` posts, as its row of RULES says: its kind, its sign checked
    (ValueError), its memo (the rule's filled with ``values``, or the user's ``memo`` for a
    manual entry). None when it posts none (client credit applied, a change that left the
    total as it was). ``post`` and ``post_in_bulk`` both build their entries here."""
    rule = RULES[event]
    if (rule.sign == CREDIT and amount < 0) or (rule.sign == DEBIT and amount > 0):
        raise ValueError(
            f"{event}: an amount of {amount} has the wrong sign "
            f"(client {client_id}, invoice {invoice_id}, payment {payment_id})"
        )
    if rule.entry_kind is None or (amount == 0 and not rule.manual):
        return None
    return journal.Posting(
        client_id=client_id,
        kind=rule.entry_kind,
        amount=amount,
        currency=currency,
        memo=str(rule.memo) % (values or {}) if memo is None else memo,
        date=date,
        created_by=created_by,
        invoice_id=invoice_id,
        payment_id=payment_id,
        credit_note_id=credit_note_id,
        refund_id=refund_id,
        recorded_at=recorded_at,
    )


@dataclass(frozen=True)
class BulkEvent:
    """One money event of a bulk load (``post_in_bulk``): what ``post`` is told, by ids."""

    event: str
    client_id: int
    amount: Decimal
    """Signed as for ``post``: in the client's favour when positive."""
    currency: str
    date: datetime.date
    values: Mapping[str, Any] | None = None
    """What the rule's memo is filled with (``post``'s ``values``)."""
    memo: str | None = None
    """The user's text of a manual entry."""
    invoice_id: int | None = None
    payment_id: int | None = None
    credit_note_id: int | None = None
    refund_id: int | None = None
    created_by: Any = None
    recorded_at: datetime.datetime | None = None
    """When the source recorded it; None: now."""


def post_in_bulk(events: Iterable[BulkEvent]) -> int:
    """Post many money events at once: for loading history in bulk (the benchmark data of
    bench/, imports from other products), never for a live operation. Returns how many
    ledger entries were written.

    Each event's entry is the one ``post`` would write (kind, sign and memo from RULES),
    and the balances move by their sum, all in one transaction. Every event is checked
    before anything is written: one of the wrong sign raises ValueError, and nothing is
    written.

    Only the ledger is written. The caller promises the rest of what ``post`` does: that its
    invoices' amount paid and status are the ones their payments make (``billing.rules``),
    and that it derives the outstanding spans once the load is done
    (``billing.outstanding.rebuild``). No ``money_event_committed`` is sent: history sends no
    receipts.
    """
    postings = []
    for item in events:
        posting = _posting(
            item.event,
            client_id=item.client_id,
            amount=item.amount,
            currency=item.currency,
            date=item.date,
            memo=item.memo,
            values=item.values,
            created_by=item.created_by,
            invoice_id=item.invoice_id,
            payment_id=item.payment_id,
            credit_note_id=item.credit_note_id,
            refund_id=item.refund_id,
            recorded_at=item.recorded_at,
        )
        if posting is not None:
            postings.append(posting)
    return journal.append_many(postings)


def _settle(invoice: Invoice, *, event: str, today: datetime.date) -> None:
    """The invoice's amount paid and status from its facts, saved; its spans derived again."""
    if event == Event.INVOICE_ISSUED:
        _settle_issued(invoice, today=today)
        invoice.save()
        outstanding.record_issued(invoice)
        return
    counted = invoice.payments.counting().aggregate(s=Sum("amount"))["s"] or ZERO
    credited = (
        invoice.credit_notes.filter(status=CreditNoteStatus.ISSUED).aggregate(s=Sum("total"))["s"]
        or ZERO
    )
    invoice.amount_credited = credited.quantize(CENT)
    invoice.amount_paid = rules.amount_paid(
        counted=counted.quantize(CENT), total=invoice.total, credited=invoice.amount_credited
    )
    invoice.status = rules.derive_status(invoice, today=today)
    invoice.save()
    outstanding.refresh(invoice.pk)
    _value_payments(invoice)


def _settle_issued(invoice: Invoice, *, today: datetime.date) -> None:
    """A just-issued invoice's amount paid and status (not saved): no payment or credit
    note can be on it yet, and it has no spans to read or delete."""
    invoice.amount_paid = ZERO
    invoice.amount_credited = ZERO
    invoice.status = rules.derive_status(invoice, today=today)


def _value_payments(invoice: Invoice) -> None:
    """Each payment of ``invoice`` in the base currency, from the facts (SPEC: Currencies
    and exchange rates): the counting ones in the order they are applied (as
    ``selectors.payment_split``), the one that clears the invoice settling exactly what is
    left of its base total; those that do not count settle nothing. Derived again on every
    event of the invoice, so a reversal or a credit note moves the clearing payment."""
    payments = list(invoice.payments.order_by("pk"))
    if not payments:
        return
    base = _base_currency()
    credited_in_base = (
        invoice.credit_notes.filter(status=CreditNoteStatus.ISSUED).aggregate(
            s=Sum("total_in_base")
        )["s"]
        or ZERO
    )
    remaining = invoice.total - invoice.amount_credited
    base_left = (invoice.total_in_base or ZERO) - credited_in_base
    changed = []
    for payment in payments:
        before = (payment.amount_in_base, payment.settled_in_base, payment.exchange_difference)
        if payment.status != PaymentStatus.CONFIRMED:
            payment.settled_in_base = payment.exchange_difference = None
        elif payment.exchange_rate is not None and invoice.exchange_rate is not None:
            applied = min(payment.amount, max(remaining, ZERO))
            remaining -= applied
            valued = payment_in_base(
                amount=payment.amount,
                applied=applied,
                payment_rate=payment.exchange_rate,
                invoice_rate=invoice.exchange_rate,
                base_currency=base,
                clears=applied > 0 and remaining == 0,
                base_left=base_left,
            )
            base_left -= valued.settled
            payment.amount_in_base = valued.amount
            payment.settled_in_base = valued.settled
            payment.exchange_difference = valued.difference
        else:
            remaining -= min(payment.amount, max(remaining, ZERO))
        if (payment.amount_in_base, payment.settled_in_base, payment.exchange_difference) != (
            before
        ):
            changed.append(payment)
    if changed:
        Payment.objects.bulk_update(changed, PAYMENT_IN_BASE_FIELDS)


def value_payments_again(payments: Iterable[Payment]) -> None:
    """The base figures of ``payments`` (and of the other payments of their invoices) derived
    again: for payments given a rate after the fact (``check_rates --fill``)."""
    invoices = set()
    for payment in payments:
        if payment.invoice_id is None:
            _value_on_account(payment)
        else:
            invoices.add(payment.invoice_id)
    for invoice in Invoice.objects.filter(pk__in=invoices):
        _value_payments(invoice)


def _value_on_account(payment: Payment) -> None:
    """A payment without an invoice is all client credit, valued at its own rate: no gain or
    loss; one that does not count settles nothing."""
    if payment.exchange_rate is None:
        return
    if payment.status == PaymentStatus.CONFIRMED:
        valued = payment_in_base(
            amount=payment.amount,
            applied=ZERO,
            payment_rate=payment.exchange_rate,
            invoice_rate=payment.exchange_rate,
            base_currency=_base_currency(),
            clears=False,
            base_left=ZERO,
        )
        payment.amount_in_base = valued.amount
        payment.settled_in_base, payment.exchange_difference = ZERO, ZERO
    else:
        payment.settled_in_base = payment.exchange_difference = None
    payment.save(update_fields=PAYMENT_IN_BASE_FIELDS)


def _base_currency() -> str:
    return get_business_settings().default_currency


def mark_overdue(*, today: datetime.date) -> int:
    """Move issued invoices whose due date has passed to overdue (the daily maintenance).
    Nothing else changes: their balance and spans do not depend on the status."""
    return Invoice.objects.past_due_but_not_marked(today=today).update(
        status=InvoiceStatus.OVERDUE, updated_at=timezone.now()
    )


def refresh_spans_after_time_zone_change() -> None:
    """A reversal counts from the day, in the business's time zone, it was recorded: after
    the zone changed, the spans of invoices with a reversed payment are derived again."""
    outstanding.refresh_reversed()


def close_accounts(client: Client) -> None:
    """A client entered by mistake is deleted (billing.services.delete_client): its empty
    accounts go first."""
    journal.close_accounts(client.pk)
