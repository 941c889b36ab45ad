"""What the pages of a document link read: the documents a live link opens (never a
draft), and a statement as the books stand now; and what the signed-in client's portal
pages read, each scoped to that one client and never showing a draft."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet

from billing import pdf
from billing.models import (
    Client,
    CreditNote,
    CreditNoteStatus,
    Invoice,
    Payment,
    PaymentStatus,
)
from billing.selectors import available_credit, client_currencies, open_balance_due
from ledger.models import LedgerEntry
from ledger.selectors import stored_balance
from links.models import DocumentLink
from quotes import document as quote_document
from quotes.models import Quote, QuoteState, QuoteStatus
from quotes.selectors import shown_as, with_shown_state
from reports import selectors as reports


def invoice_of(link: DocumentLink) -> Invoice | None:
    """The issued invoice ``link`` opens, with what its document shows; None for a draft
    (no link to a draft can be issued; this holds it anyway)."""
    try:
        invoice = pdf.load_invoice(pk=link.invoice_id, with_payments=False)
    except Invoice.DoesNotExist:
        return None
    return None if invoice.is_draft else invoice


def credit_note_of(link: DocumentLink) -> CreditNote | None:
    """The issued credit note ``link`` opens; None for a draft."""
    try:
        note = pdf.load_credit_note(pk=link.credit_note_id)
    except CreditNote.DoesNotExist:
        return None
    return None if note.is_draft else note


def pending_payments(invoice: Invoice) -> list[Payment]:
    """The invoice's payments that wait for the business's confirmation, oldest first."""
    return list(invoice.payments.filter(status=PaymentStatus.PENDING).order_by("created_at", "pk"))


def statement_dates(
    link: DocumentLink, *, today: datetime.date
) -> tuple[datetime.date, datetime.date]:
    """The dates of a statement link: its own, or without an end up to today, without a
    start from the client's first entry."""
    end = link.statement_end or today
    start = link.statement_start
    if start is None:
        first = (
            LedgerEntry.objects.filter(client_id=link.client_id)
            .order_by("date")
            .values_list("date", flat=True)
            .first()
        )
        start = min(first, end) if first else end
    return start, end


def statement(
    link: DocumentLink, *, today: datetime.date, currency: str | None = None
) -> reports.Statement | None:
    """The client's statement for the link's dates as the books stand now (the office's
    figures, reports.selectors.statement), in ``currency`` (the client's own by default;
    None when the client keeps no account in it)."""
    client = link.client
    if currency and currency not in client_currencies(client):
        return None
    start, end = statement_dates(link, today=today)
    return reports.statement(client, start, end, currency=currency or client.default_currency)


def statement_aging(report: reports.Statement) -> reports.AgingRow | None:
    """The invoices open at the statement's end by how late they are, as the office's
    aging report has them for this client and currency; None when nothing is open."""
    aging = reports.aging(report.end, client=report.client)
    return next((row for row in aging.rows if row.currency == report.currency), None)


# --- The signed-in client's pages -----------------------------------------------------------
@dataclass(frozen=True)
class AccountFigures:
    """What a client owes and the credit it may still draw in one currency, as the office
    has them: the balance due on open invoices and the available credit
    (billing.selectors), and the account's balance as its statement ends (ledger: below
    zero the client owes)."""

    currency: str
    balance_due: Decimal
    credit: Decimal
    balance: Decimal

    @property
    def other_charges(self) -> Decimal:
        """What is owed beyond the open invoices (a charge on the account, such as a
        returned cheque's fee): the available credit below zero."""
        return max(-self.credit, Decimal(0))

    @property
    def shown_credit(self) -> Decimal:
        return max(self.credit, Decimal(0))

    @property
    def owing(self) -> Decimal:
        """The statement's "amount owing" (0 when the account is in the client's favour)."""
        return max(-self.balance, Decimal(0))


def accounts(client: Client) -> list[AccountFigures]:
    """The client's figures in each currency it has an account in, its own first."""
    return [
        AccountFigures(
            currency=currency,
            balance_due=open_balance_due(client, currency),
            credit=available_credit(client, currency),
            balance=stored_balance(client, currency),
        )
        for currency in client_currencies(client)
    ]


def issued_invoices(client: Client, *, today: datetime.date) -> QuerySet[Invoice]:
    """The client's issued invoices (never a draft) with the status each shows today,
    newest first."""
    return (
        Invoice.objects.filter(client=client)
        .issued()
        .with_shown_status(today=today)
        .order_by("-issue_date", "-sequence")
    )


def open_invoices(client: Client, *, today: datetime.date) -> QuerySet[Invoice]:
    """The client's invoices with something still due, the first due first."""
    return (
        Invoice.objects.filter(client=client)
        .open()
        .with_shown_status(today=today)
        .order_by("due_date", "sequence")
    )


def client_invoice(client: Client, number: str) -> Invoice | None:
    """The client's issued invoice numbered ``number``, with what its page shows; None for
    a number of another client's, a draft's (it has none) or none at all."""
    try:
        invoice = pdf.load_invoice(client=client, number=number, with_payments=False)
    except Invoice.DoesNotExist:
        return None
    return None if invoice.is_draft else invoice


def issued_credit_notes(client: Client) -> QuerySet[CreditNote]:
    """The client's issued credit notes, newest first, with the invoice each credits."""
    return (
        CreditNote.objects.filter(client=client, status=CreditNoteStatus.ISSUED)
        .select_related("invoice")
        .order_by("-issue_date", "-sequence")
    )


def client_credit_note(client: Client, number: str) -> CreditNote | None:
    """The client's issued credit note numbered ``number``; None otherwise."""
    try:
        note = pdf.load_credit_note(client=client, number=number)
    except CreditNote.DoesNotExist:
        return None
    return None if note.is_draft else note


def sent_quotes(client: Client, *, today: datetime.date) -> QuerySet[Quote]:
    """The client's quotes once sent (sent, expired, accepted, declined, withdrawn; never a
    draft) with the state each shows today, newest first."""
    return with_shown_state(
        Quote.objects.filter(client=client).exclude(status=QuoteStatus.DRAFT), today=today
    ).order_by("-issue_date", "-sequence")


def quotes_to_answer(client: Client, *, today: datetime.date) -> QuerySet[Quote]:
    """The client's quotes waiting for its answer (sent, not expired), the first to expire
    first."""
    quotes = Quote.objects.filter(client=client)
    return with_shown_state(shown_as(quotes, QuoteState.SENT, today=today), today=today).order_by(
        "valid_until", "sequence"
    )


def client_quote(client: Client, number: str) -> Quote | None:
    """The client's sent quote numbered ``number``, with what its page shows; None for
    another client's, a draft (it has no number) or none."""
    try:
        quote = quote_document.load_quote(client=client, number=number)
    except Quote.DoesNotExist:
        return None
    return None if quote.is_draft else quote


def client_payments(client: Client) -> QuerySet[Payment]:
    """Every payment of the client (waiting for confirmation, received, reversed), the
    latest first, with its invoice."""
    return Payment.objects.filter(client=client).select_related("invoice").order_by("-date", "-id")
