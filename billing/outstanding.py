"""What every issued invoice had outstanding, day by day: the OutstandingSpan rows.

An invoice's balance at the end of a day is, as the books now say it (SPEC: Client ledger):
nothing before its issue date or once a cancellation dated by then; otherwise its total by
then (its "issued" and "changed" ledger entries dated by then) less its credit notes
dated by then, less its confirmed payments dated by then and not reversed by then (a
reversal counts from the day it was recorded, in the business's time zone), never below
zero. It changes only on the days something is dated, so it is kept as spans of equal
balance, and the reports read those instead of adding up every invoice's history for every
question.

The spans are derived data: ``refresh`` writes an invoice's again from its facts, in the
transaction of each money event (``billing.accounting.post``, the only caller); ``rebuild``
writes them for every invoice (``manage.py rebuild_outstanding``, bench/seed.py).
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils import timezone

from billing.models import OPEN_MONTH, Invoice, OutstandingSpan, Payment
from ledger.events import EntryKind, charge_kinds, credit_kinds
from ledger.models import LedgerEntry
from settings_app.selectors import get_business_settings

ZERO = Decimal("0.00")
CHARGES = tuple(charge_kinds())
CANCELLED = EntryKind.INVOICE_CANCELLED
CREDITS = tuple(credit_kinds())


@dataclass
class InvoiceFacts:
    """What an invoice's balance depends on."""

    invoice_id: int
    client_id: int
    currency: str
    issue_date: datetime.date
    due_date: datetime.date
    charges: list[tuple[datetime.date, Decimal]] = field(default_factory=list)
    cancelled_on: datetime.date | None = None
    # Issued credit notes: (dated, amount).
    credits: list[tuple[datetime.date, Decimal]] = field(default_factory=list)
    # Confirmed payments: (dated, amount, reversed on or None).
    payments: list[tuple[datetime.date, Decimal, datetime.date | None]] = field(
        default_factory=list
    )

    def balance_at(self, day: datetime.date) -> Decimal:
        if day < self.issue_date or (self.cancelled_on is not None and self.cancelled_on <= day):
            return ZERO
        total = -sum((amount for dated, amount in self.charges if dated <= day), ZERO)
        total -= sum((amount for dated, amount in self.credits if dated <= day), ZERO)
        paid = sum(
            (
                amount
                for dated, amount, reversed_on in self.payments
                if dated <= day and (reversed_on is None or reversed_on > day)
            ),
            ZERO,
        )
        return total - min(total, paid)

    def change_days(self) -> list[datetime.date]:
        days = {
            self.issue_date,
            *(dated for dated, _amount in self.charges),
            *(dated for dated, _amount in self.credits),
        }
        if self.cancelled_on is not None:
            days.add(self.cancelled_on)
        for dated, _amount, reversed_on in self.payments:
            days.add(dated)
            if reversed_on is not None:
                days.add(reversed_on)
        return sorted(days)


def spans(facts: InvoiceFacts) -> list[tuple[datetime.date, datetime.date | None, Decimal]]:
    """(starts, ends or None, balance): the days with a balance above zero, in spans of one
    balance each; ``ends`` is the first day after the span."""
    found: list[list] = []
    for day in facts.change_days():
        balance = facts.balance_at(day)
        if found and found[-1][1] is None:
            if found[-1][2] == balance:
                continue
            found[-1][1] = day
        if balance > 0:
            found.append([day, None, balance])
    return [tuple(span) for span in found]


def _next_month(day: datetime.date) -> datetime.date:
    return datetime.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def pieces(facts: InvoiceFacts) -> Iterable[dict]:
    """The invoice's spans as OutstandingSpan fields: an ended span cut at month ends."""
    common = {
        "invoice_id": facts.invoice_id,
        "client_id": facts.client_id,
        "currency": facts.currency,
        "due_date": facts.due_date,
    }
    for starts, ends, balance in spans(facts):
        if ends is None:
            yield {
                **common,
                "month": OPEN_MONTH,
                "starts": starts,
                "ends": None,
                "balance": balance,
            }
            continue
        while starts < ends:
            month_after = _next_month(starts)
            yield {
                **common,
                "month": starts.replace(day=1),
                "starts": starts,
                "ends": min(ends, month_after),
                "balance": balance,
            }
            starts = month_after


@dataclass
class Models:
    """The models to read and write: today's, or a migration's historical ones (a test may
    pass others). Any: a historical model is no subclass of today's."""

    Invoice: Any
    LedgerEntry: Any
    Payment: Any
    OutstandingSpan: Any

    @classmethod
    def current(cls) -> Models:
        return cls(Invoice, LedgerEntry, Payment, OutstandingSpan)


def load(
    models: Models, invoice_ids: list[int], zone: zoneinfo.ZoneInfo | None
) -> list[InvoiceFacts]:
    """The facts of the issued invoices among ``invoice_ids``: three queries, and the
    business's time zone read only when ``zone`` is None and a payment was reversed."""
    found = {
        pk: InvoiceFacts(pk, client_id, currency, issue_date, due_date)
        for pk, client_id, currency, issue_date, due_date in models.Invoice.objects.filter(
            pk__in=invoice_ids, number__isnull=False
        ).values_list("pk", "client_id", "currency", "issue_date", "due_date")
    }
    entries = models.LedgerEntry.objects.filter(
        invoice_id__in=list(found), kind__in=[*CHARGES, CANCELLED, *CREDITS]
    ).values_list("invoice_id", "kind", "date", "amount")
    for invoice_id, kind, dated, amount in entries:
        facts = found[invoice_id]
        if kind == CANCELLED:
            facts.cancelled_on = dated
        elif kind in CREDITS:
            facts.credits.append((dated, amount))
        else:
            facts.charges.append((dated, amount))
    payments = models.Payment.objects.filter(
        invoice_id__in=list(found), confirmed_at__isnull=False
    ).values_list("invoice_id", "date", "amount", "reversed_at")
    for invoice_id, dated, amount, reversed_at in payments:
        reversed_on = None
        if reversed_at:
            zone = zone or get_business_settings().zone
            reversed_on = timezone.localdate(reversed_at, zone)
        found[invoice_id].payments.append((dated, amount, reversed_on))
    return list(found.values())


def _create(models: Models, invoice_ids: list[int], zone: zoneinfo.ZoneInfo | None) -> int:
    rows = [
        models.OutstandingSpan(**piece)
        for facts in load(models, invoice_ids, zone)
        for piece in pieces(facts)
    ]
    models.OutstandingSpan.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def refresh(*invoice_ids: int) -> None:
    """Derive these invoices' spans again: in the transaction that changed their facts."""
    models = Models.current()
    models.OutstandingSpan.objects.filter(invoice_id__in=invoice_ids).delete()
    _create(models, list(invoice_ids), None)


def record_issued(invoice) -> None:
    """The spans of an invoice just issued, from the invoice in hand: a draft has no
    payments, entries or spans, so there is nothing to read or delete."""
    record_issued_many([invoice])


def record_issued_many(invoices) -> None:
    """``record_issued`` for many invoices just issued, in one INSERT."""
    OutstandingSpan.objects.bulk_create(
        OutstandingSpan(**piece)
        for invoice in invoices
        for piece in pieces(
            InvoiceFacts(
                invoice.pk,
                invoice.client_id,
                invoice.currency,
                invoice.issue_date,
                invoice.due_date,
                charges=[(invoice.issue_date, -invoice.total)],
            )
        )
    )


def _issued_batches(models: Models, batch: int) -> Iterator[list[int]]:
    """The ids of every issued invoice, ``batch`` at a time, in order."""
    issued = models.Invoice.objects.filter(number__isnull=False).order_by("pk")
    last = 0
    while ids := list(issued.filter(pk__gt=last).values_list("pk", flat=True)[:batch]):
        yield ids
        last = ids[-1]


def rebuild(
    models: Models | None = None,
    zone: zoneinfo.ZoneInfo | None = None,
    *,
    batch: int = 2000,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Derive every issued invoice's spans again, ``batch`` invoices at a time; returns how
    many rows were written. ``progress`` is told how many invoices are done after each batch."""
    models = models or Models.current()
    zone = zone or get_business_settings().zone
    models.OutstandingSpan.objects.all().delete()
    written = done = 0
    for ids in _issued_batches(models, batch):
        written += _create(models, ids, zone)
        done += len(ids)
        if progress:
            progress(done)
    return written


FIELDS = ("invoice_id", "client_id", "currency", "due_date", "month", "starts", "ends", "balance")


def stale(*, batch: int = 2000) -> list[int]:
    """The invoices whose stored spans are not the ones their facts give now (none, unless
    rows were written around the operations): what ``rebuild_outstanding --check`` lists."""
    models, zone = Models.current(), get_business_settings().zone
    found = list(
        OutstandingSpan.objects.filter(invoice__number__isnull=True)
        .values_list("invoice_id", flat=True)
        .distinct()
    )
    for ids in _issued_batches(models, batch):
        stored: dict[int, set] = {pk: set() for pk in ids}
        for row in OutstandingSpan.objects.filter(invoice_id__in=ids).values_list(*FIELDS):
            stored[row[0]].add(row)
        derived: dict[int, set] = {pk: set() for pk in ids}
        for facts in load(models, ids, zone):
            for piece in pieces(facts):
                derived[facts.invoice_id].add(tuple(piece[name] for name in FIELDS))
        found += [pk for pk in ids if stored[pk] != derived[pk]]
    return found


def refresh_reversed() -> None:
    """Derive again the spans that depend on the business's time zone, after it changed:
    those of invoices with a reversed payment (a reversal counts from the day, in that zone,
    it was recorded)."""
    refresh(
        *Payment.objects.filter(
            invoice__isnull=False, confirmed_at__isnull=False, reversed_at__isnull=False
        )
        .values_list("invoice_id", flat=True)
        .distinct()
    )
