"""The reports' figures, each from a few aggregate queries (never a loop over rows).

"As of" a date means as the books now say it stood at the end of that day, which is how the
client ledger dates its entries: an invoice counts from its issue date; a change to an issued
invoice and a cancellation from the day they were made; a payment from its own date once it
is confirmed; a reversal from the day it was recorded. So every figure here agrees with the
ledger at the same date (SPEC: Client ledger).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import (
    BooleanField,
    Case,
    Count,
    DecimalField,
    Exists,
    F,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Least, TruncMonth, TruncQuarter, TruncYear
from django.utils.translation import gettext_lazy as _

from billing.models import (
    Client,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    InvoiceTax,
    Payment,
    PaymentMethod,
    PaymentStatus,
)
from ledger.models import EntryKind, LedgerEntry

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
AMOUNT = DecimalField(max_digits=16, decimal_places=2)

OPEN_STATUSES = (InvoiceStatus.PENDING, InvoiceStatus.PARTIAL, InvoiceStatus.OVERDUE)
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

# Above this many invoices touched after the date, looking at every invoice issued by then
# is quicker than listing them.
CANDIDATE_LIMIT = 50_000


def _reversed_by(as_of: datetime.date) -> Q:
    """Payments (as the outer row) whose reversal was recorded on or before ``as_of``: the
    ledger's date for it, or, for client credit (which posts no entry), the day it was made."""
    ledger_reversal = LedgerEntry.objects.filter(
        payment=OuterRef("pk"), kind=EntryKind.PAYMENT_REVERSED, date__lte=as_of
    )
    return Q(reversed_at__isnull=False) & (
        (Q(method=PaymentMethod.CLIENT_CREDIT) & Q(reversed_at__date__lte=as_of))
        | (~Q(method=PaymentMethod.CLIENT_CREDIT) & Exists(ledger_reversal))
    )


def payments_counted(as_of: datetime.date):
    """Payments that count as paid at the end of ``as_of``."""
    return Payment.objects.filter(confirmed_at__isnull=False, date__lte=as_of).exclude(
        _reversed_by(as_of)
    )


def invoices_as_of(as_of: datetime.date):
    """Issued invoices that may be open at the end of ``as_of``, annotated with
    ``total_at``, ``paid_at`` and ``balance_at`` then; those cancelled by then are left out.

    An invoice nothing happened to after that day has the same figures then as now: its
    stored figures answer, and if it is not open now it was not open then. Only the
    invoices touched after the day (usually few) have their figures summed from the ledger
    and their payments as of that day.
    """
    issued = Invoice.objects.filter(issue_date__lte=as_of).exclude(status=InvoiceStatus.DRAFT)
    after = _touched_after(as_of)
    totals = LedgerEntry.objects.filter(
        invoice=OuterRef("pk"),
        kind__in=[EntryKind.INVOICE_ISSUED, EntryKind.INVOICE_CHANGED],
        date__lte=as_of,
    )
    paid = payments_counted(as_of).filter(invoice=OuterRef("pk"))
    cancelled = Exists(
        LedgerEntry.objects.filter(
            invoice=OuterRef("pk"), kind=EntryKind.INVOICE_CANCELLED, date__lte=as_of
        )
    )
    if after is None:  # too many to list: every invoice issued by then, summed
        figures = issued.exclude(cancelled).annotate(total_at=-_sum(totals), paid_at=_sum(paid))
    else:
        touched = Q(pk__in=sorted(after))
        figures = (
            issued.filter(Q(status__in=OPEN_STATUSES) | touched)
            .annotate(
                total_at=Case(When(touched, then=-_sum(totals)), default=F("total")),
                paid_at=Case(When(touched, then=_sum(paid)), default=F("amount_paid")),
                cancelled_then=Case(
                    When(touched, then=cancelled), default=Value(False), output_field=BooleanField()
                ),
            )
            .filter(cancelled_then=False)
        )
    return figures.annotate(
        balance_at=F("total_at") - Least(F("total_at"), F("paid_at"), output_field=AMOUNT)
    )


def _sum(queryset):
    summed = (
        queryset.order_by()
        .annotate(_group=Value(1))
        .values("_group")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Coalesce(Subquery(summed, output_field=AMOUNT), Value(ZERO), output_field=AMOUNT)


def _touched_after(as_of: datetime.date) -> set[int] | None:
    """The invoices something happened to after ``as_of``: a payment dated later, a
    reversal, a change or a cancellation recorded later; None when there are too many to
    list. Each lookup reads an index range."""
    # Reversals by their time (reversed_at is UTC): from a day early, so that no time zone
    # can hide one; an extra invoice here is only summed, never wrong.
    since = datetime.datetime.combine(as_of, datetime.time(), tzinfo=datetime.UTC)
    lookups = (
        Payment.objects.filter(date__gt=as_of, invoice__isnull=False),
        Payment.objects.filter(
            status=PaymentStatus.REVERSED,
            reversed_at__gte=since - datetime.timedelta(days=1),
            invoice__isnull=False,
        ),
        LedgerEntry.objects.filter(
            date__gt=as_of,
            invoice__isnull=False,
            kind__in=[
                EntryKind.INVOICE_CHANGED,
                EntryKind.INVOICE_CANCELLED,
                EntryKind.PAYMENT_REVERSED,
            ],
        ),
    )
    after: set[int] = set()
    for queryset in lookups:
        after.update(
            queryset.order_by().values_list("invoice_id", flat=True)[: CANDIDATE_LIMIT + 1]
        )
        if len(after) > CANDIDATE_LIMIT:
            return None
    return after


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


def _bucket_sums(as_of: datetime.date) -> dict[str, Sum]:
    sums = {}
    lower = None
    for key, _label, days in BUCKETS:
        condition = Q()
        if days is not None:
            condition &= Q(due_date__gte=as_of - datetime.timedelta(days=days))
        if lower is not None:
            condition &= Q(due_date__lt=as_of - datetime.timedelta(days=lower))
        lower = days
        sums[key] = Coalesce(
            Sum(Case(When(condition, then=F("balance_at")), default=Value(ZERO))),
            Value(ZERO),
            output_field=AMOUNT,
        )
    return sums


def aging(as_of: datetime.date, *, client: Client | None = None) -> Aging:
    """Open invoices at the end of ``as_of``, per client and currency, in aging buckets by
    days past due: one query."""
    invoices = invoices_as_of(as_of)
    if client is not None:
        invoices = invoices.filter(client=client)
    grouped = (
        invoices.filter(balance_at__gt=0)
        .values("client_id", "client__code", "client__name", "currency")
        .annotate(**_bucket_sums(as_of), total=Sum("balance_at"), count=Count("id"))
        .order_by("currency", "client__code")
    )
    rows = []
    totals: dict[str, dict[str, Decimal]] = {}
    for group in grouped:
        for key in (*BUCKET_KEYS, "total"):
            group[key] = money(group[key])
        buckets = {key: group[key] for key in BUCKET_KEYS}
        rows.append(
            AgingRow(
                client_id=group["client_id"],
                code=group["client__code"],
                name=group["client__name"],
                currency=group["currency"],
                buckets=buckets,
                total=group["total"],
                count=group["count"],
            )
        )
        currency_totals = totals.setdefault(
            group["currency"], dict.fromkeys((*BUCKET_KEYS, "total"), ZERO)
        )
        for key in (*BUCKET_KEYS, "total"):
            currency_totals[key] += group[key]
    return Aging(as_of=as_of, rows=rows, totals=totals)


def open_invoices(as_of: datetime.date, *, client: Client):
    """The client's invoices open at the end of ``as_of``, oldest due first, with
    ``balance_at``: for the statement."""
    return (
        invoices_as_of(as_of)
        .filter(client=client, balance_at__gt=0)
        .order_by("due_date", "sequence")
        .only("number", "issue_date", "due_date", "currency", "total")
    )


def outstanding_totals(as_of: datetime.date) -> dict[str, Decimal]:
    """Currency -> the sum of what is open at the end of ``as_of``: one query."""
    rows = (
        invoices_as_of(as_of)
        .filter(balance_at__gt=0)
        .values("currency")
        .annotate(total=Sum("balance_at"))
        .order_by()
    )
    return {row["currency"]: money(row["total"]) for row in rows}


# --- Revenue ------------------------------------------------------------------------------
PERIODS = {"month": TruncMonth, "quarter": TruncQuarter, "year": TruncYear}


def period_starts(start: datetime.date, end: datetime.date, period: str) -> list[datetime.date]:
    """The first day of every period from the one holding ``start`` to the one holding ``end``."""
    months = {"month": 1, "quarter": 3, "year": 12}[period]
    first_month = 1 if period == "year" else ((start.month - 1) // months) * months + 1
    current = datetime.date(start.year, first_month, 1)
    starts = []
    while current <= end:
        starts.append(current)
        month = current.month - 1 + months
        current = datetime.date(current.year + month // 12, month % 12 + 1, 1)
    return starts


def period_end(start: datetime.date, period: str) -> datetime.date:
    months = {"month": 1, "quarter": 3, "year": 12}[period]
    month = start.month - 1 + months
    return datetime.date(start.year + month // 12, month % 12 + 1, 1) - datetime.timedelta(days=1)


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
    """Money received in the range, reversals deducted, as the ledger has it (payments from
    client credit move no money and post no entry), with the currency of what was paid."""
    return LedgerEntry.objects.filter(
        kind__in=[EntryKind.PAYMENT_CONFIRMED, EntryKind.PAYMENT_REVERSED],
        date__gte=start,
        date__lte=end,
    ).annotate(currency=Coalesce(F("payment__invoice__currency"), F("client__default_currency")))


def revenue(
    start: datetime.date, end: datetime.date, *, period: str = "month", today: datetime.date
) -> list[RevenuePeriod]:
    """Per period and currency: invoiced, tax, collected and outstanding at the period's
    end (or today, for a period not over yet). Two queries, and one per period end."""
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
    for period_start in starts:
        as_of = min(period_end(period_start, period), end, today)
        if as_of < period_start:
            continue
        for currency, amount in outstanding_totals(as_of).items():
            row(period_start, currency).outstanding = amount
    # Every period of the range for each currency seen, quiet ones included (a chart
    # without its empty months would mislead).
    for currency in {currency for _start, currency in rows}:
        for period_start in starts:
            row(period_start, currency)
    return sorted(rows.values(), key=lambda found: (found.currency, found.start))


def top_clients(start: datetime.date, end: datetime.date, *, limit: int = 10) -> list[dict]:
    """The clients invoiced most in the range, per currency: one query."""
    rows = list(
        issued_in(start, end)
        .values("client__code", "client__name", "currency")
        .annotate(invoiced=Sum("total"), count=Count("id"))
        .order_by("-invoiced", "client__code")[:limit]
    )
    for row in rows:
        row["invoiced"] = money(row["invoiced"])
    return rows


def by_service(start: datetime.date, end: datetime.date) -> list[dict]:
    """Line amounts (before the invoice discount and tax) per service in the range; lines
    without a service under an empty code: one query."""
    rows = list(
        InvoiceLine.objects.filter(invoice__issue_date__gte=start, invoice__issue_date__lte=end)
        .exclude(invoice__status__in=CLOSED_OR_DRAFT)
        .values("service__code", "service__name", "invoice__currency")
        .annotate(amount=Sum("amount"), lines=Count("id"))
        .order_by("invoice__currency", "-amount", "service__code")
    )
    for row in rows:
        row["amount"] = money(row["amount"])
    return rows


# --- Tax ----------------------------------------------------------------------------------
def tax_report(start: datetime.date, end: datetime.date, *, period: str = "quarter") -> list[dict]:
    """Tax charged per period, tax (label and rate) and currency, with its taxable base, on
    invoices issued in the period and not cancelled: the figure to file. One query."""
    trunc = PERIODS[period]
    rows = (
        InvoiceTax.objects.filter(invoice__issue_date__gte=start, invoice__issue_date__lte=end)
        .exclude(invoice__status__in=CLOSED_OR_DRAFT)
        .annotate(period=trunc("invoice__issue_date"))
        .values("period", "label", "rate", "invoice__currency")
        .annotate(base=Sum("base"), amount=Sum("amount"), invoices=Count("invoice", distinct=True))
        .order_by("period", "invoice__currency", "label", "rate")
    )
    return [
        {
            "start": _as_date(row["period"]),
            "end": period_end(_as_date(row["period"]), period),
            "label": row["label"],
            "rate": row["rate"],
            "currency": row["invoice__currency"],
            "base": money(row["base"]),
            "amount": money(row["amount"]),
            "invoices": row["invoices"],
        }
        for row in rows
    ]


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
    invoices = list(open_invoices(end, client=client))
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


def ledger_balance(client: Client, as_of: datetime.date) -> Decimal:
    return money(
        LedgerEntry.objects.filter(client=client, date__lte=as_of).aggregate(total=Sum("amount"))[
            "total"
        ]
    )


def ledger_balances(as_of: datetime.date, client_ids) -> dict[int, Decimal]:
    """Client id -> ledger balance at the end of ``as_of``, for ``client_ids``: the stored
    balance (the sum of every entry) less the entries dated after that day, which for a
    recent day are few. Two queries."""
    balances = dict(Client.objects.filter(pk__in=client_ids).values_list("pk", "balance"))
    later = (
        LedgerEntry.objects.filter(date__gt=as_of, client_id__in=client_ids)
        .values("client_id")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    for row in later:
        balances[row["client_id"]] -= row["total"]
    return {pk: money(balance) for pk, balance in balances.items()}
