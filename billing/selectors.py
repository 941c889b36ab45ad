"""Reads of billing: the dashboard's figures, and what ties the ledger to invoices and
payments (available credit, SPEC.md's invariant).

Amounts of different currencies are never added together: every figure is one aggregate
query grouped by currency. Only their base-currency figures, stored when each document was
issued and each payment made, are added across currencies (SPEC: Currencies and exchange
rates): ``open_in_base``, ``collected_in_base``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import (
    Case,
    Count,
    DecimalField,
    Exists,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from billing.money import CENT, ZERO, round_money
from ledger.events import manual_kinds
from ledger.models import Account, LedgerEntry
from ledger.selectors import client_balance, collections, stored_balance, sum_amounts

from .models import (
    BALANCE_DUE,
    Client,
    ClientContact,
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
    # The same in the base currency, from the stored base figures (``open_in_base``,
    # ``total_in_base``, ``collected_in_base``); ``without_rate``: the documents and
    # payments among them that have none (from before rates were kept), and
    # ``refunds_without_base`` the refunds in this currency (refunds keep no base figure),
    # each left out of these.
    outstanding_in_base: Decimal = ZERO
    overdue_in_base: Decimal = ZERO
    invoiced_in_base: Decimal = ZERO
    credited_in_base: Decimal = ZERO
    collected_in_base: Decimal = ZERO
    without_rate: int = 0
    refunds_without_base: int = 0


@dataclass
class BaseTotals:
    """Every currency's figures added in the base currency: the sums of their ``*_in_base``."""

    currency: str
    outstanding: Decimal = ZERO
    overdue: Decimal = ZERO
    overdue_count: int = 0
    invoiced_this_month: Decimal = ZERO
    credited_this_month: Decimal = ZERO
    collected_this_month: Decimal = ZERO
    without_rate: int = 0
    refunds_without_base: int = 0


@dataclass
class DashboardFigures:
    today: datetime.date
    month_start: datetime.date
    per_currency: list[CurrencyFigures] = field(default_factory=list)
    in_base: BaseTotals | None = None


def open_in_base(
    *,
    balance: Decimal,
    total: Decimal,
    total_in_base: Decimal | None,
    currency: str,
    base_currency: str,
) -> Decimal | None:
    """What is open on an invoice, in the base currency at the rate it froze when issued
    (SPEC: Currencies and exchange rates; reports add stored figures, nothing is converted
    again): its base total's share, ``balance × total_in_base / total``, rounded half up to
    the base currency's minor unit, once per invoice. All of it open is exactly its
    ``total_in_base``; in the base currency it is the balance itself. None for an invoice
    without stored base figures (issued before rates were kept: ``check_rates --fill``).
    No rate is read, of that day or any other."""
    if currency == base_currency:
        return balance
    if total_in_base is None:
        return None
    # All of it open; or a past balance of an invoice changed to nothing since (no share of
    # nothing to take).
    if balance == total or not total:
        return total_in_base
    return round_money(balance * total_in_base / total, base_currency)


def collected_in_base(base_currency: str) -> Case:
    """A collected ledger entry (``ledger.selectors.collections``) in the base currency,
    from stored figures: in the base currency its amount; a payment's entry its payment's
    ``amount_in_base`` (at the payment's own rate), with the entry's sign (a reversal takes
    it back). Empty (NULL) for a payment without a rate (``collected_without_rate``) and
    for a refund in another currency, which keeps no base figure (``refunds_without_base``)."""
    return Case(
        When(currency=base_currency, then=F("amount")),
        When(payment__isnull=False, amount__gte=0, then=F("payment__amount_in_base")),
        When(payment__isnull=False, then=Value(ZERO) - F("payment__amount_in_base")),
        default=Value(None),
        output_field=_AMOUNT,
    )


def collected_without_rate(base_currency: str) -> Q:
    """The collected entries of foreign payments kept without a rate."""
    return (
        ~Q(currency=base_currency)
        & Q(payment__isnull=False)
        & Q(payment__amount_in_base__isnull=True)
    )


def refunds_without_base(base_currency: str) -> Q:
    """The collected entries of refunds in another currency: no base figure is kept."""
    return ~Q(currency=base_currency) & Q(refund__isnull=False)


def dashboard_figures(*, today: datetime.date, default_currency: str) -> DashboardFigures:
    """What is owed, overdue, invoiced (net of credit notes) and collected this month,
    per currency, the business's default (base) currency first, always shown; and each in
    the base currency from the stored base figures (``open_in_base``, ``total_in_base``,
    ``collected_in_base``), with their sum over every currency (``in_base``)."""
    base = default_currency
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
    # The open invoices in other currencies one by one: their base figures are rounded per
    # invoice (``open_in_base``), which a sum in SQL (binary floats on SQLite) cannot do.
    open_in_base_figures: dict[str, dict[str, Decimal | int]] = {}
    foreign_open = (
        Invoice.objects.open()
        .exclude(currency=base)
        .annotate(due=due, is_late=Case(When(late, then=Value(True)), default=Value(False)))
        .values_list("currency", "due", "total", "total_in_base", "is_late")
    )
    if not set(open_figures) - {base}:
        foreign_open = foreign_open.none()  # nothing open in another currency: no query
    for currency, balance, total, total_in_base, is_late in foreign_open:
        found = open_in_base_figures.setdefault(
            currency, {"outstanding": ZERO, "overdue": ZERO, "without_rate": 0}
        )
        value = open_in_base(
            balance=_amount(balance),
            total=total,
            total_in_base=total_in_base,
            currency=currency,
            base_currency=base,
        )
        if value is None:
            found["without_rate"] += 1
            continue
        found["outstanding"] += value
        if is_late:
            found["overdue"] += value
    # SPEC: Credit notes count in the period of their own issue date, and a cancellation in
    # the period it was made, as negatives, as in the revenue report: an invoice issued this
    # month counts even if it was cancelled since. The invoices', the credit notes' and the
    # cancellations' totals in one query (UNION ALL), each read from an index of its table.
    month: dict[str, dict[str, dict]] = {"invoice": {}, "credit_note": {}, "cancellation": {}}
    this_month = Q(issue_date__gte=month_start, issue_date__lt=next_month)
    without = Count("id", filter=Q(total_in_base__isnull=True))

    def per_currency(documents: QuerySet, kind: str) -> QuerySet:
        return (
            documents.values("currency")
            .annotate(
                amount=Sum("total"),
                in_base=Sum("total_in_base"),
                without_rate=without,
                kind=Value(kind),
            )
            .order_by()
        )

    documents = per_currency(Invoice.objects.issued().filter(this_month), "invoice").union(
        per_currency(
            CreditNote.objects.filter(this_month, status=CreditNoteStatus.ISSUED), "credit_note"
        ),
        per_currency(
            Invoice.objects.filter(cancelled_on__gte=month_start, cancelled_on__lt=next_month),
            "cancellation",
        ),
        all=True,
    )
    for row in documents:
        month[row["kind"]][row["currency"]] = {
            "amount": _amount(row["amount"]),
            "in_base": _amount(row["in_base"]),
            "without_rate": row["without_rate"],
        }
    invoiced, credited, cancelled = month["invoice"], month["credit_note"], month["cancellation"]
    # "Collected" as ``ledger.selectors.collections`` says it, with its base figure.
    collected = _per_currency(
        collections(start=month_start, end=next_month - datetime.timedelta(1)),
        "currency",
        # Not "amount": collected_in_base reads the entries' own.
        collected=Sum("amount"),
        in_base=Sum(collected_in_base(base)),
        without_rate=Count("id", filter=collected_without_rate(base)),
        refunds_without_base=Count("id", filter=refunds_without_base(base)),
    )
    currencies = {
        default_currency,
        *open_figures,
        *invoiced,
        *credited,
        *cancelled,
        *collected,
    }
    figures = DashboardFigures(today=today, month_start=month_start)
    nothing: dict[str, Any] = {}
    for currency in sorted(currencies, key=lambda c: (c != default_currency, c)):
        opened = open_figures.get(currency, nothing)
        invoiced_here = invoiced.get(currency, nothing)
        credited_here = credited.get(currency, nothing)
        cancelled_here = cancelled.get(currency, nothing)
        collected_here = collected.get(currency, nothing)
        row = CurrencyFigures(
            currency=currency,
            outstanding=_amount(opened.get("amount")),
            overdue=_amount(opened.get("overdue")),
            overdue_count=opened.get("overdue_count", 0),
            invoiced_this_month=invoiced_here.get("amount", ZERO)
            - credited_here.get("amount", ZERO)
            - cancelled_here.get("amount", ZERO),
            credited_this_month=ZERO - credited_here.get("amount", ZERO),  # never -0.00
            collected_this_month=_amount(collected_here.get("collected")),
            invoiced_in_base=invoiced_here.get("in_base", ZERO)
            - credited_here.get("in_base", ZERO)
            - cancelled_here.get("in_base", ZERO),
            credited_in_base=ZERO - credited_here.get("in_base", ZERO),
            collected_in_base=_amount(collected_here.get("in_base")),
            without_rate=invoiced_here.get("without_rate", 0)
            + credited_here.get("without_rate", 0)
            + cancelled_here.get("without_rate", 0)
            + collected_here.get("without_rate", 0),
            refunds_without_base=collected_here.get("refunds_without_base", 0),
        )
        if currency == base:
            row.outstanding_in_base, row.overdue_in_base = row.outstanding, row.overdue
        else:
            foreign = open_in_base_figures.get(currency, nothing)
            row.outstanding_in_base = foreign.get("outstanding", ZERO)
            row.overdue_in_base = foreign.get("overdue", ZERO)
            row.without_rate += foreign.get("without_rate", 0)
        figures.per_currency.append(row)
    figures.in_base = BaseTotals(
        currency=base,
        outstanding=sum((row.outstanding_in_base for row in figures.per_currency), ZERO),
        overdue=sum((row.overdue_in_base for row in figures.per_currency), ZERO),
        overdue_count=sum(row.overdue_count for row in figures.per_currency),
        invoiced_this_month=sum((row.invoiced_in_base for row in figures.per_currency), ZERO),
        credited_this_month=sum((row.credited_in_base for row in figures.per_currency), ZERO),
        collected_this_month=sum((row.collected_in_base for row in figures.per_currency), ZERO),
        without_rate=sum(row.without_rate for row in figures.per_currency),
        refunds_without_base=sum(row.refunds_without_base for row in figures.per_currency),
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


def with_viewed_at(invoices: QuerySet[Invoice]) -> QuerySet[Invoice]:
    """Annotate ``viewed_at``: when a document link of the invoice was last opened (None:
    never, or never sent with one). One subquery per shown row, served by the links'
    invoice index, so a page of the list costs the same queries however many rows. It goes
    through the invoice's reverse relation ``links`` (links.DocumentLink): links sits above
    billing, which never imports it."""
    latest = (
        Invoice.objects.filter(pk=OuterRef("pk"))
        .values("pk")
        .annotate(latest=Max("links__last_viewed_at"))
        .values("latest")
    )
    return invoices.annotate(viewed_at=Subquery(latest))


def latest_payments(*, limit: int = LATEST_COUNT):
    return list(
        Payment.objects.prefetch_related("client", "invoice").order_by("-date", "-id")[:limit]
    )


def open_balance_due(client: Client, currency: str | None = None) -> Decimal:
    currency = currency or client.default_currency
    return sum_amounts(_open_invoices(client).filter(currency=currency), BALANCE_DUE)


def _open_invoices(client: Any) -> QuerySet:
    return Invoice.objects.filter(client=client).issued().exclude(status=InvoiceStatus.CANCELLED)


def available_credit(client: Client, currency: str | None = None) -> Decimal:
    """SPEC: available credit = ledger balance + balance due over issued, non-cancelled
    invoices, in one currency (by default the client's own): what a "client credit"
    payment in that currency may still draw; credit never crosses currencies.
    (``with_credit`` is the same rule for a list of clients, in their own currencies.)"""
    currency = currency or client.default_currency
    return stored_balance(client, currency) + open_balance_due(client, currency)


def client_currencies(client: Client) -> list[str]:
    """The currencies a client has an account in, its own first: one balance, credit and
    statement each."""
    held = set(Account.objects.filter(client_id=client.pk).values_list("currency", flat=True))
    return [client.default_currency, *sorted(held - {client.default_currency})]


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


def expected_balance(client: Client, currency: str | None = None) -> Decimal:
    """The balance in ``currency`` (by default the client's own) as invoices, credit notes,
    payments and refunds say it should be, computed without the ledger (SPEC: Client
    ledger and Credit notes, the invariant, which holds per currency)."""
    mine = {"client": client, "currency": currency or client.default_currency}
    payments = sum_amounts(
        Payment.objects.filter(**mine, status=PaymentStatus.CONFIRMED, method__in=money_methods())
    )
    manual = sum_amounts(LedgerEntry.objects.filter(**mine, kind__in=manual_kinds()))
    invoiced = sum_amounts(_open_invoices(client).filter(currency=mine["currency"]), "total")
    credited = sum_amounts(
        CreditNote.objects.filter(**mine, status=CreditNoteStatus.ISSUED), "total"
    )
    refunded = sum_amounts(Refund.objects.filter(**mine).counting())
    return payments - refunded + manual - invoiced + credited


def clients_breaking_invariant() -> list[Client]:
    """Clients whose ledger balance in a currency differs from what invoices and payments
    in it say, or from the balance stored on their account: should always be empty. Used
    by ``manage.py check_ledger`` and the tests."""
    broken = []
    for client in Client.objects.all():
        for currency in client_currencies(client):
            balance = client_balance(client, currency)
            if balance != expected_balance(client, currency) or balance != stored_balance(
                client, currency
            ):
                broken.append(client)
                break
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
    """``with_balance``, and ``available_credit`` as ``available_credit`` says it: both in
    each client's own currency (an invoice in another one is another account's)."""
    due = (
        _open_invoices(OuterRef("pk"))
        .filter(currency=OuterRef("default_currency"))
        .order_by()
        .values("client")
        .annotate(s=Sum(BALANCE_DUE, output_field=_AMOUNT))
        .values("s")
    )
    return with_balance(clients).annotate(
        available_credit=F("balance")
        + Coalesce(Subquery(due, output_field=_AMOUNT), Value(ZERO), output_field=_AMOUNT)
    )


# --- Addresses on file ---------------------------------------------------------------------
def addresses_on_file(client: Client) -> list[str]:
    """The client's addresses: its own e-mail, then each other contact's, without blanks and
    each once in any case (an address is compared without regard to case)."""
    addresses: dict[str, str] = {}
    for address in [client.email, *(contact.email for contact in client.contacts.all())]:
        address = address.strip()
        if address:
            addresses.setdefault(address.lower(), address)
    return list(addresses.values())


def clients_for_address(email: str) -> QuerySet[Client]:
    """The active clients that have ``email`` on file, as their own e-mail or as one of
    their other contacts', in any case, by name; none for a blank or malformed address.

    The one rule of who may sign in to a client's portal (SPEC: Client portal): an
    inactive client has no address on file. Each client once: the contacts are an EXISTS,
    not a join, so the answer needs no DISTINCT and can be filtered further."""
    address = (email or "").strip()
    try:
        validate_email(address)
    except ValidationError:
        return Client.objects.none()
    # iexact escapes LIKE's wildcards: "a_b@x.example" never matches "axb@x.example".
    contact = ClientContact.objects.filter(client=OuterRef("pk"), email__iexact=address)
    return Client.objects.filter(
        Q(email__iexact=address) | Exists(contact), is_active=True
    ).order_by("name", "code")


def has_address_on_file(client: Client, email: str) -> bool:
    """Whether ``email`` is on file for ``client``: the rule of ``clients_for_address``, so
    never for an inactive client."""
    return clients_for_address(email).filter(pk=client.pk).exists()
