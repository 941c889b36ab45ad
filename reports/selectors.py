"""The reports' figures, each from a few aggregate queries (never a loop over rows).

"As of" a date means as the books now say it stood at the end of that day, which is how the
client ledger dates its entries: an invoice counts from its issue date; a change to an issued
invoice and a cancellation from the day they were made; a payment from its own date once it
is confirmed; a reversal from the day it was recorded. So every figure here agrees with the
ledger at the same date (SPEC: Client ledger). What each invoice had open on each day is kept
as spans by billing.outstanding; the figures as of a date read those.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Case, CharField, Count, Q, Sum, Value, When
from django.db.models.functions import TruncMonth, TruncQuarter, TruncYear
from django.utils.translation import gettext_lazy as _

from billing.models import (
    OPEN_MONTH,
    Client,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    InvoiceTax,
    OutstandingSpan,
    Service,
    TaxBasis,
)
from ledger.models import Account, LedgerEntry
from ledger.selectors import collections

ZERO = Decimal("0.00")
CENT = Decimal("0.01")

CLOSED_OR_DRAFT = (InvoiceStatus.DRAFT, InvoiceStatus.CANCELLED)

# Aging buckets by days past due: (key, label, the most days past due it holds).
BUCKETS = (
    ("current", _("Current"), 0),
    ("days_1_30", _("1–30 days"), 30),
    ("days_31_60", _("31–60 days"), 60),
    ("days_61_90", _("61–90 days"), 90),
    ("over_90", _("Over 90 days"), None),
)
BUCKET_KEYS = tuple(key for key, _label, _days in BUCKETS)


def open_spans(as_of: datetime.date):
    """The outstanding spans (billing.outstanding) that cover the end of ``as_of``: one for
    each invoice open then, with its balance. Two ranges of one index: the spans of that
    day's month, and those still open."""
    return OutstandingSpan.objects.filter(
        Q(month=as_of.replace(day=1), starts__lte=as_of, ends__gt=as_of)
        | Q(month=OPEN_MONTH, starts__lte=as_of)
    )


# --- Outstanding and aging ----------------------------------------------------------------
@dataclass
class AgingRow:
    client_id: int
    code: str
    name: str
    currency: str
    buckets: dict[str, Decimal]
    total: Decimal
    count: int


@dataclass
class Aging:
    as_of: datetime.date
    rows: list[AgingRow]
    # currency -> bucket -> amount, with "total"
    totals: dict[str, dict[str, Decimal]] = field(default_factory=dict)


def money(value) -> Decimal:
    """A figure as the database returns it as an amount: SQLite computes in binary floating
    point, so 6.6 may come back as 6.60000000000001 (far below a cent, rounded away)."""
    return Decimal(value or 0).quantize(CENT)


def _bucket(as_of: datetime.date) -> Case:
    """The aging bucket of an invoice at the end of ``as_of``, from its due date."""
    whens = []
    for key, _label, days in BUCKETS:
        if days is not None:
            whens.append(When(due_date__gte=as_of - datetime.timedelta(days=days), then=Value(key)))
    return Case(*whens, default=Value(BUCKETS[-1][0]), output_field=CharField())


def aging(as_of: datetime.date, *, client: Client | None = None) -> Aging:
    """Open invoices at the end of ``as_of``, per client and currency, in aging buckets by
    days past due: one grouped query (a row per client, currency and bucket), and one for
    the clients' names."""
    spans = open_spans(as_of)
    if client is not None:
        spans = spans.filter(client=client)
    grouped = (
        spans.annotate(bucket=_bucket(as_of))
        .values("client_id", "currency", "bucket")
        .annotate(amount=Sum("balance"), count=Count("id"))
        .order_by()
    )
    found: dict[tuple[int, str], AgingRow] = {}
    for group in grouped:
        key = (group["client_id"], group["currency"])
        row = found.get(key)
        if row is None:
            row = found[key] = AgingRow(
                client_id=group["client_id"],
                code="",
                name="",
                currency=group["currency"],
                buckets=dict.fromkeys(BUCKET_KEYS, ZERO),
                total=ZERO,
                count=0,
            )
        amount = money(group["amount"])
        row.buckets[group["bucket"]] += amount
        row.total += amount
        row.count += group["count"]
    names = _names(Client, {pk for pk, _currency in found})
    for row in found.values():
        row.code, row.name = names[row.client_id]
    rows = sorted(found.values(), key=lambda row: (row.currency, row.code))
    totals: dict[str, dict[str, Decimal]] = {}
    for row in rows:
        currency_totals = totals.setdefault(
            row.currency, dict.fromkeys((*BUCKET_KEYS, "total"), ZERO)
        )
        for bucket in BUCKET_KEYS:
            currency_totals[bucket] += row.buckets[bucket]
        currency_totals["total"] += row.total
    return Aging(as_of=as_of, rows=rows, totals=totals)


def open_invoices(as_of: datetime.date, *, client: Client) -> list[Any]:
    """The client's invoices open at the end of ``as_of``, oldest due first, with
    ``balance_at`` set on each (hence Any): for the statement. One query."""
    found = []
    for span in open_spans(as_of).filter(client=client).select_related("invoice"):
        invoice = span.invoice
        invoice.balance_at = span.balance
        found.append(invoice)
    return sorted(found, key=lambda invoice: (invoice.due_date, invoice.sequence))


def outstanding_totals(as_of: datetime.date) -> dict[str, Decimal]:
    """Currency -> the sum of what is open at the end of ``as_of``. One query."""
    rows = open_spans(as_of).values("currency").annotate(total=Sum("balance")).order_by()
    return {row["currency"]: money(row["total"]) for row in rows}


def outstanding_at(days) -> dict[datetime.date, dict[str, Decimal]]:
    """Day -> currency -> the sum open at the end of that day, for many days at once: the
    month ends among them from two grouped queries (a span cut at a month's end reaches it
    exactly when it ends on the 1st; a span still open counts from the month it began), any
    other day from a query of its own."""
    found: dict[datetime.date, dict[str, Decimal]] = {day: {} for day in days}
    month_ends = {
        day.replace(day=1): day for day in days if (day + datetime.timedelta(days=1)).day == 1
    }

    def add(day, currency, amount) -> None:
        found[day][currency] = found[day].get(currency, ZERO) + money(amount)

    if month_ends:
        cut = (
            OutstandingSpan.objects.filter(month__in=list(month_ends), ends__day=1)
            .values("month", "currency")
            .annotate(total=Sum("balance"))
            .order_by()
        )
        for group in cut:
            add(month_ends[_as_date(group["month"])], group["currency"], group["total"])
        still_open = (
            OutstandingSpan.objects.filter(month=OPEN_MONTH, starts__lte=max(month_ends.values()))
            .annotate(began=TruncMonth("starts"))
            .values("began", "currency")
            .annotate(total=Sum("balance"))
            .order_by()
        )
        for group in still_open:
            for month, day in month_ends.items():
                if _as_date(group["began"]) <= month:
                    add(day, group["currency"], group["total"])
    for day in set(days) - set(month_ends.values()):
        found[day] = outstanding_totals(day)
    return found


# --- Revenue ------------------------------------------------------------------------------
PERIODS = {"month": TruncMonth, "quarter": TruncQuarter, "year": TruncYear}


PERIOD_MONTHS = {"month": 1, "quarter": 3, "year": 12}


def _next_period(start: datetime.date, period: str) -> datetime.date:
    month = start.month - 1 + PERIOD_MONTHS[period]
    return datetime.date(start.year + month // 12, month % 12 + 1, 1)


def period_starts(start: datetime.date, end: datetime.date, period: str) -> list[datetime.date]:
    """The first day of every period from the one holding ``start`` to the one holding ``end``."""
    months = PERIOD_MONTHS[period]
    current = datetime.date(start.year, (start.month - 1) // months * months + 1, 1)
    starts = []
    while current <= end:
        starts.append(current)
        current = _next_period(current, period)
    return starts


def period_end(start: datetime.date, period: str) -> datetime.date:
    return _next_period(start, period) - datetime.timedelta(days=1)


def _as_date(value) -> datetime.date:
    return value.date() if isinstance(value, datetime.datetime) else value


@dataclass
class RevenuePeriod:
    start: datetime.date
    end: datetime.date
    currency: str
    invoiced: Decimal = ZERO
    tax: Decimal = ZERO
    invoice_count: int = 0
    collected: Decimal = ZERO
    outstanding: Decimal = ZERO


def issued_in(start: datetime.date, end: datetime.date):
    """Invoices issued in the range and not cancelled: what was invoiced."""
    return Invoice.objects.filter(issue_date__gte=start, issue_date__lte=end).exclude(
        status__in=CLOSED_OR_DRAFT
    )


def collections_in(start: datetime.date, end: datetime.date):
    """Money received in the range, reversals deducted: ``ledger.selectors.collections``,
    the one definition the dashboard and the API use too."""
    return collections(start=start, end=end)


def revenue(
    start: datetime.date, end: datetime.date, *, period: str = "month", today: datetime.date
) -> list[RevenuePeriod]:
    """Per period and currency: invoiced, tax, collected and outstanding at the period's
    end (or today, for a period not over yet). At most six queries, however many periods."""
    trunc = PERIODS[period]
    rows: dict[tuple[datetime.date, str], RevenuePeriod] = {}

    def row(period_start, currency) -> RevenuePeriod:
        period_start = _as_date(period_start)
        key = (period_start, currency)
        if key not in rows:
            rows[key] = RevenuePeriod(
                start=period_start, end=period_end(period_start, period), currency=currency
            )
        return rows[key]

    invoiced = (
        issued_in(start, end)
        .annotate(period=trunc("issue_date"))
        .values("period", "currency")
        .annotate(invoiced=Sum("total"), tax=Sum("tax_total"), count=Count("id"))
        .order_by()
    )
    for group in invoiced:
        found = row(group["period"], group["currency"])
        found.invoiced, found.tax = money(group["invoiced"]), money(group["tax"])
        found.invoice_count = group["count"]
    collected = (
        collections_in(start, end)
        .annotate(period=trunc("date"))
        .values("period", "currency")
        .annotate(collected=Sum("amount"))
        .order_by()
    )
    for group in collected:
        row(group["period"], group["currency"]).collected = money(group["collected"])
    starts = period_starts(start, end, period)
    as_ofs = {
        period_start: min(period_end(period_start, period), end, today) for period_start in starts
    }
    as_ofs = {key: as_of for key, as_of in as_ofs.items() if as_of >= key}
    outstanding = outstanding_at(set(as_ofs.values()))
    for period_start, as_of in as_ofs.items():
        for currency, amount in outstanding[as_of].items():
            row(period_start, currency).outstanding = amount
    # Every period of the range for each currency seen, quiet ones included (a chart
    # without its empty months would mislead).
    for currency in {currency for _start, currency in rows}:
        for period_start in starts:
            row(period_start, currency)
    return sorted(rows.values(), key=lambda found: (found.currency, found.start))


def top_clients(
    start: datetime.date, end: datetime.date, *, limit: int = 10
) -> dict[str, list[dict]]:
    """Per currency, the clients invoiced most in the range (amounts in different currencies
    are never ranked together): one query grouped by client (read from an index of the
    invoices alone) and ranked here, one for the names of the few shown. The groups are one
    per client invoiced in the range, thousands at most; a query per currency would read
    the range's invoices once for each."""
    ranked = (
        issued_in(start, end)
        .values("client_id", "currency")
        .annotate(invoiced=Sum("total"), count=Count("id"))
        .order_by("currency", "-invoiced", "client_id")
        .values_list("client_id", "currency", "invoiced", "count")
    )
    found: dict[str, list[dict]] = {}
    for client_id, currency, invoiced, count in ranked.iterator(chunk_size=2000):
        rows = found.setdefault(currency, [])
        if len(rows) < limit:
            rows.append(
                {"client_id": client_id, "currency": currency, "invoiced": invoiced, "count": count}
            )
    names = _names(Client, {row["client_id"] for rows in found.values() for row in rows})
    for rows in found.values():
        for row in rows:
            row["client__code"], row["client__name"] = names[row["client_id"]]
            row["invoiced"] = money(row["invoiced"])
        rows.sort(key=lambda row: (-row["invoiced"], row["client__code"]))
    return dict(sorted(found.items()))


def by_service(start: datetime.date, end: datetime.date) -> dict[str, list[dict]]:
    """Per currency, line amounts (before the invoice discount and tax) per service in the
    range, largest first; lines without a service under an empty code: one grouped query,
    one for the services' names."""
    rows = list(
        InvoiceLine.objects.filter(invoice__issue_date__gte=start, invoice__issue_date__lte=end)
        .exclude(invoice__status__in=CLOSED_OR_DRAFT)
        .values("service_id", "invoice__currency")
        .annotate(amount=Sum("amount"), lines=Count("id"))
        .order_by()
    )
    names = _names(Service, {row["service_id"] for row in rows} - {None})
    for row in rows:
        row["service__code"], row["service__name"] = names.get(row["service_id"], (None, None))
        row["amount"] = money(row["amount"])
    found: dict[str, list[dict]] = {}
    for row in sorted(rows, key=lambda row: (-row["amount"], row["service__code"] or "")):
        found.setdefault(row["invoice__currency"], []).append(row)
    return dict(sorted(found.items()))


def _names(model, pks) -> dict[int, tuple[str, str]]:
    """pk -> (code, name) of the clients or services ``pks``: one query (none for none)."""
    if not pks:
        return {}
    return {
        pk: (code, name)
        for pk, code, name in model.objects.filter(pk__in=pks).values_list("pk", "code", "name")
    }


# --- Tax ----------------------------------------------------------------------------------
def tax_report(start: datetime.date, end: datetime.date, *, period: str = "quarter") -> list[dict]:
    """Tax charged per period, tax (label and rate) and currency, with its taxable base, on
    invoices issued in the period and not cancelled: the figure to file. One query."""
    trunc = PERIODS[period]
    rows = (
        InvoiceTax.objects.filter(invoice__issue_date__gte=start, invoice__issue_date__lte=end)
        .exclude(invoice__status__in=CLOSED_OR_DRAFT)
        .annotate(period=trunc("invoice__issue_date"))
        .values("period", "label", "rate", "number", "invoice__currency")
        .annotate(base=Sum("base"), amount=Sum("amount"), invoices=Count("invoice", distinct=True))
        .order_by("period", "invoice__currency", "label", "rate")
    )
    return [
        {
            "start": _as_date(row["period"]),
            "end": period_end(_as_date(row["period"]), period),
            "label": row["label"],
            "rate": row["rate"],
            "number": row["number"],
            "currency": row["invoice__currency"],
            "base": money(row["base"]),
            "amount": money(row["amount"]),
            "invoices": row["invoices"],
        }
        for row in rows
    ]


def untaxed_sales(
    start: datetime.date, end: datetime.date, *, period: str = "quarter"
) -> list[dict]:
    """The sales without tax per period, reason and currency (SPEC: Several taxes): to
    tax-exempt clients, to clients abroad, and to clients whose own set is empty; the
    amount is subtotal − discount of the invoices issued in the period and not cancelled."""
    trunc = PERIODS[period]
    untaxed = Q(tax_basis__in=[TaxBasis.EXEMPT, TaxBasis.FOREIGN]) | Q(
        tax_basis=TaxBasis.CLIENT, taxes__isnull=True
    )
    rows = (
        Invoice.objects.filter(untaxed, issue_date__gte=start, issue_date__lte=end)
        .exclude(status__in=CLOSED_OR_DRAFT)
        .annotate(period=trunc("issue_date"))
        .values("period", "tax_basis", "currency")
        .annotate(subtotal=Sum("subtotal"), discount=Sum("discount_total"), invoices=Count("pk"))
        .order_by("period", "currency", "tax_basis")
    )
    return [
        {
            "start": _as_date(row["period"]),
            "end": period_end(_as_date(row["period"]), period),
            "basis": row["tax_basis"],
            "label": UNTAXED_LABELS[row["tax_basis"]],
            "currency": row["currency"],
            "amount": money(row["subtotal"]) - money(row["discount"]),
            "invoices": row["invoices"],
        }
        for row in rows
    ]


UNTAXED_LABELS = {
    TaxBasis.EXEMPT: _("Sales to tax-exempt clients"),
    TaxBasis.FOREIGN: _("Sales to clients abroad"),
    TaxBasis.CLIENT: _("Sales to clients without tax (their own set)"),
}


# --- Client statement ---------------------------------------------------------------------
@dataclass
class Statement:
    client: Client
    start: datetime.date
    end: datetime.date
    opening: Decimal
    entries: list  # LedgerEntry with .running
    closing: Decimal
    open_invoices: list  # Invoice with .balance_at and .days_past_due


def statement(client: Client, start: datetime.date, end: datetime.date) -> Statement:
    """The client's account for the range: opening balance, every ledger entry with its
    running balance, closing balance and the invoices open at the end. Three queries."""
    opening = money(
        LedgerEntry.objects.filter(client=client, date__lt=start).aggregate(total=Sum("amount"))[
            "total"
        ]
    )
    entries = list(
        LedgerEntry.objects.filter(client=client, date__gte=start, date__lte=end)
        .select_related("invoice", "payment")
        .order_by("date", "id")
    )
    running = opening
    for entry in entries:
        running += entry.amount
        entry.running = running
    invoices = open_invoices(end, client=client)
    for invoice in invoices:
        invoice.balance_at = money(invoice.balance_at)
        invoice.days_past_due = max((end - invoice.due_date).days, 0)
    return Statement(
        client=client,
        start=start,
        end=end,
        opening=opening,
        entries=entries,
        closing=running,
        open_invoices=invoices,
    )


def ledger_balances(as_of: datetime.date, client_ids) -> dict[int, Decimal]:
    """Client id -> ledger balance at the end of ``as_of``, for ``client_ids``: the stored
    balance (the sum of every entry) less the entries dated after that day, which for a
    recent day are few. Two queries."""
    balances = dict.fromkeys(client_ids, ZERO)
    for pk, balance in Account.objects.filter(client_id__in=client_ids).values_list(
        "client_id", "balance"
    ):
        balances[pk] += balance
    later = (
        LedgerEntry.objects.filter(date__gt=as_of, client_id__in=client_ids)
        .values("client_id")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    for row in later:
        balances[row["client_id"]] -= row["total"]
    return {pk: money(balance) for pk, balance in balances.items()}
