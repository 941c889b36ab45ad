"""The reports' figures, each from a few aggregate queries (never a loop over rows).

"As of" a date means as the books now say it stood at the end of that day, which is how the
client ledger dates its entries: an invoice counts from its issue date; a change to an issued
invoice and a cancellation from the day they were made; a payment from its own date once it
is confirmed; a reversal from the day it was recorded. So every figure here agrees with the
ledger at the same date (SPEC: Client ledger). What each invoice had open on each day is kept
as spans by billing.outstanding; the figures as of a date read those.

What was invoiced, the tax charged and the income (net of tax) are net of credit notes and
cancellations, and a period once reported is never rewritten: an issued credit note counts
as a negative in the period of its own issue date, whenever its invoice was issued (SPEC:
Credit notes); an invoice counts in the period of its issue date even if it was cancelled
later, and its cancellation counts as a negative of the same figures in the period it was
made, ``cancelled_on`` (SPEC: Exports and imports). Each figure reads the invoices, the
credit notes and the cancellations in one query, a UNION ALL of the three grouped alike with
a column naming the document (``_documents``), so a report costs no more queries for them.

Every figure is kept per currency, and added in the base currency from the base figures
stored when a document was issued or a payment made (SPEC: Currencies and exchange rates):
``total_in_base``, ``tax_in_base``, ``subtotal_in_base`` − ``discount_in_base``, each
tax's ``amount_in_base``, a payment's ``amount_in_base`` and ``exchange_difference``; what
is open on an invoice by ``billing.selectors.open_in_base``, its base total's share. No rate
is read or multiplied here: a rate entered later changes nothing already reported.
Documents and payments without base figures (from before rates were kept) are counted
(``without_rate``), never converted nor silently left out; the pages say to run
``manage.py check_rates --fill``.
"""

from __future__ import annotations

import datetime
import heapq
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Case, CharField, Count, F, Q, QuerySet, Sum, Value, When
from django.db.models.functions import TruncMonth, TruncQuarter, TruncYear
from django.utils.translation import gettext_lazy as _

from billing.models import (
    OPEN_MONTH,
    Client,
    CreditNote,
    CreditNoteLine,
    CreditNoteStatus,
    CreditNoteTax,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    InvoiceTax,
    OutstandingSpan,
    Payment,
    PaymentStatus,
    Service,
    TaxBasis,
)
from billing.selectors import (
    collected_in_base,
    collected_without_rate,
    open_in_base,
    refunds_without_base,
)
from ledger.models import Account, LedgerEntry
from ledger.selectors import collections
from quotes.models import Quote, QuoteState, QuoteStatus
from quotes.selectors import with_shown_state
from settings_app.selectors import get_business_settings

ZERO = Decimal("0.00")
CENT = Decimal("0.01")

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
    # ``total`` in the base currency (``open_in_base``) of the invoices that have base
    # figures; ``without_rate``: those that have none, left out of it.
    total_in_base: Decimal = ZERO
    without_rate: int = 0


@dataclass
class Aging:
    as_of: datetime.date
    rows: list[AgingRow]
    # currency -> bucket -> amount, with "total"
    totals: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    base_currency: str = ""
    # bucket -> every currency's open balances in the base currency, with "total"
    in_base: dict[str, Decimal] = field(default_factory=dict)
    # Open invoices without base figures (from before rates were kept): not in ``in_base``.
    without_rate: int = 0


def base_currency_or(given: str | None) -> str:
    """The base currency given (a page has read the settings already), else the settings'."""
    return given or get_business_settings().default_currency


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


# What the base-currency figures of an open span are computed from (``open_in_base``).
SPAN_IN_BASE = ("currency", "balance", "invoice__total", "invoice__total_in_base")


def _span_in_base(figures, base: str) -> Decimal | None:
    """An open span in the base currency, from its ``SPAN_IN_BASE`` values."""
    currency, balance, total, total_in_base = figures
    return open_in_base(
        balance=balance,
        total=total,
        total_in_base=total_in_base,
        currency=currency,
        base_currency=base,
    )


def aging(
    as_of: datetime.date, *, client: Client | None = None, base_currency: str | None = None
) -> Aging:
    """Open invoices at the end of ``as_of``, per client and currency, in aging buckets by
    days past due: one grouped query (a row per client, currency and bucket), and one for
    the clients' names. Then every currency in the base currency (``open_in_base``, rounded
    per invoice): one query of the open invoices in other currencies, one row each."""
    base = base_currency_or(base_currency)
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
    in_base = dict.fromkeys((*BUCKET_KEYS, "total"), ZERO)
    without_rate = 0
    for row in found.values():
        if row.currency == base:
            row.total_in_base = row.total
            for bucket in BUCKET_KEYS:
                in_base[bucket] += row.buckets[bucket]
            in_base["total"] += row.total
    foreign = (
        spans.exclude(currency=base)
        .annotate(bucket=_bucket(as_of))
        .values_list("client_id", "bucket", *SPAN_IN_BASE)
    )
    if not any(currency != base for _pk, currency in found):
        foreign = foreign.none()  # nothing open in another currency: no query
    for client_id, bucket, *figures in foreign:
        value = _span_in_base(figures, base)
        # A span written between the two queries has no row: it is in neither.
        row = found.get((client_id, figures[0]))
        if row is None:
            continue
        if value is None:
            row.without_rate += 1
            without_rate += 1
        else:
            row.total_in_base += value
            in_base[bucket] += value
            in_base["total"] += value
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
    return Aging(
        as_of=as_of,
        rows=rows,
        totals=totals,
        base_currency=base,
        in_base=in_base,
        without_rate=without_rate,
    )


def open_invoices(
    as_of: datetime.date, *, client: Client, currency: str | None = None
) -> list[Any]:
    """The client's invoices open at the end of ``as_of`` (in ``currency``, if given),
    oldest due first, with ``balance_at`` set on each (hence Any): for the statement. One
    query."""
    found = []
    spans = open_spans(as_of).filter(client=client)
    if currency is not None:
        spans = spans.filter(currency=currency)
    for span in spans.select_related("invoice"):
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


@dataclass
class InBase:
    """A sum in the base currency, and how many documents had no base figure to add."""

    amount: Decimal = ZERO
    without_rate: int = 0

    def add(self, value: Decimal | None) -> None:
        if value is None:
            self.without_rate += 1
        else:
            self.amount += value


def foreign_outstanding_in_base_at(
    days, *, base_currency: str, skip=None
) -> dict[datetime.date, dict[str, InBase]]:
    """Day -> currency -> what was open at the end of that day in ``days`` on the invoices
    in other currencies than the base, in the base currency (``open_in_base``, per
    invoice): ``outstanding_at``'s queries, for those invoices, a row each (rounded per
    invoice, which a sum in SQL cannot do); none for the days in ``skip`` (nothing open in
    another currency then). In the base currency the figures of ``outstanding_at`` are their
    own base."""
    found: dict[datetime.date, dict[str, InBase]] = {day: {} for day in days}
    month_ends = {
        day.replace(day=1): day for day in days if (day + datetime.timedelta(days=1)).day == 1
    }
    if skip is not None:
        month_ends = {month: day for month, day in month_ends.items() if day not in skip}
        days = [day for day in days if day not in skip]

    def add(day, figures) -> None:
        found[day].setdefault(figures[0], InBase()).add(_span_in_base(figures, base_currency))

    foreign = OutstandingSpan.objects.exclude(currency=base_currency)
    if month_ends:
        cut = foreign.filter(month__in=list(month_ends), ends__day=1).values_list(
            "month", *SPAN_IN_BASE
        )
        for month, *figures in cut:
            add(month_ends[_as_date(month)], figures)
        still_open = foreign.filter(
            month=OPEN_MONTH, starts__lte=max(month_ends.values())
        ).values_list("starts", *SPAN_IN_BASE)
        for starts, *figures in still_open:
            for month, day in month_ends.items():
                if starts.replace(day=1) <= month:
                    add(day, figures)
    for day in set(days) - set(month_ends.values()):
        for figures in open_spans(day).exclude(currency=base_currency).values_list(*SPAN_IN_BASE):
            add(day, figures)
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
    # Net: the totals and taxes of the invoices issued in the period (those cancelled
    # since included), less those of the credit notes issued in it and of the invoices
    # cancelled in it.
    invoiced: Decimal = ZERO
    tax: Decimal = ZERO
    invoice_count: int = 0
    # The credit notes' totals, as the negative they count for in ``invoiced``.
    credited: Decimal = ZERO
    credit_note_count: int = 0
    # The totals of the invoices cancelled in the period, likewise.
    cancelled: Decimal = ZERO
    cancellation_count: int = 0
    # Net of tax (``net_of_tax``): what ``invoiced`` is less its taxes, the income of the
    # books (SPEC: Exports and imports).
    income: Decimal = ZERO
    collected: Decimal = ZERO
    outstanding: Decimal = ZERO
    # The same in the base currency, from the stored base figures: the documents'
    # ``total_in_base``, ``tax_in_base``, ``subtotal_in_base`` − ``discount_in_base``, the
    # payments' ``amount_in_base`` (``billing.selectors.collected_in_base``) and what was
    # open by ``open_in_base``.
    invoiced_in_base: Decimal = ZERO
    tax_in_base: Decimal = ZERO
    credited_in_base: Decimal = ZERO
    cancelled_in_base: Decimal = ZERO
    income_in_base: Decimal = ZERO
    collected_in_base: Decimal = ZERO
    outstanding_in_base: Decimal = ZERO
    # Documents and payments without base figures, left out of the above; refunds in
    # another currency than the base, which keep none, likewise.
    without_rate: int = 0
    refunds_without_base: int = 0


@dataclass
class RevenueInBase:
    """One period of the revenue report, every currency added in the base currency."""

    start: datetime.date
    end: datetime.date
    currency: str
    invoiced: Decimal = ZERO
    tax: Decimal = ZERO
    credited: Decimal = ZERO
    cancelled: Decimal = ZERO
    income: Decimal = ZERO
    collected: Decimal = ZERO
    outstanding: Decimal = ZERO
    invoice_count: int = 0
    credit_note_count: int = 0
    cancellation_count: int = 0
    without_rate: int = 0
    refunds_without_base: int = 0


def revenue_in_base(periods: list[RevenuePeriod], *, base_currency: str) -> list[RevenueInBase]:
    """``revenue``'s periods with every currency's base figures added: one row per period."""
    found: dict[datetime.date, RevenueInBase] = {}
    for row in periods:
        total = found.setdefault(
            row.start, RevenueInBase(start=row.start, end=row.end, currency=base_currency)
        )
        total.invoiced += row.invoiced_in_base
        total.tax += row.tax_in_base
        total.credited += row.credited_in_base
        total.cancelled += row.cancelled_in_base
        total.income += row.income_in_base
        total.collected += row.collected_in_base
        total.outstanding += row.outstanding_in_base
        total.invoice_count += row.invoice_count
        total.credit_note_count += row.credit_note_count
        total.cancellation_count += row.cancellation_count
        total.without_rate += row.without_rate
        total.refunds_without_base += row.refunds_without_base
    return [found[start] for start in sorted(found)]


# What was invoiced, credited and cancelled in a range, for invoices (``prefix`` ""), or
# for their lines or taxes ("invoice__"), or for credit notes and their lines or taxes
# ("credit_note__"): one definition each, whichever table is summed.
def _issued_between(start: datetime.date, end: datetime.date, prefix: str = "") -> Q:
    """Invoices issued in the range, those cancelled since included: a cancellation never
    rewrites the period of the issue, it counts in its own (``_cancelled_between``)."""
    return Q(**{f"{prefix}issue_date__gte": start, f"{prefix}issue_date__lte": end}) & ~Q(
        **{f"{prefix}status": InvoiceStatus.DRAFT}
    )


def _cancelled_between(start: datetime.date, end: datetime.date, prefix: str = "") -> Q:
    """Invoices cancelled in the range: by ``cancelled_on``, the business's day of it (only
    an issued invoice can be cancelled)."""
    return Q(**{f"{prefix}cancelled_on__gte": start, f"{prefix}cancelled_on__lte": end})


def _credited_between(start: datetime.date, end: datetime.date, prefix: str = "") -> Q:
    """Credit notes issued in the range."""
    return Q(
        **{
            f"{prefix}issue_date__gte": start,
            f"{prefix}issue_date__lte": end,
            f"{prefix}status": CreditNoteStatus.ISSUED,
        }
    )


def issued_in(start: datetime.date, end: datetime.date):
    """Invoices issued in the range, those cancelled since included: what was invoiced
    (read from their index on issue date, status, currency, client and figures)."""
    return Invoice.objects.filter(_issued_between(start, end))


def credit_notes_issued_in(start: datetime.date, end: datetime.date):
    """Credit notes issued in the range: what was credited, taken off what was invoiced in
    the period of their own issue date (read from their index on issue date, status,
    currency, client and figures)."""
    return CreditNote.objects.filter(_credited_between(start, end))


def cancelled_in(start: datetime.date, end: datetime.date):
    """Invoices cancelled in the range: what was cancelled, taken off what was invoiced in
    the period the cancellation was made (read from their index on the day of it,
    currency, client and figures)."""
    return Invoice.objects.filter(_cancelled_between(start, end))


# The ``document`` column of a UNION of invoices', credit notes' and cancellations' figures.
INVOICE, CREDIT_NOTE, CANCELLATION = "invoice", "credit_note", "cancellation"


def _documents(invoices: QuerySet, credit_notes: QuerySet, cancellations: QuerySet) -> QuerySet:
    """Three grouped queries, of the invoices issued (or their lines or taxes), of the
    credit notes issued and of the invoices cancelled, with the same columns in the same
    order, as one: UNION ALL, each row with ``document`` (INVOICE, CREDIT_NOTE or
    CANCELLATION). Its rows have the first query's column names."""
    return (
        invoices.annotate(document=Value(INVOICE))
        .order_by()
        .union(
            credit_notes.annotate(document=Value(CREDIT_NOTE)).order_by(),
            cancellations.annotate(document=Value(CANCELLATION)).order_by(),
            all=True,
        )
    )


def signed(amount: Decimal, document: str) -> Decimal:
    """A figure of a ``_documents`` row as it counts in its period: an invoice's as it is, a
    credit note's and a cancellation's as a negative (SPEC: Credit notes; Exports and
    imports: books are never rewritten after the fact)."""
    return amount if document == INVOICE else ZERO - amount  # never -0.00


def net_of_tax_sums() -> dict[str, Sum]:
    """The sums behind ``net_of_tax``, to annotate a grouped query of invoices or credit
    notes with (named apart from the fields, which a filter of the query may read)."""
    return {
        "subtotal_sum": Sum("subtotal"),
        "discount_sum": Sum("discount_total"),
        "subtotal_base": Sum("subtotal_in_base"),
        "discount_base": Sum("discount_in_base"),
    }


def net_of_tax(group: dict) -> tuple[Decimal, Decimal]:
    """What the documents of a group were sold for, net of tax: subtotal less discount
    (SPEC: Money, Exports and imports: "income"), and the same in the base currency from
    the stored ``subtotal_in_base`` − ``discount_in_base``."""
    return (
        money(group["subtotal_sum"]) - money(group["discount_sum"]),
        money(group["subtotal_base"]) - money(group["discount_base"]),
    )


def collections_in(start: datetime.date, end: datetime.date):
    """Money received in the range, reversals and refunds deducted:
    ``ledger.selectors.collections``, the one definition the dashboard and the API use too."""
    return collections(start=start, end=end)


def revenue(
    start: datetime.date,
    end: datetime.date,
    *,
    period: str = "month",
    today: datetime.date,
    base_currency: str | None = None,
) -> list[RevenuePeriod]:
    """Per period and currency: invoiced, tax and income (net of tax) net of credit notes and
    cancellations, collected and outstanding at the period's end (or today, for a period not
    over yet), each also in the base currency from the stored base figures. At most six
    queries, however many periods, and three for what was open on the invoices in other
    currencies (a row each; none when nothing is open in another currency)."""
    base = base_currency_or(base_currency)
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

    def per_period(documents: QuerySet, day: str) -> QuerySet:
        return (
            documents.annotate(period=trunc(day))
            .values("period", "currency")
            .annotate(
                total=Sum("total"),
                tax=Sum("tax_total"),
                count=Count("id"),
                # Not named as the fields: the filter reads the field.
                total_base=Sum("total_in_base"),
                tax_base=Sum("tax_in_base"),
                **net_of_tax_sums(),
                without_rate=Count("id", filter=Q(total_in_base__isnull=True)),
            )
        )

    documents = _documents(
        per_period(issued_in(start, end), "issue_date"),
        per_period(credit_notes_issued_in(start, end), "issue_date"),
        per_period(cancelled_in(start, end), "cancelled_on"),
    )
    for group in documents:
        found = row(group["period"], group["currency"])
        document = group["document"]
        total, tax = signed(money(group["total"]), document), signed(money(group["tax"]), document)
        total_in_base = signed(money(group["total_base"]), document)
        tax_in_base = signed(money(group["tax_base"]), document)
        income, income_in_base = (signed(amount, document) for amount in net_of_tax(group))
        if document == CREDIT_NOTE:
            found.credited, found.credit_note_count = total, group["count"]
            found.credited_in_base = total_in_base
        elif document == CANCELLATION:
            found.cancelled, found.cancellation_count = total, group["count"]
            found.cancelled_in_base = total_in_base
        else:
            found.invoice_count = group["count"]
        found.invoiced += total
        found.tax += tax
        found.income += income
        found.invoiced_in_base += total_in_base
        found.tax_in_base += tax_in_base
        found.income_in_base += income_in_base
        found.without_rate += group["without_rate"]
    collected = (
        collections_in(start, end)
        .annotate(period=trunc("date"))
        .values("period", "currency")
        .annotate(
            collected=Sum("amount"),
            collected_in_base=Sum(collected_in_base(base)),
            without_rate=Count("id", filter=collected_without_rate(base)),
            refunds_without_base=Count("id", filter=refunds_without_base(base)),
        )
        .order_by()
    )
    for group in collected:
        found = row(group["period"], group["currency"])
        found.collected = money(group["collected"])
        found.collected_in_base = money(group["collected_in_base"])
        found.without_rate += group["without_rate"]
        found.refunds_without_base = group["refunds_without_base"]
    starts = period_starts(start, end, period)
    as_ofs = {
        period_start: min(period_end(period_start, period), end, today) for period_start in starts
    }
    as_ofs = {key: as_of for key, as_of in as_ofs.items() if as_of >= key}
    outstanding = outstanding_at(set(as_ofs.values()))
    foreign = foreign_outstanding_in_base_at(
        set(as_ofs.values()),
        base_currency=base,
        skip={day for day, amounts in outstanding.items() if not set(amounts) - {base}},
    )
    for period_start, as_of in as_ofs.items():
        for currency, amount in outstanding[as_of].items():
            found = row(period_start, currency)
            found.outstanding = amount
            if currency == base:
                found.outstanding_in_base = amount
        for currency, in_base in foreign[as_of].items():
            found = row(period_start, currency)
            found.outstanding_in_base = in_base.amount
            found.without_rate += in_base.without_rate
    # Every period of the range for each currency seen, quiet ones included (a chart
    # without its empty months would mislead).
    for currency in {currency for _start, currency in rows}:
        for period_start in starts:
            row(period_start, currency)
    return sorted(rows.values(), key=lambda found: (found.currency, found.start))


def receivables(as_of: datetime.date) -> dict[str, Decimal]:
    """Currency -> what the clients owe at the end of ``as_of``, net of the credit they
    hold: −(the sum of every client's ledger entries dated on or before it), the
    receivables of the books (SPEC: Exports and imports). It differs from what is
    outstanding on invoices by the clients' credit. One grouped query."""
    rows = (
        LedgerEntry.objects.filter(date__lte=as_of)
        .values("currency")
        .annotate(total=Sum("amount"))
        .order_by("currency")
    )
    return {row["currency"]: ZERO - money(row["total"]) for row in rows}


def top_clients(
    start: datetime.date, end: datetime.date, *, limit: int = 10
) -> dict[str, list[dict]]:
    """Per currency, the clients invoiced most in the range, net of their credit notes
    issued and their invoices cancelled in it (amounts in different currencies are never
    ranked together): one query grouped by client, of the invoices, the credit notes and
    the cancellations (each read from an index of its own table alone), ranked here, and
    one for the names of the few shown. The groups are one per client invoiced, credited or
    cancelled in the range, thousands at most; a query per currency would read the range's
    documents once for each."""

    def per_client(documents: QuerySet) -> QuerySet:
        return documents.values("client_id", "currency").annotate(
            total=Sum("total"), count=Count("id")
        )

    documents = _documents(
        per_client(issued_in(start, end)),
        per_client(credit_notes_issued_in(start, end)),
        per_client(cancelled_in(start, end)),
    )
    net: dict[tuple[int, str], dict] = {}
    for group in documents.iterator(chunk_size=2000):
        key = (group["client_id"], group["currency"])
        found = net.setdefault(
            key,
            {
                "client_id": group["client_id"],
                "currency": group["currency"],
                "invoiced": ZERO,
                "credited": ZERO,
                "cancelled": ZERO,
                "count": 0,
            },
        )
        document = group["document"]
        total = signed(money(group["total"]), document)
        if document == CREDIT_NOTE:
            found["credited"] += total
        elif document == CANCELLATION:
            found["cancelled"] += total
        else:
            found["count"] += group["count"]
        found["invoiced"] += total
    found_by_currency: dict[str, list[dict]] = {}
    for row in net.values():
        found_by_currency.setdefault(row["currency"], []).append(row)
    ranked = {
        currency: heapq.nsmallest(limit, rows, key=lambda row: (-row["invoiced"], row["client_id"]))
        for currency, rows in found_by_currency.items()
    }
    names = _names(Client, {row["client_id"] for rows in ranked.values() for row in rows})
    for rows in ranked.values():
        for row in rows:
            row["client__code"], row["client__name"] = names[row["client_id"]]
        rows.sort(key=lambda row: (-row["invoiced"], row["client__code"]))
    return dict(sorted(ranked.items()))


def by_service(start: datetime.date, end: datetime.date) -> dict[str, list[dict]]:
    """Per currency, line amounts (before the invoice discount and tax) per service in the
    range, largest first, less the credit notes' lines issued in it under the service of
    the invoice line each credits, and less the lines of the invoices cancelled in it;
    lines without a service (a credit of an amount is one) under an empty code. One query,
    of the invoices', the credit notes' and the cancellations' lines, and one for the
    services' names."""

    def per_service(lines: QuerySet) -> QuerySet:
        return lines.values("service_id", "invoice__currency").annotate(
            amount=Sum("amount"), lines=Count("id")
        )

    credited_lines = (
        CreditNoteLine.objects.filter(_credited_between(start, end, "credit_note__"))
        .values("invoice_line__service_id", "credit_note__currency")
        .annotate(amount=Sum("amount"), lines=Count("id"))
    )
    net: dict[tuple[int | None, str], dict] = {}
    for group in _documents(
        per_service(InvoiceLine.objects.filter(_issued_between(start, end, "invoice__"))),
        credited_lines,
        per_service(InvoiceLine.objects.filter(_cancelled_between(start, end, "invoice__"))),
    ):
        key = (group["service_id"], group["invoice__currency"])
        found = net.setdefault(
            key,
            {
                "service_id": group["service_id"],
                "invoice__currency": group["invoice__currency"],
                "amount": ZERO,
                "credited": ZERO,
                "cancelled": ZERO,
                "lines": 0,
            },
        )
        document = group["document"]
        amount = signed(money(group["amount"]), document)
        if document == CREDIT_NOTE:
            found["credited"] += amount
        elif document == CANCELLATION:
            found["cancelled"] += amount
        else:
            found["lines"] += group["lines"]
        found["amount"] += amount
    rows = list(net.values())
    names = _names(Service, {row["service_id"] for row in rows} - {None})
    for row in rows:
        row["service__code"], row["service__name"] = names.get(row["service_id"], (None, None))
    found_by_currency: dict[str, list[dict]] = {}
    for row in sorted(rows, key=lambda row: (-row["amount"], row["service__code"] or "")):
        found_by_currency.setdefault(row["invoice__currency"], []).append(row)
    return dict(sorted(found_by_currency.items()))


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
    """Per period, tax (label, rate and registration number) and currency: the tax charged
    on the invoices issued in the period, those cancelled since included (``charged``), less
    the tax of the credit notes issued in it (``credited``, negative) and of the invoices
    cancelled in it (``cancelled``, negative), and so the figure to file (``amount``), with
    the taxable base, net likewise (``base``; ``credited_base``, ``cancelled_base``); each
    tax also in the base currency, from each document's stored ``amount_in_base`` of it
    (``charged_in_base``, ``credited_in_base``, ``cancelled_in_base``, ``amount_in_base``;
    ``without_rate``: the documents without, left out of those). One query."""
    trunc = PERIODS[period]

    def per_tax(taxes: QuerySet, document: str, day: str) -> QuerySet:
        return (
            taxes.annotate(period=trunc(f"{document}__{day}"), currency=F(f"{document}__currency"))
            .values("period", "label", "rate", "number", "currency")
            .annotate(
                base=Sum("base"),
                amount=Sum("amount"),
                count=Count(document, distinct=True),
                # Not named as the field: the filter reads the field.
                amount_base=Sum("amount_in_base"),
                without_rate=Count(document, distinct=True, filter=Q(amount_in_base__isnull=True)),
            )
        )

    rows: dict[tuple, dict] = {}
    for group in _documents(
        per_tax(
            InvoiceTax.objects.filter(_issued_between(start, end, "invoice__")),
            "invoice",
            "issue_date",
        ),
        per_tax(
            CreditNoteTax.objects.filter(_credited_between(start, end, "credit_note__")),
            "credit_note",
            "issue_date",
        ),
        per_tax(
            InvoiceTax.objects.filter(_cancelled_between(start, end, "invoice__")),
            "invoice",
            "cancelled_on",
        ),
    ):
        period_start = _as_date(group["period"])
        key = (period_start, group["currency"], group["label"], group["rate"], group["number"])
        found = rows.setdefault(
            key,
            {
                "start": period_start,
                "end": period_end(period_start, period),
                "label": group["label"],
                "rate": group["rate"],
                "number": group["number"],
                "currency": group["currency"],
                "base": ZERO,
                "amount": ZERO,
                "charged": ZERO,
                "credited_base": ZERO,
                "credited": ZERO,
                "cancelled_base": ZERO,
                "cancelled": ZERO,
                "invoices": 0,
                "credit_notes": 0,
                "cancellations": 0,
                "amount_in_base": ZERO,
                "charged_in_base": ZERO,
                "credited_in_base": ZERO,
                "cancelled_in_base": ZERO,
                "without_rate": 0,
            },
        )
        document = group["document"]
        base, amount = (
            signed(money(group["base"]), document),
            signed(money(group["amount"]), document),
        )
        amount_in_base = signed(money(group["amount_base"]), document)
        if document == CREDIT_NOTE:
            found["credited_base"], found["credited"] = base, amount
            found["credited_in_base"] = amount_in_base
            found["credit_notes"] = group["count"]
        elif document == CANCELLATION:
            found["cancelled_base"], found["cancelled"] = base, amount
            found["cancelled_in_base"] = amount_in_base
            found["cancellations"] = group["count"]
        else:
            found["charged"] = amount
            found["charged_in_base"] = amount_in_base
            found["invoices"] = group["count"]
        found["base"] += base
        found["amount"] += amount
        found["amount_in_base"] += amount_in_base
        found["without_rate"] += group["without_rate"]
    return [rows[key] for key in sorted(rows)]


def untaxed_sales(
    start: datetime.date, end: datetime.date, *, period: str = "quarter"
) -> list[dict]:
    """The sales without tax per period, reason and currency (SPEC: Several taxes): to
    tax-exempt clients, to clients abroad, and to clients whose own set is empty; the
    amount is ``net_of_tax`` (subtotal − discount) of the invoices issued in the period,
    those cancelled since included, less that of the credit notes issued in it
    (``credited``, negative) and of the invoices cancelled in it (``cancelled``, negative);
    in the base currency from the stored ``subtotal_in_base`` − ``discount_in_base``
    likewise (``amount_in_base``, ``credited_in_base``, ``cancelled_in_base``;
    ``without_rate``: the documents without). One query."""
    trunc = PERIODS[period]
    untaxed = Q(tax_basis__in=[TaxBasis.EXEMPT, TaxBasis.FOREIGN]) | Q(
        tax_basis=TaxBasis.CLIENT, taxes__isnull=True
    )

    def per_basis(documents: QuerySet, day: str) -> QuerySet:
        return (
            documents.filter(untaxed)
            .annotate(period=trunc(day))
            .values("period", "tax_basis", "currency")
            .annotate(
                count=Count("pk"),
                **net_of_tax_sums(),
                without_rate=Count("pk", filter=Q(total_in_base__isnull=True)),
            )
        )

    rows: dict[tuple, dict] = {}
    for group in _documents(
        per_basis(issued_in(start, end), "issue_date"),
        per_basis(credit_notes_issued_in(start, end), "issue_date"),
        per_basis(cancelled_in(start, end), "cancelled_on"),
    ):
        period_start = _as_date(group["period"])
        key = (period_start, group["currency"], group["tax_basis"])
        found = rows.setdefault(
            key,
            {
                "start": period_start,
                "end": period_end(period_start, period),
                "basis": group["tax_basis"],
                "label": UNTAXED_LABELS[group["tax_basis"]],
                "currency": group["currency"],
                "amount": ZERO,
                "credited": ZERO,
                "cancelled": ZERO,
                "invoices": 0,
                "credit_notes": 0,
                "cancellations": 0,
                "amount_in_base": ZERO,
                "credited_in_base": ZERO,
                "cancelled_in_base": ZERO,
                "without_rate": 0,
            },
        )
        document = group["document"]
        amount, amount_in_base = (signed(figure, document) for figure in net_of_tax(group))
        if document == CREDIT_NOTE:
            found["credited"], found["credited_in_base"] = amount, amount_in_base
            found["credit_notes"] = group["count"]
        elif document == CANCELLATION:
            found["cancelled"], found["cancelled_in_base"] = amount, amount_in_base
            found["cancellations"] = group["count"]
        else:
            found["invoices"] = group["count"]
        found["amount"] += amount
        found["amount_in_base"] += amount_in_base
        found["without_rate"] += group["without_rate"]
    return [rows[key] for key in sorted(rows)]


def tax_in_base(rows: list[dict], *, base_currency: str) -> list[dict]:
    """``tax_report``'s (or ``untaxed_sales``') rows with every currency added in the base
    currency: one row per period and tax (label, rate, number), or per period and reason,
    with ``charged``, ``credited``, ``cancelled`` and ``amount`` (to file) in the base
    currency, the currencies it adds and ``without_rate``."""
    found: dict[tuple, dict] = {}
    for row in rows:
        key = (row["start"], row["label"], row.get("rate"), row.get("number"), row.get("basis"))
        total = found.setdefault(
            key,
            {
                "start": row["start"],
                "end": row["end"],
                "label": row["label"],
                "rate": row.get("rate"),
                "number": row.get("number"),
                "currency": base_currency,
                "currencies": [],
                "charged": ZERO,
                "credited": ZERO,
                "cancelled": ZERO,
                "amount": ZERO,
                "without_rate": 0,
            },
        )
        total["currencies"].append(row["currency"])
        # An untaxed row's invoices: its amount less its credit notes' and cancellations' part.
        invoiced = row["amount_in_base"] - row["credited_in_base"] - row["cancelled_in_base"]
        total["charged"] += row.get("charged_in_base", invoiced)
        total["credited"] += row["credited_in_base"]
        total["cancelled"] += row["cancelled_in_base"]
        total["amount"] += row["amount_in_base"]
        total["without_rate"] += row["without_rate"]
    return [
        found[key]
        for key in sorted(found, key=lambda k: (k[0], str(k[1]), k[2] or 0, k[3] or "", k[4] or ""))
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
    # A client's account is kept per currency (SPEC: Client ledger): this one's.
    currency: str = ""


def statement(
    client: Client, start: datetime.date, end: datetime.date, *, currency: str | None = None
) -> Statement:
    """The client's account in ``currency`` (by default its own) for the range: opening
    balance, every ledger entry with its running balance (and the taxes of the invoices and
    credit notes they post), closing balance and the invoices open at the end. Five
    queries."""
    currency = currency or client.default_currency
    mine = LedgerEntry.objects.filter(client=client, currency=currency)
    opening = money(mine.filter(date__lt=start).aggregate(total=Sum("amount"))["total"])
    entries = list(
        mine.filter(date__gte=start, date__lte=end)
        .select_related("invoice", "payment", "credit_note")
        # Each document's taxes, shown under its entry (SPEC: Several taxes).
        .prefetch_related("invoice__taxes", "credit_note__taxes")
        .order_by("date", "id")
    )
    running = opening
    for entry in entries:
        running += entry.amount
        entry.running = running
    invoices = open_invoices(end, client=client, currency=currency)
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
        currency=currency,
    )


def ledger_balances(as_of: datetime.date, keys) -> dict[tuple[int, str], Decimal]:
    """(client id, currency) -> that ledger's balance at the end of ``as_of``, for ``keys``
    (such pairs): the stored balance (the sum of every entry) less the entries dated after
    that day, which for a recent day are few. Two queries."""
    keys = set(keys)
    client_ids = {pk for pk, _currency in keys}
    balances = dict.fromkeys(keys, ZERO)
    for pk, currency, balance in Account.objects.filter(client_id__in=client_ids).values_list(
        "client_id", "currency", "balance"
    ):
        if (pk, currency) in balances:
            balances[(pk, currency)] += balance
    later = (
        LedgerEntry.objects.filter(date__gt=as_of, client_id__in=client_ids)
        .values("client_id", "currency")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    for row in later:
        key = (row["client_id"], row["currency"])
        if key in balances:
            balances[key] -= row["total"]
    return {key: money(balance) for key, balance in balances.items()}


# --- Exchange gains and losses ------------------------------------------------------------
@dataclass
class ExchangeGains:
    """The realised exchange gains and losses of a range of dates (SPEC: Currencies and
    exchange rates): the business's, never the client's."""

    start: datetime.date
    end: datetime.date
    base_currency: str
    payments: QuerySet  # of Payment, by date, with client and invoice
    # currency -> {"count", "amount", "gains", "losses", "net"}
    by_currency: dict[str, dict] = field(default_factory=dict)
    count: int = 0
    gains: Decimal = ZERO
    losses: Decimal = ZERO
    net: Decimal = ZERO
    # Confirmed payments of the range whose difference is not known: they or their invoice
    # have no exchange rate (from before rates were kept).
    without_rate: int = 0


def exchange_gains(
    start: datetime.date, end: datetime.date, *, base_currency: str | None = None
) -> ExchangeGains:
    """The confirmed payments dated in the range with an exchange gain (> 0) or loss (< 0),
    as stored with each (``Payment.exchange_difference``: what it received in the base
    currency at its own rate, less what it settled of its invoice's base total at the
    invoice's rate, less what it left as credit); a reversed payment no longer counts.
    Totals per currency and overall: one grouped query; the payments themselves are a
    query to page through."""
    base = base_currency_or(base_currency)
    confirmed = Payment.objects.filter(
        date__gte=start, date__lte=end, status=PaymentStatus.CONFIRMED
    )
    differs = Q(exchange_difference__isnull=False) & ~Q(exchange_difference=0)
    found = ExchangeGains(
        start=start,
        end=end,
        base_currency=base,
        payments=confirmed.filter(differs)
        .select_related("client", "invoice")
        .order_by("date", "pk"),
    )
    totals = (
        confirmed.values("currency")
        .annotate(
            count=Count("pk", filter=differs),
            amount=Sum("amount", filter=differs),
            gains=Sum("exchange_difference", filter=Q(exchange_difference__gt=0)),
            losses=Sum("exchange_difference", filter=Q(exchange_difference__lt=0)),
            without_rate=Count("pk", filter=Q(exchange_difference__isnull=True)),
        )
        .order_by("currency")
    )
    for row in totals:
        found.without_rate += row["without_rate"]
        if not row["count"]:
            continue
        gains, losses = money(row["gains"]), money(row["losses"])
        found.by_currency[row["currency"]] = {
            "count": row["count"],
            "amount": money(row["amount"]),
            "gains": gains,
            "losses": losses,
            "net": gains + losses,
        }
        found.count += row["count"]
        found.gains += gains
        found.losses += losses
    found.net = found.gains + found.losses
    return found


# --- Quotes -------------------------------------------------------------------------------
# What became of the quotes of a period, as each shows today (quotes.selectors): still
# awaiting an answer, accepted, declined, expired unanswered, or withdrawn.
QUOTE_OUTCOMES = (
    QuoteState.ACCEPTED,
    QuoteState.DECLINED,
    QuoteState.EXPIRED,
    QuoteState.WITHDRAWN,
    QuoteState.SENT,
)
# Those whose fate is known, the share accepted's denominator.
QUOTE_DECIDED = (QuoteState.ACCEPTED, QuoteState.DECLINED, QuoteState.EXPIRED)


@dataclass
class QuoteOutcome:
    count: int = 0
    value: Decimal = ZERO


@dataclass
class QuotePeriod:
    """The quotes dated in one period (their quote date, given when sent), in one
    currency: how many were sent and what became of them, as of today."""

    start: datetime.date
    end: datetime.date
    currency: str
    # QuoteState value -> its count and value (the quotes' totals, taxes included).
    outcomes: dict[str, QuoteOutcome] = field(
        default_factory=lambda: {state.value: QuoteOutcome() for state in QUOTE_OUTCOMES}
    )

    @property
    def in_order(self) -> list[QuoteOutcome]:
        """The outcomes in the order of QUOTE_OUTCOMES: a table's columns."""
        return [self.outcomes[state] for state in QUOTE_OUTCOMES]

    @property
    def sent(self) -> QuoteOutcome:
        """Every quote of the period: each was sent, whatever became of it."""
        return QuoteOutcome(
            count=sum(o.count for o in self.outcomes.values()),
            value=sum((o.value for o in self.outcomes.values()), ZERO),
        )

    @property
    def decided(self) -> int:
        """The quotes whose fate is known: answered (accepted or declined) or expired."""
        return sum(self.outcomes[state].count for state in QUOTE_DECIDED)

    @property
    def accepted_percent(self) -> Decimal | None:
        """The share accepted: accepted ÷ (accepted + declined + expired), in percent to
        one decimal; None when none is decided. Withdrawn quotes and those still awaiting
        an answer are left out: nobody said no to them."""
        if not self.decided:
            return None
        share = Decimal(100 * self.outcomes[QuoteState.ACCEPTED].count) / self.decided
        return share.quantize(Decimal("0.1"))


def add_quote_periods(rows: list[QuotePeriod], *, currency: str) -> QuotePeriod:
    """``rows`` (of one currency) added up: a table's last line."""
    total = QuotePeriod(
        start=min((row.start for row in rows), default=datetime.date.min),
        end=max((row.end for row in rows), default=datetime.date.min),
        currency=currency,
    )
    for row in rows:
        for state, outcome in row.outcomes.items():
            total.outcomes[state].count += outcome.count
            total.outcomes[state].value += outcome.value
    return total


def quotes_report(
    start: datetime.date, end: datetime.date, *, period: str = "month", today: datetime.date
) -> list[QuotePeriod]:
    """Per period of the quote date and currency: the quotes sent (every quote not a draft
    dated in the range) by what each shows as ``today``, with their count and value. One
    grouped query. Quotes keep no figure in the base currency (nothing is frozen until an
    invoice is issued), so each currency stays on its own."""
    grouped = (
        with_shown_state(
            Quote.objects.filter(issue_date__gte=start, issue_date__lte=end).exclude(
                status=QuoteStatus.DRAFT
            ),
            today=today,
        )
        .annotate(period=PERIODS[period]("issue_date"))
        .values("period", "currency", "shown_state")
        .annotate(count=Count("id"), value=Sum("total"))
        .order_by()
    )
    rows: dict[tuple[datetime.date, str], QuotePeriod] = {}
    for group in grouped:
        period_start = _as_date(group["period"])
        key = (period_start, group["currency"])
        if key not in rows:
            rows[key] = QuotePeriod(
                start=period_start,
                end=period_end(period_start, period),
                currency=group["currency"],
            )
        outcome = rows[key].outcomes[group["shown_state"]]
        outcome.count += group["count"]
        outcome.value += money(group["value"])
    return [rows[key] for key in sorted(rows, key=lambda key: (key[1], key[0]))]
