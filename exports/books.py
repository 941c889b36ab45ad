"""The books of a date range, as every export reads them (SPEC: Exports and imports).

Each export format is a writer over what this module reads: the documents (invoices
issued, credit notes issued, cancellations made) with their stored figures and each line's
shares of them, the movements of money on the clients' accounts (payments, reversals,
refunds, manual credits and debits, from their ledger entries), the realised exchange
differences, and what each client owed when the range starts. Nothing here is computed
again from rates or quantities: the figures are the stored ones; only a line's share of a
document's discount, taxes and base figures is worked out, by largest remainder
(``billing.money.allocate``), so the shares add up to the document's figures exactly.

The same books and range always read the same: every query has a total order, ids are
never shown (they differ between databases), and the business's settings give the account
names. Everything is read in chunks, so an export of years of books streams in bounded
memory.

The rules the reports share (SPEC: a cancellation counts in the period it was made, as a
negative; a changed invoice counts at its issue date with its figures as they are now):
``Document.sign`` is −1 for a credit note and a cancellation.
"""

from __future__ import annotations

import datetime
import heapq
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeVar

from django.db.models import F, Field, Model, Q, QuerySet, Sum

from billing.models import (
    Client,
    CreditNote,
    CreditNoteLine,
    CreditNoteStatus,
    CreditNoteTax,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    InvoiceTax,
    Payment,
    Refund,
    Service,
)
from billing.money import allocate
from ledger.events import EntryKind, collected_kinds
from ledger.models import LedgerEntry
from settings_app.models import BusinessSettings
from settings_app.selectors import get_business_settings

_T = TypeVar("_T")
CENTS = Decimal("0.01")
ZERO = Decimal("0.00")
CHUNK = 500
# What the documents read of their invoice and client: the rest (times, who did what,
# terms) is never exported, and each column left out is one less to convert per row.
INVOICE_FIELDS = (
    "number",
    "sequence",
    "issue_date",
    "due_date",
    "cancelled_on",
    "client",
    "status",
    "currency",
    "subtotal",
    "discount_total",
    "tax_total",
    "total",
    "exchange_rate",
    "subtotal_in_base",
    "discount_in_base",
    "tax_in_base",
    "total_in_base",
    "notes",
    "cancel_reason",
)
# What is read of a document's lines and taxes (``_by_document``).
LINE_FIELDS = (
    "description",
    "quantity",
    "unit",
    "unit_price",
    "discount_percent",
    "taxable",
    "taxes",
    "amount",
    "export_service_code",
)
TAX_FIELDS = ("label", "rate", "number", "base", "amount", "amount_in_base")
CLIENT_FIELDS = ("code", "name", "email", "address", "country", "tax_number")
# Foreign keys of a chunk's rows read after it: (path, the query they are read from).
Related = Sequence[tuple[str, QuerySet[Any]]]

# The kinds of document, in the order they are written on one day.
INVOICE, CREDIT_NOTE, CANCELLATION = "invoice", "credit_note", "cancellation"
DOCUMENT_ORDER = {INVOICE: 0, CREDIT_NOTE: 1, CANCELLATION: 2}

# The ledger entries that are movements of money or manual entries: the documents'
# entries (issued, changed, cancelled, credit note) are written from the documents.
MOVEMENT_KINDS = (
    EntryKind.PAYMENT_CONFIRMED,
    EntryKind.PAYMENT_REVERSED,
    EntryKind.REFUND_PAID,
    EntryKind.REFUND_REVERSED,
    EntryKind.MANUAL_CREDIT,
    EntryKind.MANUAL_DEBIT,
    EntryKind.IMPORTED_BALANCE,
)
# What a movement's receivable moves against (``Movement.other_side``).
MONEY, OPENING, ADJUSTMENT = "money", "opening", "adjustment"
# Entries that stand for a document, whose figures the export takes from the document.
DOCUMENT_KINDS = (EntryKind.INVOICE_ISSUED, EntryKind.INVOICE_CHANGED)


@dataclass(frozen=True)
class Accounts:
    """The account names of the settings (``settings_app.models``, "Accounting exports")."""

    receivable: str
    income: str
    tax: str
    money_received: str
    adjustments: str
    exchange: str
    conversion: str
    opening: str
    xero_account_code: str

    @classmethod
    def of(cls, settings: BusinessSettings) -> Accounts:
        return cls(
            receivable=settings.account_receivable,
            income=settings.account_income,
            tax=settings.account_tax,
            money_received=settings.account_money_received,
            adjustments=settings.account_adjustments,
            exchange=settings.account_exchange,
            conversion=settings.account_conversion,
            opening=settings.account_opening,
            xero_account_code=settings.xero_account_code,
        )

    def client(self, code: str) -> str:
        """A client's receivable: ``assets:receivable:ACME``."""
        return f"{self.receivable}:{code}"

    def tax_account(self, label: str) -> str:
        """A tax's account: ``liabilities:tax:gst`` (the label in lower case, each run of
        what an account name cannot hold made a "-")."""
        return f"{self.tax}:{account_part(label)}"


def account_part(text: str) -> str:
    """``text`` as one part of an account name: lower case, every run of characters other
    than letters and digits made one "-"."""
    parts, word = [], []
    for character in text.lower():
        if character.isalnum():
            word.append(character)
        elif word:
            parts.append("".join(word))
            word = []
    if word:
        parts.append("".join(word))
    return "-".join(parts) or "tax"


@dataclass(frozen=True)
class ClientRow:
    code: str
    name: str
    contact_person: str
    email: str
    phone: str
    address: str
    country: str
    tax_number: str
    tax_exempt: bool
    default_currency: str
    taxes: str
    """"default" (the business's set), or the labels of its own set joined by ", "
    (empty: its own set is empty)."""
    is_active: bool


@dataclass(frozen=True)
class ServiceRow:
    code: str
    name: str
    description: str
    unit: str
    unit_price: Decimal
    taxable: bool
    taxes: str
    """The labels of the taxes it names, joined by ", " (empty: the client's set)."""
    is_active: bool


@dataclass(frozen=True)
class TaxFigure:
    """One tax of a document, as stored (positive on every kind of document)."""

    label: str
    rate: Decimal
    number: str
    base: Decimal
    amount: Decimal
    amount_in_base: Decimal | None


@dataclass(frozen=True)
class LineFigure:
    """One line of a document, as stored, with its shares of the document's figures."""

    position: int
    """1, 2, … in the document's order."""
    service_code: str
    """Empty: no service."""
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    discount_percent: Decimal
    amount: Decimal
    """quantity × unit price less the line's discount, as stored."""
    taxes: tuple[str, ...]
    """The labels of the document's taxes the line carries."""
    discount_share: Decimal
    """Its share of the document's discount (by largest remainder over the line amounts)."""
    tax_shares: tuple[Decimal, ...]
    """Its share of each tax of ``taxes``, in that order (each tax's amount by largest
    remainder over the amounts of the lines carrying it)."""
    amount_in_base: Decimal | None
    """Its share of the document's base subtotal (None: the document has no rate)."""
    discount_share_in_base: Decimal | None
    tax_shares_in_base: tuple[Decimal, ...] | None

    @property
    def net(self) -> Decimal:
        """What the line is sold for: its amount less its share of the discount."""
        return self.amount - self.discount_share

    @property
    def priced_exactly(self) -> bool:
        """Its quantity × unit price, rounded half up to the cent, is its net: a file that
        gives both shows figures that agree (a discount makes the net less)."""
        return (self.quantity * self.unit_price).quantize(CENTS, ROUND_HALF_UP) == self.net

    @property
    def tax_amount(self) -> Decimal:
        return sum(self.tax_shares, ZERO)

    @property
    def net_in_base(self) -> Decimal | None:
        if self.amount_in_base is None or self.discount_share_in_base is None:
            return None
        return self.amount_in_base - self.discount_share_in_base

    @property
    def tax_amount_in_base(self) -> Decimal | None:
        if self.tax_shares_in_base is None:
            return None
        return sum(self.tax_shares_in_base, ZERO)


@dataclass(frozen=True)
class Document:
    """An invoice issued, a credit note issued or a cancellation made in the range.

    The figures are the document's stored ones, positive; ``sign`` says how it counts
    (+1 an invoice, −1 a credit note or a cancellation). A cancellation is its invoice's
    figures again, on the day it was made."""

    kind: str
    number: str
    """The invoice's number; a credit note's own. A cancellation has its invoice's."""
    invoice_number: str
    """The invoice it is or credits or cancels."""
    date: datetime.date
    """Issue date; a cancellation: the day it was made."""
    due_date: datetime.date | None
    """An invoice's (and its cancellation's); None for a credit note."""
    client_code: str
    client_name: str
    client_email: str
    client_address: str
    client_country: str
    client_tax_number: str
    currency: str
    subtotal: Decimal
    discount: Decimal
    tax: Decimal
    total: Decimal
    exchange_rate: Decimal | None
    subtotal_in_base: Decimal | None
    discount_in_base: Decimal | None
    tax_in_base: Decimal | None
    total_in_base: Decimal | None
    taxes: tuple[TaxFigure, ...]
    lines: tuple[LineFigure, ...]
    status: str
    """The invoice's status now (an invoice, a cancellation); "issued" for a credit note."""
    note: str
    """A credit note's reason; a cancellation's reason; an invoice's notes."""
    sequence: int = field(default=0, compare=False)

    @property
    def sign(self) -> int:
        return 1 if self.kind == INVOICE else -1

    @property
    def income(self) -> Decimal:
        """subtotal − discount: what it sells, net of tax (positive)."""
        return self.subtotal - self.discount

    @property
    def income_in_base(self) -> Decimal | None:
        if self.subtotal_in_base is None or self.discount_in_base is None:
            return None
        return self.subtotal_in_base - self.discount_in_base


@dataclass(frozen=True)
class Movement:
    """A payment received or reversed, a refund paid or reversed, a manual credit or debit,
    or an opening balance: one ledger entry of those kinds in the range."""

    kind: str
    """The ledger entry's kind (``ledger.events.EntryKind``)."""
    date: datetime.date
    client_code: str
    client_name: str
    currency: str
    amount: Decimal
    """Signed as on the ledger: positive in the client's favour (a payment received, a
    manual credit, a refund reversed), negative against it."""
    method: str
    """The payment's or refund's method (its stored value; empty for a manual entry)."""
    method_label: str
    reference: str
    invoice_number: str
    """The invoice a payment was for (empty: on account, a refund, a manual entry)."""
    memo: str
    """The ledger entry's memo."""
    amount_in_base: Decimal | None
    """The payment's or refund's amount in the base currency, signed like ``amount``."""

    @property
    def other_side(self) -> str:
        """What the receivable moves against, as every format books it: MONEY (a payment or
        a refund, received or given back), OPENING (a balance brought in by an import: what
        the client owed when its books came here) or ADJUSTMENT (a manual credit or
        debit)."""
        if self.kind in collected_kinds():
            return MONEY
        if self.kind == EntryKind.IMPORTED_BALANCE:
            return OPENING
        return ADJUSTMENT


@dataclass(frozen=True)
class PaymentRow:
    """A payment dated in the range, whatever became of it (payments.csv)."""

    date: datetime.date
    client_code: str
    client_name: str
    invoice_number: str
    currency: str
    amount: Decimal
    method: str
    method_label: str
    reference: str
    status: str
    confirmed_on: datetime.date | None
    reversed_on: datetime.date | None
    reversal_reason: str
    exchange_rate: Decimal | None
    amount_in_base: Decimal | None
    settled_in_base: Decimal | None
    exchange_difference: Decimal | None


@dataclass(frozen=True)
class ExchangeDifference:
    """The realised exchange gain (> 0) or loss (< 0) of a payment confirmed and dated in
    the range, in the base currency: what ``reports.selectors.exchange_gains`` counts."""

    date: datetime.date
    client_code: str
    client_name: str
    invoice_number: str
    currency: str
    amount: Decimal
    """The payment's amount, in its own currency."""
    reference: str
    difference: Decimal


@dataclass(frozen=True)
class LedgerRow:
    """A ledger entry dated in the range (ledger_entries.csv)."""

    date: datetime.date
    client_code: str
    kind: str
    kind_label: str
    currency: str
    amount: Decimal
    memo: str
    document_number: str
    """The invoice's or the credit note's number, if the entry has one."""


@dataclass(frozen=True)
class Opening:
    """What a client owed (positive) or had in credit (negative) in a currency at the end
    of the day before the range, as the exports count it (a changed invoice at its figures
    now, from its issue date)."""

    client_code: str
    client_name: str
    currency: str
    receivable: Decimal


@dataclass
class Books:
    """The books of ``start``…``end`` (both included), read as each writer asks."""

    start: datetime.date
    end: datetime.date
    base_currency: str
    business_name: str
    accounts: Accounts
    progress: Callable[[int], None] | None = None
    """Told of each document and movement read (a progress bar's step; ``count`` is
    how many there are)."""

    @classmethod
    def of(
        cls,
        start: datetime.date,
        end: datetime.date,
        *,
        progress: Callable[[int], None] | None = None,
    ) -> Books:
        settings = get_business_settings()
        return cls(
            start=start,
            end=end,
            base_currency=settings.default_currency,
            business_name=settings.business_name,
            accounts=Accounts.of(settings),
            progress=progress,
        )

    def _told(self, items: Iterator[_T]) -> Iterator[_T]:
        for item in items:
            yield item
            if self.progress is not None:
                self.progress(1)

    # --- What a progress bar counts ---------------------------------------------------
    def count(self) -> int:
        """How many documents and movements the range holds (for a progress bar)."""
        return (
            self._invoices().count()
            + self._credit_notes().count()
            + self._cancellations().count()
            + self._movements().count()
        )

    # --- Lists ------------------------------------------------------------------------
    def clients(self) -> Iterator[ClientRow]:
        """Every client, by code."""
        query = Client.objects.prefetch_related("taxes")
        for client in _chunked(query, ("code", "pk")):
            yield ClientRow(
                code=client.code,
                name=client.name,
                contact_person=client.contact_person,
                email=client.email,
                phone=client.phone,
                address=client.address,
                country=client.country,
                tax_number=client.tax_number,
                tax_exempt=client.tax_exempt,
                default_currency=client.default_currency,
                taxes="default"
                if client.uses_default_taxes
                else ", ".join(tax.label for tax in _in_order(client.taxes.all())),
                is_active=client.is_active,
            )

    def services(self) -> Iterator[ServiceRow]:
        """Every service, by code."""
        query = Service.objects.prefetch_related("taxes")
        for service in _chunked(query, ("code", "pk")):
            yield ServiceRow(
                code=service.code,
                name=service.name,
                description=service.description,
                unit=service.unit,
                unit_price=service.unit_price,
                taxable=service.taxable,
                taxes=", ".join(tax.label for tax in _in_order(service.taxes.all())),
                is_active=service.is_active,
            )

    # --- Documents --------------------------------------------------------------------
    def _invoices(self) -> QuerySet[Invoice]:
        return Invoice.objects.filter(issue_date__gte=self.start, issue_date__lte=self.end).exclude(
            status=InvoiceStatus.DRAFT
        )

    def _cancellations(self) -> QuerySet[Invoice]:
        return Invoice.objects.filter(cancelled_on__gte=self.start, cancelled_on__lte=self.end)

    def _credit_notes(self) -> QuerySet[CreditNote]:
        return CreditNote.objects.filter(
            issue_date__gte=self.start, issue_date__lte=self.end, status=CreditNoteStatus.ISSUED
        )

    def documents(self) -> Iterator[Document]:
        """Every invoice issued, credit note issued and cancellation made in the range, by
        date; on a day, invoices, then credit notes, then cancellations, each by number."""
        streams = [
            self._invoice_documents(self._invoices(), INVOICE),
            self._credit_note_documents(),
            self._invoice_documents(self._cancellations(), CANCELLATION),
        ]
        yield from self._told(
            heapq.merge(
                *streams,
                key=lambda document: (
                    document.date,
                    DOCUMENT_ORDER[document.kind],
                    document.sequence,
                ),
            )
        )

    def invoices(self) -> Iterator[Document]:
        """The invoices issued in the range, by issue date and number (cancelled ones too:
        their cancellations are documents of their own)."""
        return self._invoice_documents(self._invoices(), INVOICE)

    def _invoice_documents(self, query: QuerySet[Invoice], kind: str) -> Iterator[Document]:
        """``query``'s invoices by issue date (a cancellation: by the day it was made),
        then number."""
        day = "cancelled_on" if kind == CANCELLATION else "issue_date"
        query = query.only(*INVOICE_FIELDS)
        for invoices in _chunks(query, (day, "sequence"), [("client", _clients())]):
            ids = [invoice.pk for invoice in invoices]
            lines = _by_document(
                InvoiceLine.objects.filter(invoice_id__in=ids).annotate(
                    export_service_code=F("service__code")
                ),
                "invoice_id",
                LINE_FIELDS,
            )
            taxes = _by_document(
                InvoiceTax.objects.filter(invoice_id__in=ids), "invoice_id", TAX_FIELDS
            )
            for invoice in invoices:
                yield _document(
                    kind=kind,
                    number=invoice.number or "",
                    invoice_number=invoice.number or "",
                    date=invoice.cancelled_on if kind == CANCELLATION else invoice.issue_date,
                    due_date=invoice.due_date,
                    client=invoice.client,
                    figures=invoice,
                    taxes=taxes.get(invoice.pk, ()),
                    lines=lines.get(invoice.pk, ()),
                    status=invoice.status,
                    note=invoice.cancel_reason if kind == CANCELLATION else invoice.notes,
                    sequence=invoice.sequence or 0,
                    base_currency=self.base_currency,
                )

    def _credit_note_documents(self) -> Iterator[Document]:
        related = [("client", _clients()), ("invoice", _numbers(Invoice))]
        for credit_notes in _chunks(self._credit_notes(), ("issue_date", "sequence"), related):
            ids = [credit_note.pk for credit_note in credit_notes]
            lines = _by_document(
                CreditNoteLine.objects.filter(credit_note_id__in=ids).annotate(
                    export_service_code=F("invoice_line__service__code")
                ),
                "credit_note_id",
                LINE_FIELDS,
            )
            taxes = _by_document(
                CreditNoteTax.objects.filter(credit_note_id__in=ids), "credit_note_id", TAX_FIELDS
            )
            for credit_note in credit_notes:
                yield _document(
                    kind=CREDIT_NOTE,
                    number=credit_note.number or "",
                    invoice_number=credit_note.invoice.number or "",
                    date=credit_note.issue_date,
                    due_date=None,
                    client=credit_note.client,
                    figures=credit_note,
                    taxes=taxes.get(credit_note.pk, ()),
                    lines=lines.get(credit_note.pk, ()),
                    status="issued",
                    note=credit_note.reason,
                    sequence=credit_note.sequence or 0,
                    base_currency=self.base_currency,
                )

    # --- Money on the clients' accounts -------------------------------------------------
    def _movements(self) -> QuerySet[LedgerEntry]:
        return LedgerEntry.objects.filter(
            date__gte=self.start, date__lte=self.end, kind__in=MOVEMENT_KINDS
        )

    def movements(self) -> Iterator[Movement]:
        """Payments received and reversed, refunds paid and reversed, manual credits and
        debits, balances brought in by an import: their ledger entries in the range, by
        date and as recorded."""
        related = [
            ("client", _clients()),
            ("payment", Payment.objects.all()),
            ("payment__invoice", _numbers(Invoice)),
            ("refund", Refund.objects.all()),
        ]
        methods = {Payment: _labels(Payment, "method"), Refund: _labels(Refund, "method")}
        for entry in self._told(_chunked(self._movements(), ("date", "pk"), related)):
            money = entry.payment or entry.refund
            in_base = _movement_in_base(entry, self.base_currency)
            yield Movement(
                kind=entry.kind,
                date=entry.date,
                client_code=entry.client.code,
                client_name=entry.client.name,
                currency=entry.currency,
                amount=entry.amount,
                method=money.method if money is not None else "",
                method_label=(
                    methods[type(money)].get(money.method, money.method)
                    if money is not None
                    else ""
                ),
                reference=money.reference if money is not None else "",
                invoice_number=(
                    entry.payment.invoice.number or ""
                    if entry.payment is not None and entry.payment.invoice is not None
                    else ""
                ),
                memo=entry.memo,
                amount_in_base=in_base,
            )

    def payments(self) -> Iterator[PaymentRow]:
        """Every payment dated in the range, pending and reversed ones too, by date."""
        query = Payment.objects.filter(date__gte=self.start, date__lte=self.end)
        related = [("client", _clients()), ("invoice", _numbers(Invoice))]
        zone = _zone()
        methods = _labels(Payment, "method")
        for payment in _chunked(query, ("date", "pk"), related):
            yield PaymentRow(
                date=payment.date,
                client_code=payment.client.code,
                client_name=payment.client.name,
                invoice_number=payment.invoice.number or "" if payment.invoice else "",
                currency=payment.currency,
                amount=payment.amount,
                method=payment.method,
                method_label=methods.get(payment.method, payment.method),
                reference=payment.reference,
                status=payment.status,
                confirmed_on=_day(payment.confirmed_at, zone),
                reversed_on=_day(payment.reversed_at, zone),
                reversal_reason=payment.reversal_reason,
                exchange_rate=payment.exchange_rate,
                amount_in_base=payment.amount_in_base,
                settled_in_base=payment.settled_in_base,
                exchange_difference=payment.exchange_difference,
            )

    def exchange_differences(self) -> Iterator[ExchangeDifference]:
        """The realised exchange gains and losses of the range, as the report counts them."""
        from reports.selectors import exchange_gains

        query = exchange_gains(self.start, self.end, base_currency=self.base_currency).payments
        related = [("client", _clients()), ("invoice", _numbers(Invoice))]
        for payment in _chunked(query.select_related(None), ("date", "pk"), related):
            yield ExchangeDifference(
                date=payment.date,
                client_code=payment.client.code,
                client_name=payment.client.name,
                invoice_number=payment.invoice.number or "" if payment.invoice else "",
                currency=payment.currency,
                amount=payment.amount,
                reference=payment.reference,
                difference=payment.exchange_difference,
            )

    def ledger_entries(self) -> Iterator[LedgerRow]:
        """Every ledger entry dated in the range, by date and as recorded."""
        query = LedgerEntry.objects.filter(date__gte=self.start, date__lte=self.end).defer(
            "created_at", "created_by"
        )
        related = [
            ("client", _clients()),
            ("invoice", _numbers(Invoice)),
            ("credit_note", _numbers(CreditNote)),
        ]
        kinds = _labels(LedgerEntry, "kind")
        for entry in _chunked(query, ("date", "pk"), related):
            document = entry.credit_note or entry.invoice
            yield LedgerRow(
                date=entry.date,
                client_code=entry.client.code,
                kind=entry.kind,
                kind_label=kinds.get(entry.kind, entry.kind),
                currency=entry.currency,
                amount=entry.amount,
                memo=entry.memo,
                document_number=(document.number or "") if document is not None else "",
            )

    def openings(self) -> list[Opening]:
        """What each client owed per currency when the range starts, counted as the
        exports count: the invoices issued before it at their figures now, less those
        cancelled and credited before it, and every movement before it. A few grouped
        queries; only the accounts not at zero, by client code and currency."""
        owed: dict[tuple[int, str], Decimal] = {}

        def add(rows: Iterable[dict[str, Any]], key: str, sign: int) -> None:
            for row in rows:
                found = (row[key], row["currency"])
                # Rounded to the cent: SQLite adds decimals as floats (9555.95000000000).
                amount = (row["amount"] or ZERO).quantize(CENTS, ROUND_HALF_UP)
                owed[found] = owed.get(found, ZERO) + sign * amount

        before = self.start
        add(
            Invoice.objects.filter(issue_date__lt=before)
            .exclude(status=InvoiceStatus.DRAFT)
            .values("client_id", "currency")
            .annotate(amount=Sum("total"))
            .order_by(),
            "client_id",
            1,
        )
        add(
            Invoice.objects.filter(cancelled_on__lt=before)
            .values("client_id", "currency")
            .annotate(amount=Sum("total"))
            .order_by(),
            "client_id",
            -1,
        )
        add(
            CreditNote.objects.filter(issue_date__lt=before, status=CreditNoteStatus.ISSUED)
            .values("client_id", "currency")
            .annotate(amount=Sum("total"))
            .order_by(),
            "client_id",
            -1,
        )
        add(
            LedgerEntry.objects.filter(date__lt=before, kind__in=MOVEMENT_KINDS)
            .values("client_id", "currency")
            .annotate(amount=Sum("amount"))
            .order_by(),
            "client_id",
            -1,
        )
        names = {
            pk: (code, name)
            for pk, code, name in Client.objects.filter(
                pk__in={client_id for client_id, _currency in owed}
            ).values_list("pk", "code", "name")
        }
        openings = [
            Opening(
                client_code=names[client_id][0],
                client_name=names[client_id][1],
                currency=currency,
                receivable=amount,
            )
            for (client_id, currency), amount in owed.items()
            if amount
        ]
        return sorted(openings, key=lambda opening: (opening.client_code, opening.currency))

    def credit_notes(self) -> Iterator[Document]:
        """The credit notes issued in the range, by issue date and number."""
        return self._credit_note_documents()

    def cancelled_invoices(self) -> Iterator[tuple[str, datetime.date]]:
        """The number and the day of cancellation of each invoice issued in the range that
        is cancelled now (whenever it was), in the order of ``invoices()``: what a list of
        the invoices shows beside each."""
        query = (
            self._invoices()
            .filter(cancelled_on__isnull=False)
            .values("number", "cancelled_on", "issue_date", "sequence")
        )
        for row in _chunked(query, ("issue_date", "sequence")):
            assert row["cancelled_on"] is not None  # only the cancelled ones are read
            yield row["number"] or "", row["cancelled_on"]

    # --- What a file names before its transactions (QuickBooks' IIF lists) -----------
    def client_codes(self) -> list[str]:
        """The codes of the clients with a document or a movement in the range, sorted."""
        ids: set[int] = set()
        for query in (
            self._invoices(),
            self._credit_notes(),
            self._cancellations(),
            self._movements(),
        ):
            ids.update(query.order_by().values_list("client_id", flat=True).distinct())
        return sorted(Client.objects.filter(pk__in=ids).values_list("code", flat=True))

    def currencies(self) -> list[str]:
        """The base currency, then the other currencies of the range's documents and
        movements, sorted."""
        found: set[str] = set()
        for query in (
            self._invoices(),
            self._cancellations(),
            self._credit_notes(),
            self._movements(),
        ):
            found.update(query.order_by().values_list("currency", flat=True).distinct())
        return [self.base_currency, *sorted(found - {self.base_currency})]

    def tax_labels(self) -> list[str]:
        """The labels of the taxes on the documents of the range, sorted."""
        labels: set[str] = set()
        for query in (self._invoices(), self._cancellations(), self._credit_notes()):
            found = query.order_by().values_list("taxes__label", flat=True).distinct()
            labels.update(label for label in found if label is not None)  # None: no taxes
        return sorted(labels)


def _movement_in_base(entry: LedgerEntry, base_currency: str) -> Decimal | None:
    """A movement's amount in the base currency, signed as its entry: a payment's stored
    base amount; a refund's or a manual entry's own amount when in the base currency
    (neither keeps a rate in another)."""
    if entry.payment is not None:
        if entry.payment.amount_in_base is None:
            return None
        return entry.payment.amount_in_base if entry.amount >= 0 else -entry.payment.amount_in_base
    return entry.amount if entry.currency == base_currency else None


def _chunks(query: QuerySet, keys: Sequence[str], related: Related = ()) -> Iterator[list[Any]]:
    """The rows of ``query`` ordered by ``keys`` (fields never null that together tell
    every row apart: a total order), in lists of at most CHUNK with their prefetches:
    bounded memory on any range. Each list is a query of its own that starts after the
    last row read (no OFFSET to skip over): not ``QuerySet.iterator``, because MySQL's
    driver reads a query's whole result into memory before handing on its first row, and
    years of books would then be held at once. ``query`` reads one table, and each chunk's
    ``related`` rows are read after it (``_attach``): joined, MariaDB may read the rows in
    another order and sort all that are left for every chunk."""
    query = query.order_by(*keys)
    after: tuple[Any, ...] | None = None
    while True:
        rows = list((query if after is None else query.filter(_after(keys, after)))[:CHUNK])
        if rows:
            for path, found in related:
                _attach(rows, path, found)
            yield rows
        if len(rows) < CHUNK:
            return
        last = rows[-1]
        after = tuple(last[key] if isinstance(last, dict) else getattr(last, key) for key in keys)


def _chunked(query: QuerySet, keys: Sequence[str], related: Related = ()) -> Iterator[Any]:
    """The rows of ``query`` ordered by ``keys``, one by one (``_chunks``)."""
    for rows in _chunks(query, keys, related):
        yield from rows


def _attach(rows: Sequence[Any], path: str, query: QuerySet) -> None:
    """The rows a foreign key of ``rows`` points to (``path``: ``client``, or
    ``payment__invoice`` through rows attached before), read from ``query`` in one
    query and set on each row, as ``prefetch_related`` would but without its cost per
    row (Django 5.2 builds the lookup of every row's key as a tuple)."""
    *through, name = path.split("__")
    for step in through:
        rows = [found for row in rows if (found := getattr(row, step)) is not None]
    if not rows:
        return
    field = rows[0]._meta.get_field(name)
    ids = {getattr(row, field.attname) for row in rows} - {None}
    found = query.in_bulk(ids) if ids else {}
    for row in rows:
        field.set_cached_value(row, found.get(getattr(row, field.attname)))


def _clients() -> QuerySet[Client]:
    """The clients as a document or a movement shows them."""
    return Client.objects.only(*CLIENT_FIELDS)


def _numbers(model: type[Invoice] | type[CreditNote]) -> QuerySet[Any]:
    """Invoices or credit notes, only their numbers (what a row names them by)."""
    return model.objects.only("number")


def _after(keys: Sequence[str], values: Sequence[Any]) -> Q:
    """The rows after ``values`` in the order of ``keys``: (a, b) > (x, y) as
    a > x, or a = x and b > y."""
    found = Q()
    for index, key in enumerate(keys):
        equal = dict(zip(keys[:index], values[:index], strict=True))
        found |= Q(**equal, **{f"{key}__gt": values[index]})
    return found


def _by_document(query: QuerySet, document: str, fields: Sequence[str]) -> dict[int, list[Any]]:
    """The lines or taxes of a chunk's documents, each document's in its model's order
    (position, then id), by the document's id: one query for the chunk, where
    ``prefetch_related`` would also make a query set for every document. Each is a named
    tuple of ``fields``, cheaper to make than a model instance."""
    found: dict[int, list[Any]] = {}
    rows = query.order_by(document, "position", "pk").values_list(document, *fields, named=True)
    for row in rows:
        found.setdefault(getattr(row, document), []).append(row)
    return found


def _labels(model: type[Model], name: str) -> dict[str, str]:
    """The labels of a field's choices, in the active language: what ``get_FOO_display``
    gives, worked out once instead of for every row (it builds the table each time)."""
    field = model._meta.get_field(name)
    assert isinstance(field, Field)  # a column with choices, not a relation
    return {value: str(label) for value, label in field.flatchoices}


def _in_order(items: Iterable[Any]) -> list[Any]:
    """Prefetched rows in their model's order (position, then id; by label for taxes of
    a client or service)."""
    items = list(items)
    if items and hasattr(items[0], "position"):
        return sorted(items, key=lambda item: (item.position, item.pk))
    return sorted(items, key=lambda item: (getattr(item, "label", ""), item.pk))


def _zone():
    from settings_app.zone import business_zone

    return business_zone()


def _day(moment: datetime.datetime | None, zone) -> datetime.date | None:
    return moment.astimezone(zone).date() if moment is not None else None


def _document(
    *,
    kind: str,
    number: str,
    invoice_number: str,
    date: datetime.date | None,
    due_date: datetime.date | None,
    client: Client,
    figures: Any,
    taxes: Sequence[Any],
    lines: Sequence[Any],
    status: str,
    note: str,
    sequence: int,
    base_currency: str,
) -> Document:
    assert date is not None  # an issued document has its date
    tax_figures = tuple(
        TaxFigure(
            label=tax.label,
            rate=tax.rate,
            number=tax.number,
            base=tax.base,
            amount=tax.amount,
            amount_in_base=tax.amount_in_base,
        )
        for tax in taxes
    )
    return Document(
        kind=kind,
        number=number,
        invoice_number=invoice_number,
        date=date,
        due_date=due_date,
        client_code=client.code,
        client_name=client.name,
        client_email=client.email,
        client_address=client.address,
        client_country=client.country,
        client_tax_number=client.tax_number,
        currency=figures.currency,
        subtotal=figures.subtotal,
        discount=figures.discount_total,
        tax=figures.tax_total,
        total=figures.total,
        exchange_rate=figures.exchange_rate,
        subtotal_in_base=figures.subtotal_in_base,
        discount_in_base=figures.discount_in_base,
        tax_in_base=figures.tax_in_base,
        total_in_base=figures.total_in_base,
        taxes=tax_figures,
        lines=_line_figures(figures, lines, tax_figures, base_currency=base_currency),
        status=status,
        note=note,
        sequence=sequence,
    )


def _service_code(line: Any) -> str:
    """The code of the line's service (a credit note's line: its invoice line's), read
    with the line (``_by_document``); empty: none."""
    return line.export_service_code or ""


def _carried(line: Any, taxes: Sequence[TaxFigure]) -> tuple[str, ...]:
    """The labels of ``taxes`` the line carries (``billing.pdf.carried_taxes``' rule)."""
    if not line.taxable:
        return ()
    return tuple(tax.label for tax in taxes if line.taxes is None or tax.label in line.taxes)


def _line_figures(
    figures: Any, lines: Sequence[Any], taxes: Sequence[TaxFigure], *, base_currency: str
) -> tuple[LineFigure, ...]:
    """Each line with its shares: of the discount over the line amounts; of each tax over
    the amounts of the lines that carry it; of the base subtotal, base discount and each
    base tax likewise. Largest remainder: the shares add up to the document's figures."""
    currency = figures.currency
    amounts = [line.amount for line in lines]
    carried = [_carried(line, taxes) for line in lines]
    discount_shares = allocate(figures.discount_total, amounts, currency)

    def tax_shares(amount: Decimal, label: str, in_currency: str) -> list[Decimal]:
        weights = [
            line.amount if label in carries else ZERO
            for line, carries in zip(lines, carried, strict=True)
        ]
        return allocate(amount, weights, in_currency)

    per_tax = {tax.label: tax_shares(tax.amount, tax.label, currency) for tax in taxes}
    has_base = figures.subtotal_in_base is not None
    if has_base:
        base_amounts = allocate(figures.subtotal_in_base, amounts, base_currency)
        base_discounts = allocate(figures.discount_in_base, amounts, base_currency)
        per_tax_in_base = {
            tax.label: tax_shares(tax.amount_in_base or ZERO, tax.label, base_currency)
            for tax in taxes
        }
    found = []
    for index, line in enumerate(lines):
        found.append(
            LineFigure(
                position=index + 1,
                service_code=_service_code(line),
                description=line.description,
                quantity=line.quantity,
                unit=line.unit,
                unit_price=line.unit_price,
                discount_percent=line.discount_percent,
                amount=line.amount,
                taxes=carried[index],
                discount_share=discount_shares[index],
                tax_shares=tuple(per_tax[label][index] for label in carried[index]),
                amount_in_base=base_amounts[index] if has_base else None,
                discount_share_in_base=base_discounts[index] if has_base else None,
                tax_shares_in_base=(
                    tuple(per_tax_in_base[label][index] for label in carried[index])
                    if has_base
                    else None
                ),
            )
        )
    return tuple(found)
