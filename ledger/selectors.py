"""Reads of the client ledger, and the invariant of SPEC.md that ties it to invoices and
payments."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import DecimalField, F, OuterRef, Subquery, Sum, Value
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
    """Clients whose ledger balance differs from what invoices and payments say: should
    always be empty. Used by ``manage.py check_ledger`` and the tests."""
    return [c for c in Client.objects.all() if client_balance(c) != expected_balance(c)]


def with_balance(queryset):
    """Annotate ``balance`` (the ledger balance) on a Client queryset in one query."""
    entries = (
        LedgerEntry.objects.filter(client=OuterRef("pk"))
        .order_by()
        .values("client")
        .annotate(s=Sum("amount"))
        .values("s")
    )
    return queryset.annotate(
        balance=Coalesce(Subquery(entries, output_field=_AMOUNT), Value(ZERO), output_field=_AMOUNT)
    )
