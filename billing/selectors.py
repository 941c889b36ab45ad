"""Reads of billing for the office pages: the dashboard's figures.

Amounts of different currencies are never added together: every figure is one aggregate
query grouped by currency.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, DecimalField, F, Q, Sum

from billing.money import CENT, ZERO

from .models import Invoice, InvoiceStatus, Payment, PaymentMethod, PaymentStatus

_AMOUNT = DecimalField(max_digits=16, decimal_places=2)
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
    invoiced_this_month: Decimal = ZERO
    collected_this_month: Decimal = ZERO


@dataclass
class DashboardFigures:
    today: datetime.date
    month_start: datetime.date
    per_currency: list[CurrencyFigures] = field(default_factory=list)


def dashboard_figures(*, today: datetime.date, default_currency: str) -> DashboardFigures:
    """What is owed, overdue, invoiced and collected this month, per currency; the
    business's default currency first, always shown."""
    month_start, next_month = month_bounds(today)
    due = F("total") - F("amount_paid")
    late = Q(status=InvoiceStatus.OVERDUE) | Q(due_date__lt=today)

    # Outstanding and overdue in one pass over the open invoices, read from the index on
    # (status, due_date, currency, total, amount_paid) alone. Overdue ones are open ones.
    open_figures = _per_currency(
        Invoice.objects.open(),
        "currency",
        amount=Sum(due, output_field=_AMOUNT),
        overdue=Sum(due, filter=late, output_field=_AMOUNT),
        overdue_count=Count("id", filter=late),
    )
    invoiced = _per_currency(
        Invoice.objects.issued()
        .exclude(status=InvoiceStatus.CANCELLED)
        .filter(issue_date__gte=month_start, issue_date__lt=next_month),
        "currency",
        amount=Sum("total"),
    )
    # Money that came in: confirmed (not reversed) payments, without "client credit" ones,
    # which only move credit already on the account to an invoice. A payment is in its
    # client's currency.
    collected = _per_currency(
        Payment.objects.filter(
            status=PaymentStatus.CONFIRMED, date__gte=month_start, date__lt=next_month
        ).exclude(method=PaymentMethod.CLIENT_CREDIT),
        "client__default_currency",
        amount=Sum("amount"),
    )

    currencies = {default_currency, *open_figures, *invoiced, *collected}
    figures = DashboardFigures(today=today, month_start=month_start)
    for currency in sorted(currencies, key=lambda c: (c != default_currency, c)):
        figures.per_currency.append(
            CurrencyFigures(
                currency=currency,
                outstanding=_amount(open_figures.get(currency, {}).get("amount")),
                overdue=_amount(open_figures.get(currency, {}).get("overdue")),
                overdue_count=open_figures.get(currency, {}).get("overdue_count", 0),
                invoiced_this_month=_amount(invoiced.get(currency, {}).get("amount")),
                collected_this_month=_amount(collected.get(currency, {}).get("amount")),
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
