"""Reads of the client ledger, and the invariant of SPEC.md that ties it to invoices and
payments."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import DecimalField, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from billing.models import Client, Invoice, InvoiceStatus, Payment, PaymentMethod, PaymentStatus
from billing.money import CENT, ZERO

from .models import EntryKind, LedgerEntry

_AMOUNT = DecimalField(max_digits=16, decimal_places=2)


def _sum(queryset, expression="amount") -> Decimal:
    total = queryset.aggregate(s=Coalesce(Sum(expression), Value(ZERO), output_field=_AMOUNT))["s"]
    # SQLite hands sums back without their scale (Decimal("37")); amounts carry 2 decimals.
    return Decimal(total).quantize(CENT)


def client_balance(client: Client) -> Decimal:
    """Positive: the client has credit. Negative: the client owes."""
    return _sum(LedgerEntry.objects.filter(client=client))


def open_balance_due(client: Client) -> Decimal:
    return _sum(
        Invoice.objects.filter(client=client).issued().exclude(status=InvoiceStatus.CANCELLED),
        F("total") - F("amount_paid"),
    )


def available_credit(client: Client) -> Decimal:
    """What a "client credit" payment may still draw (SPEC: Client ledger)."""
    return client_balance(client) + open_balance_due(client)


def expected_balance(client: Client) -> Decimal:
    """The balance as invoices and payments say it should be, computed without the ledger."""
    payments = _sum(
        Payment.objects.filter(client=client, status=PaymentStatus.CONFIRMED).exclude(
            method=PaymentMethod.CLIENT_CREDIT
        )
    )
    manual = _sum(
        LedgerEntry.objects.filter(
            client=client, kind__in=[EntryKind.MANUAL_CREDIT, EntryKind.MANUAL_DEBIT]
        )
    )
    invoiced = _sum(
        Invoice.objects.filter(client=client).issued().exclude(status=InvoiceStatus.CANCELLED),
        "total",
    )
    return payments + manual - invoiced


def clients_breaking_invariant():
    """Clients whose ledger balance differs from what invoices and payments say, or from the
    balance stored on the client: should always be empty. Used by ``manage.py check_ledger``
    and the tests."""
    broken = []
    for client in Client.objects.all():
        balance = client_balance(client)
        if balance != expected_balance(client) or balance != client.balance:
            broken.append(client)
    return broken


def store_balances() -> None:
    """Set each client's stored balance to the sum of its entries: after entries were
    written other than through post_entry (the migration that added it, seed_volume)."""
    entries = (
        LedgerEntry.objects.filter(client=OuterRef("pk"))
        .order_by()
        .values("client")
        .annotate(s=Sum("amount"))
        .values("s")
    )
    Client.objects.update(
        balance=Coalesce(Subquery(entries, output_field=_AMOUNT), Value(ZERO), output_field=_AMOUNT)
    )


def ledger_entries(client: Client):
    """The client's entries, oldest first, as the ledger shows them."""
    return (
        LedgerEntry.objects.filter(client=client)
        .select_related("invoice", "created_by")
        .order_by("date", "id")
    )


def ledger_entry_ids(client: Client):
    """The ids of ``ledger_entries``, in order: read from the (client, date, id) index alone,
    so paging deep into a long ledger skips index entries, not joined rows."""
    return ledger_entries(client).values_list("id", flat=True)


def with_running_balance(client: Client, entries) -> list[LedgerEntry]:
    """``entries`` (consecutive, oldest first: a page of ``ledger_entries``) as a list, each
    with ``running_balance``, the client's balance after it.

    The balance before the first is one sum over the entries before it, read from the
    (client, date, id, amount) index; the rest is added up here. A window sum over every entry
    would cost as much on the first page as on the last, and grow with the client's history.
    """
    rows = list(entries)
    if rows:
        first = rows[0]
        running = _sum(
            LedgerEntry.objects.filter(client=client).filter(
                Q(date__lt=first.date) | Q(date=first.date, id__lt=first.id)
            )
        )
        for entry in rows:
            running += entry.amount
            entry.running_balance = running
    return rows
