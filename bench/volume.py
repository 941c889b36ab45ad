"""Realistic volume for benchmarks: years of clients, invoices, payments and ledger entries.

``fill(clients=..., invoices=..., seed=...)`` (``python -m bench.seed``) writes straight into
the tables in batches (``executemany`` of plain tuples: a million invoices in minutes, not
hours), yet every figure comes from ``billing.money.compute_invoice`` and every status from
``billing.rules.derive_status``. The ledger's entries go through the entry point's batch form,
``billing.accounting.post_in_bulk``: the entries the operations would post, with the kinds,
signs and memos of ``ledger.events.RULES``, and the balances moved with them, so SPEC.md's
invariant holds for every client. As ``post_in_bulk`` asks, this module writes each invoice's
amount paid and status itself (from ``billing.rules``) and derives the outstanding spans at
the end. The same seed gives the same data.

Not product code: it writes around the services on purpose, and only the bench uses it.

What a run makes, for M invoices over ``years`` years up to the business's today:

- clients with a long tail: the busiest has thousands of invoices, most have a few dozen;
  some are abroad (no tax where tax is local only), a few tax-exempt;
- invoices in date order (numbers follow issue dates), 1–20 lines from a list of services,
  now and then a line or invoice discount; a few drafts among the newest, 2 % cancelled;
- payments: older invoices mostly paid (some in two parts, some overpaid, which leaves
  credit), newer ones pending, partial or overdue; 1 % of payments bounced and reversed;
  a few pending payments;
- ledger entries for every issue, cancellation, confirmed and reversed payment.
"""

from __future__ import annotations

import bisect
import datetime
import random
import sys
import time
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction

from billing import accounting, outstanding
from billing.accounting import BulkEvent
from billing.models import (
    Client,
    Invoice,
    InvoiceLine,
    InvoiceNumberCounter,
    InvoiceStatus,
    InvoiceTax,
    OutstandingSpan,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Service,
    TaxBasis,
)
from billing.money import CENT, LineInput, TaxInput, compute_invoice
from billing.rules import derive_status, untaxed_basis
from billing.services import COUNTER_NAME
from ledger.events import Event
from ledger.models import LedgerEntry
from settings_app.models import Tax
from settings_app.selectors import business_today, get_business_settings

D = Decimal

SERVICES = [
    # code, name, unit, unit price, taxable
    ("CONSULT", "Consulting", "h", D("120.0000"), True),
    ("DESIGN", "Design work", "h", D("95.0000"), True),
    ("DEV", "Software development", "h", D("110.0000"), True),
    ("SUPPORT", "Support", "h", D("75.0000"), True),
    ("TRAVEL", "Travel", "km", D("0.6100"), True),
    ("ELEC", "Electrical work", "h", D("88.5000"), True),
    ("PLUMB", "Plumbing", "h", D("92.0000"), True),
    ("PAINT", "Painting", "m2", D("14.2500"), True),
    ("MAT", "Materials", "pc", D("37.9900"), True),
    ("HOSTING", "Hosting, monthly", "mo", D("29.0000"), True),
    ("DOMAIN", "Domain renewal", "yr", D("18.5000"), True),
    ("TRAINING", "Training session", "h", D("150.0000"), True),
    ("PERMIT", "Permit fee (disbursement)", "pc", D("245.0000"), False),
    ("DISPOSAL", "Waste disposal", "pc", D("65.0000"), True),
    ("AUDIT", "Site audit", "pc", D("480.0000"), True),
    ("RUSH", "Rush surcharge", "pc", D("50.0000"), True),
]
QUANTITIES = [
    D("1"),
    D("1"),
    D("1"),
    D("2"),
    D("3"),
    D("0.5"),
    D("1.25"),
    D("4"),
    D("7.5"),
    D("12"),
]
METHODS = [
    PaymentMethod.E_TRANSFER,
    PaymentMethod.BANK_TRANSFER,
    PaymentMethod.CHEQUE,
    PaymentMethod.CARD,
    PaymentMethod.CASH,
]
NAMES = [
    "Maple",
    "Birch",
    "Cedar",
    "Harbour",
    "Summit",
    "Northern",
    "Riverside",
    "Granite",
    "Lakeshore",
    "Prairie",
    "Atlantic",
    "Pacific",
    "Valley",
    "Aurora",
    "Beacon",
    "Copper",
    "Falcon",
    "Heritage",
    "Ironwood",
    "Juniper",
    "Keystone",
    "Lumen",
    "Meridian",
    "Oakridge",
    "Pinecrest",
    "Quarry",
    "Redwood",
    "Silverline",
    "Timber",
    "Upland",
    "Vista",
    "Willow",
]
KINDS = [
    "Construction",
    "Property",
    "Dental",
    "Law",
    "Logistics",
    "Bakery",
    "Studio",
    "Clinic",
    "Farms",
    "Motors",
    "Realty",
]


class NotEmpty(Exception):
    """bench.seed fills an empty billing database; the message says what is there."""


@dataclass(frozen=True)
class _ServiceRow:
    pk: int
    name: str
    unit: str
    price: Decimal
    taxable: bool


@dataclass(frozen=True)
class _ClientRow:
    pk: int
    code: str
    # Where the client's tax set comes from (TaxBasis): the default one, or none.
    basis: str
    name: str


@dataclass(frozen=True)
class _InvoiceFacts:
    """What ``derive_status`` reads (billing.rules.InvoiceFacts), before the row exists."""

    number: str | None
    cancelled_at: datetime.datetime | None
    total: Decimal
    amount_paid: Decimal
    due_date: datetime.date | None
    # The benchmark's books hold no credit notes.
    amount_credited: Decimal = Decimal("0.00")


@dataclass
class Counts:
    clients: int = 0
    services: int = 0
    invoices: int = 0
    drafts: int = 0
    lines: int = 0
    payments: int = 0
    ledger_entries: int = 0
    outstanding_spans: int = 0
    statuses: dict = field(default_factory=dict)


class _Table:
    """Rows for one table, written with one multi-row INSERT per batch."""

    def __init__(self, model, columns):
        qn = connection.ops.quote_name
        cols = [model._meta.get_field(name).column for name in columns]
        self.sql = (
            f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(c) for c in cols)}) "
            f"VALUES ({', '.join(['%s'] * len(cols))})"
        )
        self.rows: list[tuple] = []
        self.next_id = (model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
        self.written = 0

    def add(self, *values) -> int:
        pk = self.next_id
        self.next_id += 1
        self.rows.append((pk, *values))
        return pk

    def flush(self, cursor) -> None:
        if self.rows:
            cursor.executemany(self.sql, self.rows)
            self.written += len(self.rows)
            self.rows = []


def check_empty() -> None:
    found = {
        "clients": Client.objects.count(),
        "invoices": Invoice.objects.count(),
        "payments": Payment.objects.count(),
        "ledger entries": LedgerEntry.objects.count(),
    }
    there = {name: n for name, n in found.items() if n}
    counter = InvoiceNumberCounter.objects.filter(name=COUNTER_NAME).first()
    if counter and counter.last_number:
        there["issued numbers"] = counter.last_number
    if there:
        listed = ", ".join(f"{n:,} {name}" for name, n in there.items())
        raise NotEmpty(
            f"The database already holds {listed}. bench.seed fills an empty database: "
            "use a new one (DATABASE_URL), or empty this one with manage.py flush."
        )


def _client_weights(n: int) -> list[float]:
    """Cumulative weights: client i gets invoices in proportion to 1/sqrt(i+1)."""
    total, cumulative = 0.0, []
    for i in range(n):
        total += (i + 1) ** -0.5
        cumulative.append(total)
    return cumulative


class _Progress:
    def __init__(self, total: int, stream):
        self.total, self.stream, self.started = total, stream, time.monotonic()
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.last_shown = -1

    def show(self, done: int) -> None:
        tenth = done * 10 // max(self.total, 1)
        if not self.tty and tenth == self.last_shown and done < self.total:
            return
        self.last_shown = tenth
        elapsed = time.monotonic() - self.started
        rate = done / elapsed if elapsed else 0
        eta = (self.total - done) / rate if rate else 0
        filled = done * 30 // max(self.total, 1)
        line = (
            f"[{'#' * filled}{'.' * (30 - filled)}] {done:,}/{self.total:,} invoices "
            f"{rate:,.0f}/s, {elapsed:.0f} s, about {eta:.0f} s to go"
        )
        self.stream.write(("\r" + line) if self.tty else line + "\n")
        self.stream.flush()

    def end(self) -> None:
        if self.tty:
            self.stream.write("\n")


def fill(
    *,
    clients: int,
    invoices: int,
    seed: int = 1,
    years: int = 10,
    batch: int = 2000,
    progress=None,
) -> Counts:
    """Fill the (empty) database; returns what was made. Raises NotEmpty."""
    check_empty()
    rng = random.Random(seed)
    settings = get_business_settings()
    today = business_today(settings)
    prefix = settings.invoice_number_prefix
    currency = settings.default_currency
    # The default set; clients abroad or tax-exempt have an empty one (rules.tax_set).
    taxes = [
        TaxInput(label=tax.label, rate=tax.rate, number=tax.number)
        for tax in Tax.objects.default_set()
    ]
    counts = Counts(statuses=dict.fromkeys(InvoiceStatus.values, 0))
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None, microsecond=0)

    mysql = connection.vendor == "mysql"
    with connection.cursor() as cursor:
        if mysql:
            # Rows are consistent by construction; checking each key on the way in would
            # triple the time. Both go back on when the run ends.
            cursor.execute("SET SESSION foreign_key_checks = 0, unique_checks = 0")
        try:
            services = _make_services(settings, now)
            counts.services = len(services)
            client_rows = _make_clients(cursor, rng, clients, settings, currency, now)
            counts.clients = len(client_rows)
            weights = _client_weights(len(client_rows))
            _fill_invoices(
                cursor=cursor,
                rng=rng,
                n=invoices,
                years=years,
                today=today,
                now=now,
                prefix=prefix,
                currency=currency,
                taxes=taxes,
                client_rows=client_rows,
                weights=weights,
                services=services,
                settings=settings,
                batch=batch,
                counts=counts,
                progress=_Progress(invoices, progress) if progress else None,
            )
            # The reports' outstanding spans, derived from what was just written.
            spans_progress = _Progress(invoices, progress) if progress else None
            with transaction.atomic():
                counts.outstanding_spans = outstanding.rebuild(
                    batch=batch, progress=spans_progress.show if spans_progress else None
                )
            if spans_progress:
                spans_progress.end()
        finally:
            if mysql:
                cursor.execute("SET SESSION foreign_key_checks = 1, unique_checks = 1")
        if mysql and not connection.in_atomic_block:
            # Fresh statistics, so the optimizer plans for millions of rows, not for none.
            # (ANALYZE commits: not inside a caller's transaction, such as a test's.)
            for model in (
                Client,
                Invoice,
                InvoiceLine,
                InvoiceTax,
                Payment,
                LedgerEntry,
                OutstandingSpan,
            ):
                cursor.execute(f"ANALYZE TABLE {connection.ops.quote_name(model._meta.db_table)}")
                cursor.fetchall()
    return counts


def _make_services(settings, now) -> list[_ServiceRow]:
    existing = set(Service.objects.values_list("code", flat=True))
    Service.objects.bulk_create(
        Service(code=code, name=name, unit=unit, unit_price=price, taxable=taxable)
        for code, name, unit, price, taxable in SERVICES
        if code not in existing
    )
    by_code = {s.code: s for s in Service.objects.filter(code__in=[s[0] for s in SERVICES])}
    return [
        _ServiceRow(pk=by_code[code].pk, name=name, unit=unit, price=price, taxable=taxable)
        for code, name, unit, price, taxable in SERVICES
    ]


def _make_clients(cursor, rng, n, settings, currency, now) -> list[_ClientRow]:
    table = _Table(
        Client,
        [
            "id",
            "code",
            "name",
            "contact_person",
            "email",
            "phone",
            "address",
            "country",
            "tax_number",
            "tax_exempt",
            "uses_default_taxes",
            "default_currency",
            "notes",
            "is_active",
            "created_at",
            "updated_at",
        ],
    )
    made = []
    foreign = [c for c in ("US", "GB", "DE", "FR") if c != settings.local_country]
    for i in range(n):
        code = f"C{i + 1:06d}"
        name = f"{rng.choice(NAMES)} {rng.choice(NAMES)} {rng.choice(KINDS)} #{i + 1}"
        country = settings.local_country if rng.random() < 0.9 else rng.choice(foreign)
        exempt = rng.random() < 0.02
        client = Client(code=code, country=country, tax_exempt=exempt)
        pk = table.add(
            code,
            name,
            f"Contact {i + 1}",
            f"accounts{i + 1}@client{i + 1}.example.com",
            f"+1 555 {i % 10000:04d}",
            f"{rng.randint(1, 999)} Main Street\nSpringfield",
            country,
            "",
            exempt,
            True,
            currency,
            "",
            True,
            now,
            now,
        )
        basis = untaxed_basis(client, settings) or TaxBasis.DEFAULT
        made.append(_ClientRow(pk=pk, code=code, basis=basis, name=name))
    with transaction.atomic():
        table.flush(cursor)
    return made


def _fill_invoices(
    *,
    cursor,
    rng,
    n,
    years,
    today,
    now,
    prefix,
    currency,
    taxes,
    client_rows,
    weights,
    services,
    settings,
    batch,
    counts,
    progress,
):
    invoice_table = _Table(
        Invoice,
        [
            "id",
            "number",
            "sequence",
            "client",
            "currency",
            "issue_date",
            "due_date",
            "status",
            "notes",
            "terms",
            "discount_kind",
            "discount_value",
            "subtotal",
            "discount_total",
            "tax_total",
            "total",
            "amount_paid",
            "amount_credited",
            "tax_basis",
            "issued_at",
            "cancelled_at",
            "cancelled_on",
            "cancel_reason",
            "created_at",
            "updated_at",
            # In the base currency: the rate 1, frozen at issue (none on a draft).
            "exchange_rate",
            "rate_date",
            "rate_source",
            "subtotal_in_base",
            "discount_in_base",
            "tax_in_base",
            "total_in_base",
        ],
    )
    line_table = _Table(
        InvoiceLine,
        [
            "id",
            "invoice",
            "position",
            "service",
            "description",
            "quantity",
            "unit",
            "unit_price",
            "discount_percent",
            "taxable",
            "taxes",
            "amount",
        ],
    )
    tax_table = _Table(
        InvoiceTax,
        [
            "id",
            "invoice",
            "position",
            "label",
            "rate",
            "number",
            "base",
            "amount",
            "amount_in_base",
        ],
    )
    payment_table = _Table(
        Payment,
        [
            "id",
            "client",
            "invoice",
            "amount",
            "date",
            "method",
            "reference",
            "note",
            "status",
            "created_at",
            "confirmed_at",
            "reversed_at",
            "reversal_reason",
            # In the base currency: the rate 1 once it counted; what it settled of its
            # invoice while it counts, no exchange difference.
            "currency",
            "rate_source",
            "exchange_rate",
            "rate_date",
            "amount_in_base",
            "settled_in_base",
            "exchange_difference",
        ],
    )
    # The ledger's entries, posted through the entry point's batch form with each batch.
    events: list[BulkEvent] = []
    tables = (invoice_table, line_table, tax_table, payment_table)

    span = max(years * 365, 1)
    start = today - datetime.timedelta(days=span)
    terms = datetime.timedelta(days=settings.payment_terms_days)
    total_weight = weights[-1]
    sequence = 0

    def at(day: datetime.date, minute: int = 0) -> datetime.datetime:
        """A time of ``day`` in UTC, naive as the plain-tuple rows store it."""
        return datetime.datetime.combine(day, datetime.time(14, 0)) + datetime.timedelta(
            minutes=minute
        )

    def event(what, client, amount, day, recorded, *, invoice_pk, payment_pk=None, **values):
        """One money event for the batch form; ``values`` fill its memo from RULES."""
        events.append(
            BulkEvent(
                event=what,
                client_id=client.pk,
                amount=amount,
                currency=currency,
                date=day,
                values=values,
                invoice_id=invoice_pk,
                payment_id=payment_pk,
                recorded_at=recorded.replace(tzinfo=datetime.UTC),
            )
        )

    def pay(
        client, invoice_pk, number, amount, day, *, status=PaymentStatus.CONFIRMED, settles=None
    ):
        method = rng.choice(METHODS)
        reference = f"REF{rng.randint(100000, 999999)}"
        reversed_at = reason = None
        if status == PaymentStatus.REVERSED:
            reversed_at, reason = at(day, 600), "Cheque returned by the bank (NSF)"
        payment_pk = payment_table.add(
            client.pk,
            invoice_pk,
            amount,
            day,
            method,
            reference,
            "",
            status,
            at(day),
            at(day, 1) if status != PaymentStatus.PENDING else None,
            reversed_at,
            reason or "",
            currency,
            "",
            *([None, None, None] if status == PaymentStatus.PENDING else [D(1), day, amount]),
            *(
                [amount if settles is None else settles, D("0.00")]
                if status == PaymentStatus.CONFIRMED
                else [None, None]
            ),
        )
        counts.payments += 1
        if status == PaymentStatus.PENDING:
            return
        # Every method of METHODS is money received: confirming posts an entry.
        memo_values = {
            "method": str(PaymentMethod(method).label),
            "reference": f" {reference}",
            "where": number,
        }
        event(
            Event.PAYMENT_CONFIRMED,
            client,
            amount,
            day,
            at(day, 1),
            invoice_pk=invoice_pk,
            payment_pk=payment_pk,
            **memo_values,
        )
        if status == PaymentStatus.REVERSED:
            event(
                Event.PAYMENT_REVERSED,
                client,
                -amount,
                reversed_at.date(),
                reversed_at,
                invoice_pk=invoice_pk,
                payment_pk=payment_pk,
                **memo_values,
                reason=reason,
            )

    for i in range(n):
        issue_date = start + datetime.timedelta(days=i * span // n)
        age = (today - issue_date).days
        client = client_rows[bisect.bisect_left(weights, rng.random() * total_weight)]
        n_lines = min(20, 1 + int(rng.expovariate(1 / 2.5)))
        lines = []
        for position in range(n_lines):
            service = rng.choice(services)
            discount = D("10") if rng.random() < 0.05 else D("0")
            lines.append(
                (
                    service,
                    rng.choice(QUANTITIES),
                    service.price,
                    discount,
                    service.taxable,
                    position,
                )
            )
        kind, value = "", D("0")
        if rng.random() < 0.05:
            kind, value = "percent", D("5")
        figures = compute_invoice(
            lines=[
                LineInput(quantity=q, unit_price=p, discount_percent=d, taxable=t)
                for _s, q, p, d, t, _pos in lines
            ],
            currency=currency,
            taxes=taxes if client.basis == TaxBasis.DEFAULT else [],
            discount_kind=kind,
            discount_value=value,
        )
        total = figures.total

        draft = age < 45 and rng.random() < 0.1
        invoice_pk = invoice_table.next_id
        created = at(issue_date, rng.randint(0, 300))
        if draft:
            number = seq = None
            due_date = None
            status = InvoiceStatus.DRAFT
            paid = D("0.00")
            cancelled_at = None
            counts.drafts += 1
        else:
            sequence += 1
            seq, number = sequence, f"{prefix}{sequence:04d}"
            due_date = issue_date + terms
            cancelled = rng.random() < 0.02
            cancelled_at = at(issue_date + datetime.timedelta(days=3)) if cancelled else None
            event(
                Event.INVOICE_ISSUED,
                client,
                -total,
                issue_date,
                created,
                invoice_pk=invoice_pk,
                number=number,
            )
            paid = D("0.00")
            if cancelled:
                event(
                    Event.INVOICE_CANCELLED,
                    client,
                    total,
                    cancelled_at.date(),
                    cancelled_at,
                    invoice_pk=invoice_pk,
                    number=number,
                )
            else:
                paid = _payments(rng, pay, client, invoice_pk, number, total, issue_date, today)
            status = derive_status(
                _InvoiceFacts(
                    number=number,
                    cancelled_at=cancelled_at,
                    total=total,
                    amount_paid=paid,
                    due_date=due_date,
                ),
                today=today,
            )
        invoice_table.add(
            number,
            seq,
            client.pk,
            currency,
            None if draft else issue_date,
            due_date,
            status,
            "",
            settings.payment_terms_text,
            kind,
            value,
            figures.subtotal,
            figures.discount_total,
            figures.tax_total,
            total,
            paid,
            D("0.00"),  # amount credited: the benchmark's books hold no credit notes
            client.basis,
            None if draft else created,
            cancelled_at,
            cancelled_at.date() if cancelled_at else None,
            "Issued by mistake" if cancelled_at else "",
            created,
            created,
            *(
                [None, None, "", None, None, None, None]
                if draft
                else [
                    D(1),
                    issue_date,
                    "",
                    figures.subtotal,
                    figures.discount_total,
                    figures.tax_total,
                    total,
                ]
            ),
        )
        counts.statuses[status] += 1
        for (service, quantity, price, discount, taxable, position), amount in zip(
            lines, figures.line_amounts, strict=True
        ):
            line_table.add(
                invoice_pk,
                position,
                service.pk,
                service.name,
                quantity,
                service.unit,
                price,
                discount,
                taxable,
                None,
                amount,
            )
        for position, tax_figures in enumerate(figures.taxes, start=1):
            tax_table.add(
                invoice_pk,
                position,
                tax_figures.label,
                tax_figures.rate,
                tax_figures.number,
                tax_figures.base,
                tax_figures.amount,
                None if draft else tax_figures.amount,
            )

        if (i + 1) % batch == 0 or i + 1 == n:
            with transaction.atomic():
                for table in tables:
                    table.flush(cursor)
                counts.ledger_entries += accounting.post_in_bulk(events)
                events.clear()
            if progress:
                progress.show(i + 1)

    InvoiceNumberCounter.objects.update_or_create(
        name=COUNTER_NAME, defaults={"last_number": sequence}
    )
    counts.invoices = invoice_table.written
    counts.lines = line_table.written
    if progress:
        progress.end()


def _payments(rng, pay, client, invoice_pk, number, total, issue_date, today) -> Decimal:
    """Pay an issued invoice as clients do; returns its amount paid (confirmed payments, up
    to the total)."""
    age = (today - issue_date).days
    # The older the invoice, the likelier it is settled.
    if age > 120:
        outcome = rng.choices(["paid", "split", "over", "partial", "none"], [88, 6, 2, 2, 2])[0]
    elif age > 30:
        outcome = rng.choices(["paid", "split", "over", "partial", "none"], [55, 5, 1, 14, 25])[0]
    else:
        outcome = rng.choices(["paid", "partial", "none", "pending"], [25, 10, 60, 5])[0]

    def day(after: int) -> datetime.date:
        return min(issue_date + datetime.timedelta(days=after), today)

    if rng.random() < 0.01 and outcome in ("paid", "split"):
        # A bounced cheque first, then the real payment.
        pay(client, invoice_pk, number, total, day(5), status=PaymentStatus.REVERSED)

    if outcome == "paid":
        pay(client, invoice_pk, number, total, day(rng.randint(0, 40)))
        return total
    if outcome == "split":
        first = max(CENT, (total * D(rng.randint(20, 80)) / 100).quantize(CENT))
        if first >= total:
            pay(client, invoice_pk, number, total, day(10))
            return total
        pay(client, invoice_pk, number, first, day(10))
        pay(client, invoice_pk, number, total - first, day(40))
        return total
    if outcome == "over":
        # A client who paid too much: the rest is credit on their account.
        pay(client, invoice_pk, number, total + D(rng.randint(1, 100)), day(20), settles=total)
        return total
    if outcome == "partial":
        part = (total * D(rng.randint(10, 90)) / 100).quantize(CENT)
        if CENT <= part < total:
            pay(client, invoice_pk, number, part, day(15))
            return part
        return D("0.00")
    if outcome == "pending":
        pay(client, invoice_pk, number, total, day(2), status=PaymentStatus.PENDING)
    return D("0.00")


def report(counts: Counts, stream=sys.stdout) -> None:
    stream.write(
        f"Made {counts.clients:,} clients, {counts.services} services, {counts.invoices:,} "
        f"invoices ({counts.drafts:,} drafts) with {counts.lines:,} lines, "
        f"{counts.payments:,} payments and {counts.ledger_entries:,} ledger entries; "
        f"{counts.outstanding_spans:,} outstanding spans for the reports.\n"
    )
    shown = ", ".join(f"{status} {n:,}" for status, n in counts.statuses.items() if n)
    stream.write(f"Invoices by status: {shown}.\n")
