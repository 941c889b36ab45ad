"""What the pages of a document link read: the documents a live link opens (never a
draft), and a statement as the books stand now."""

from __future__ import annotations

import datetime

from billing import pdf
from billing.models import CreditNote, Invoice, Payment, PaymentStatus
from billing.selectors import client_currencies
from ledger.models import LedgerEntry
from links.models import DocumentLink
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
