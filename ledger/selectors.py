"""Reads of the client ledger: balances, entries with their running balance, and money
collected. What ties the ledger to invoices and payments (the invariant, available credit)
is billing's: ``billing.selectors``."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.db.models import DecimalField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from otb.fields import ZERO

from .events import collected_kinds
from .models import Account, LedgerEntry

CENT = Decimal("0.01")
_AMOUNT: DecimalField[Decimal, Decimal] = DecimalField(max_digits=16, decimal_places=2)


def sum_amounts(queryset: QuerySet, expression: Any = "amount") -> Decimal:
    total = queryset.aggregate(s=Coalesce(Sum(expression), Value(ZERO), output_field=_AMOUNT))["s"]
    # SQLite hands sums back without their scale (Decimal("37")); amounts carry 2 decimals.
    return Decimal(total).quantize(CENT)


def client_balance(client: Any, currency: str | None = None) -> Decimal:
    """The sum of the client's entries in ``currency`` (by default the client's own): a
    client's ledger is kept per currency. Positive: the client has credit. Negative: the
    client owes."""
    currency = currency or client.default_currency
    return sum_amounts(LedgerEntry.objects.filter(client_id=client.pk, currency=currency))


def stored_balance(client: Any, currency: str | None = None) -> Decimal:
    """The client's balance kept on its account (in ``currency``, by default the client's
    own): what ``client_balance`` sums, without reading the entries."""
    currency = currency or client.default_currency
    balance = (
        Account.objects.filter(client_id=client.pk, currency=currency)
        .values_list("balance", flat=True)
        .first()
    )
    return ZERO if balance is None else balance


def stored_balances(client: Any) -> dict[str, Decimal]:
    """The client's balance in each currency it has entries in."""
    return dict(Account.objects.filter(client_id=client.pk).values_list("currency", "balance"))


def ledger_entries(client: Any, currency: str | None = None) -> QuerySet:
    """The client's entries in ``currency`` (by default the client's own), oldest first, as
    the ledger shows them: a client's ledger is kept per currency."""
    return (
        LedgerEntry.objects.filter(
            client_id=client.pk, currency=currency or client.default_currency
        )
        .select_related("invoice", "credit_note", "created_by")
        .order_by("date", "id")
    )


def ledger_entry_ids(client: Any, currency: str | None = None) -> QuerySet:
    """The ids of ``ledger_entries``, in order: read from the (client, currency, date, id)
    index alone, so paging deep into a long ledger skips index entries, not joined rows."""
    return ledger_entries(client, currency).values_list("id", flat=True)


def with_running_balance(client: Any, entries: Any) -> list[LedgerEntry]:
    """``entries`` (consecutive, oldest first, of one currency: a page of
    ``ledger_entries``) as a list, each with ``running_balance``, the client's balance in
    that currency after it.

    The balance before the first is one sum over the entries before it, read from the
    (client, date, id, amount) index; the rest is added up here. A window sum over every entry
    would cost as much on the first page as on the last, and grow with the client's history.
    """
    rows = list(entries)
    if rows:
        first = rows[0]
        running = sum_amounts(
            LedgerEntry.objects.filter(client_id=client.pk, currency=first.currency).filter(
                Q(date__lt=first.date) | Q(date=first.date, id__lt=first.id)
            )
        )
        for entry in rows:
            running += entry.amount
            entry.running_balance = running
    return rows


def collections(*, start: datetime.date, end: datetime.date) -> QuerySet:
    """The entries of money collected from ``start`` to ``end`` (both included).

    The one definition of "collected" (README, "Reports"): payments confirmed, on the date
    of the payment, less confirmed payments reversed, on the day the reversal was recorded.
    The books are never rewritten after the fact, so a March payment reversed on 2 April
    leaves March's collections as they were and takes the money off April's. Client credit
    applied to an invoice is not money in (it posts no entry). Summed from the ledger's
    (kind, date, currency, amount) index alone.
    """
    return LedgerEntry.objects.filter(kind__in=collected_kinds(), date__gte=start, date__lte=end)


def collected_by_currency(*, start: datetime.date, end: datetime.date) -> dict[str, Decimal]:
    """``collections`` summed per currency."""
    rows = collections(start=start, end=end).order_by().values("currency").annotate(s=Sum("amount"))
    return {row["currency"]: Decimal(row["s"] or 0).quantize(CENT) for row in rows}
