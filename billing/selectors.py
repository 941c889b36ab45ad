"""Reads of billing: the dashboard's figures, and what ties the ledger to invoices and
payments (available credit, SPEC.md's invariant).

Amounts of different currencies are never added together: every figure is one aggregate
query grouped by currency.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from billing.money import CENT, ZERO
from ledger.events import manual_kinds
from ledger.models import Account, LedgerEntry
from ledger.selectors import client_balance, collected_by_currency, stored_balance, sum_amounts

from .models import (
    BALANCE_DUE,
    Client,
    CreditNote,
    CreditNoteStatus,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentStatus,
    Refund,
)
from .rules import money_methods

_AMOUNT: DecimalField[Decimal, Decimal] = DecimalField(max_digits=16, decimal_places=2)
LATEST_COUNT = 10


def _amount(value) -> Decimal:
    # SQLite hands sums back without their scale (Decimal("37")); amounts carry 2 decimals.
    return Decimal(value or 0).quantize(CENT)


def _per_currency(queryset, currency_field: str, **aggregates) -> dict[str, dict]:
    rows = queryset.order_by().values(currency_field).annotate(**aggregates)
    return {row[currency_field]: row for row in rows}


def month_bounds(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The first day of ``today``'s month and of the next one."""
    start = today.replace(day=1)
    following = (start + datetime.timedelta(days=32)).replace(day=1)
    return start, following


@dataclass
class CurrencyFigures:
    currency: str
    outstanding: Decimal = ZERO
    overdue: Decimal = ZERO
    overdue_count: int = 0
    # Net of the credit notes issued this month, as the revenue report counts it.
    invoiced_this_month: Decimal = ZERO
    # Those credit notes' totals, as the negative they count for in invoiced_this_month.
    credited_this_month: Decimal = ZERO
    collected_this_month: Decimal = ZERO


@dataclass
class DashboardFigures:
    today: datetime.date
    month_start: datetime.date
    per_currency: list[CurrencyFigures] = field(default_factory=list)


def dashboard_figures(*, today: datetime.date, default_currency: str) -> DashboardFigures:
    """What is owed, overdue, invoiced (net of credit notes) and collected this month,
    per currency; the business's default currency first, always shown."""
    month_start, next_month = month_bounds(today)
    due = BALANCE_DUE
    late = Q(status=InvoiceStatus.OVERDUE) | Q(due_date__lt=today)

    # Outstanding and overdue in one pass over the open invoices, read from the index on
    # (status, due_date, currency, total, amount_paid, amount_credited) alone. Overdue ones
    # are open ones.
    open_figures = _per_currency(
        Invoice.objects.open(),
        "currency",
        amount=Sum(due, output_field=_AMOUNT),
        overdue=Sum(due, filter=late, output_field=_AMOUNT),
        overdue_count=Count("id", filter=late),
    )
    # SPEC: Credit notes count in the period of their own issue date, as in the revenue
    # report. The invoices' and the credit notes' totals in one query (UNION ALL), each
    # read from an index of its own table.
    invoiced: dict[str, Decimal] = {}
    credited: dict[str, Decimal] = {}
    this_month = Q(issue_date__gte=month_start, issue_date__lt=next_month)
    documents = (
        Invoice.objects.issued()
        .exclude(status=InvoiceStatus.CANCELLED)
        .filter(this_month)
        .values("currency")
        .annotate(amount=Sum("total"), is_credit_note=Value(False))
        .order_by()
        .union(
            CreditNote.objects.filter(this_month, status=CreditNoteStatus.ISSUED)
            .values("currency")
            .annotate(amount=Sum("total"), is_credit_note=Value(True))
            .order_by(),
            all=True,
        )
    )
    for row in documents:
        (credited if row["is_credit_note"] else invoiced)[row["currency"]] = _amount(row["amount"])
    collected = collected_by_currency(start=month_start, end=next_month - datetime.timedelta(1))
    currencies = {default_currency, *open_figures, *invoiced, *credited, *collected}
    figures = DashboardFigures(today=today, month_start=month_start)
    for currency in sorted(currencies, key=lambda c: (c != default_currency, c)):
        figures.per_currency.append(
            CurrencyFigures(
                currency=currency,
                outstanding=_amount(open_figures.get(currency, {}).get("amount")),
                overdue=_amount(open_figures.get(currency, {}).get("overdue")),
                overdue_count=open_figures.get(currency, {}).get("overdue_count", 0),
                invoiced_this_month=invoiced.get(currency, ZERO) - credited.get(currency, ZERO),
                credited_this_month=ZERO - credited.get(currency, ZERO),  # never -0.00
                collected_this_month=collected.get(currency, ZERO),
            )
        )
    return figures


def latest_invoices(*, today: datetime.date, limit: int = LATEST_COUNT):
    """The most recently issued invoices, with the status shown as of ``today``."""
    return list(
        Invoice.objects.issued()
        .with_shown_status(today=today)
        .prefetch_related("client")  # not a join: see billing.views.invoices.invoice_list
        .order_by("-issue_date", "-sequence")[:limit]
    )


def latest_payments(*, limit: int = LATEST_COUNT):
    return list(
        Payment.objects.prefetch_related("client", "invoice").order_by("-date", "-id")[:limit]
    )


def open_balance_due(client: Client) -> Decimal:
    return sum_amounts(_open_invoices(client), BALANCE_DUE)


def _open_invoices(client: Any) -> QuerySet:
    return Invoice.objects.filter(client=client).issued().exclude(status=InvoiceStatus.CANCELLED)


def available_credit(client: Client) -> Decimal:
    """SPEC: available credit = ledger balance + balance due over issued, non-cancelled
    invoices: what a "client credit" payment may still draw. (``with_credit`` is the same
    rule for a list of clients.)"""
    return stored_balance(client) + open_balance_due(client)


def payment_split(payment: Payment) -> tuple[Decimal, Decimal]:
    """How much of a confirmed payment paid its invoice, and how much went to the client's
    credit (SPEC: Payments, a payment larger than the balance due). The invoice's earlier
    confirmed payments are applied first; a payment without an invoice is all credit."""
    if payment.invoice is None:
        return ZERO, payment.amount
    earlier = sum_amounts(
        Payment.objects.filter(
            invoice=payment.invoice, status=PaymentStatus.CONFIRMED, pk__lt=payment.pk
        )
    )
    room = payment.invoice.total - payment.invoice.amount_credited - earlier
    applied = min(payment.amount, max(room, ZERO))
    return applied, payment.amount - applied


def expected_balance(client: Client) -> Decimal:
    """The balance as invoices, credit notes, payments and refunds say it should be,
    computed without the ledger (SPEC: Client ledger and Credit notes, the invariant)."""
    payments = sum_amounts(
        Payment.objects.filter(
            client=client, status=PaymentStatus.CONFIRMED, method__in=money_methods()
        )
    )
    manual = sum_amounts(LedgerEntry.objects.filter(client=client, kind__in=manual_kinds()))
    invoiced = sum_amounts(_open_invoices(client), "total")
    credited = sum_amounts(
        CreditNote.objects.filter(client=client, status=CreditNoteStatus.ISSUED), "total"
    )
    refunded = sum_amounts(Refund.objects.filter(client=client).counting())
    return payments - refunded + manual - invoiced + credited


def clients_breaking_invariant() -> list[Client]:
    """Clients whose ledger balance differs from what invoices and payments say, or from the
    balance stored on their account: should always be empty. Used by ``manage.py
    check_ledger`` and the tests."""
    broken = []
    for client in Client.objects.all():
        balance = client_balance(client)
        if balance != expected_balance(client) or balance != stored_balance(client):
            broken.append(client)
    return broken


def with_balance(clients: QuerySet) -> QuerySet:
    """``clients`` with ``balance``: each one's stored ledger balance in its own currency."""
    account = Account.objects.filter(
        client_id=OuterRef("pk"), currency=OuterRef("default_currency")
    ).values("balance")[:1]
    return clients.annotate(
        balance=Coalesce(Subquery(account, output_field=_AMOUNT), Value(ZERO), output_field=_AMOUNT)
    )


def with_credit(clients: QuerySet) -> QuerySet:
    """``with_balance``, and ``available_credit`` as ``available_credit`` says it."""
    due = (
        _open_invoices(OuterRef("pk"))
        .order_by()
        .values("client")
        .annotate(s=Sum(BALANCE_DUE, output_field=_AMOUNT))
        .values("s")
    )
    return with_balance(clients).annotate(
        available_credit=F("balance")
        + Coalesce(Subquery(due, output_field=_AMOUNT), Value(ZERO), output_field=_AMOUNT)
    )
