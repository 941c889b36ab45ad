"""The books as a zip of CSV files, one per kind of record, for an accountant's spreadsheet
(SPEC: Exports and imports).

Each file is UTF-8 with a byte order mark (so spreadsheets read it as UTF-8), CRLF line
ends, a header row of stable snake_case names, then one row per record. Amounts are plain
decimals as stored, dates ISO 8601, flags yes/no, nothing for "none"; text a spreadsheet
would run as a formula starts with "'" (``exports.writing.text``). No database ids. Each
member is dated the range's end, so the same books give the same bytes.

- ``clients.csv``, every client, by code: code, name, contact_person, email, phone,
  address, country, tax_number, tax_exempt, currency, taxes ("default": the business's
  set; else the labels of its own set, joined by ", "), active.
- ``services.csv``, every service, by code: code, name, description, unit, unit_price,
  taxable, taxes (the labels it names, ", "; empty: the client's set), active.
- ``invoices.csv``: kind, number, date, due_date, status, cancelled_on, client_code,
  client_name, client_tax_number, currency, subtotal, discount, net (subtotal − discount,
  net of tax), tax, total, exchange_rate, subtotal_in_base, discount_in_base, net_in_base,
  tax_in_base, total_in_base, reason. One row of kind ``invoice`` per invoice issued in the
  range, cancelled ones too (status as it is now, and the day it was cancelled), and one of
  kind ``cancellation`` per cancellation made in the range, dated that day, with its
  invoice's figures negated and the reason given. A cancellation counts in the period it
  was made, as a negative (SPEC), so it needs a row of its own: an invoice issued before
  the range and cancelled in it has no other, and so each amount column adds up to the
  period's figure the reports and the journal show.
- ``invoice_lines.csv``: kind, invoice_number, date, then the line columns: position,
  service_code, description, quantity, unit, unit_price, discount_percent, amount (as
  stored: quantity × unit price less the line's discount), discount_share (its share of
  the invoice discount), net (amount − discount_share), taxes (the labels of the taxes it
  carries, ", "), tax (its share of them), gross (net + tax), currency, amount_in_base,
  discount_share_in_base, net_in_base, tax_in_base, gross_in_base. One row per line of each
  row of invoices.csv (a cancellation's negated like its row). Shares are by largest
  remainder (``exports.books``): over an invoice's lines they add up to its discount, its
  tax and its base figures exactly.
- ``invoice_taxes.csv``: kind, document_number, invoice_number, date, label, rate,
  registration_number, base, amount, currency, amount_in_base. One row per tax of each
  invoice, cancellation and credit note of the range, signed as it counts (a credit note's
  and a cancellation's negative), so a sum by label is the tax report's figure.
- ``credit_notes.csv``: number, invoice_number, date, client_code, client_name,
  client_tax_number, currency, the figures as in invoices.csv, reason. Each credit note
  issued in the range with its figures as on the credit note, positive: they count against
  income and tax.
- ``credit_note_lines.csv``: credit_note_number, invoice_number, date, then the line
  columns of invoice_lines.csv, positive.
- ``payments.csv``: date, client_code, client_name, invoice_number, currency, amount,
  method, reference, status, confirmed_on, reversed_on, reversal_reason, exchange_rate,
  amount_in_base, settled_in_base, exchange_difference. Every payment dated in the range,
  whatever became of it.
- ``ledger_entries.csv``: date, client_code, kind, amount (signed as on the ledger: + in
  the client's favour), currency, memo, document_number. Every ledger entry dated in the
  range.

Statuses, methods and ledger kinds are their stored names (``paid``, ``e_transfer``,
``payment_confirmed``), never their translated labels: the same books give the same bytes
in any language.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from exports.books import (
    CANCELLATION,
    CREDIT_NOTE,
    MOVEMENT_KINDS,
    Books,
    Document,
    LineFigure,
)
from exports.writing import csv_chunks, zip_chunks

CLIENT_COLUMNS = (
    "code",
    "name",
    "contact_person",
    "email",
    "phone",
    "address",
    "country",
    "tax_number",
    "tax_exempt",
    "currency",
    "taxes",
    "active",
)
SERVICE_COLUMNS = (
    "code",
    "name",
    "description",
    "unit",
    "unit_price",
    "taxable",
    "taxes",
    "active",
)
FIGURE_COLUMNS = (
    "currency",
    "subtotal",
    "discount",
    "net",
    "tax",
    "total",
    "exchange_rate",
    "subtotal_in_base",
    "discount_in_base",
    "net_in_base",
    "tax_in_base",
    "total_in_base",
)
CLIENT_OF_DOCUMENT = ("client_code", "client_name", "client_tax_number")
INVOICE_COLUMNS = (
    "kind",
    "number",
    "date",
    "due_date",
    "status",
    "cancelled_on",
    *CLIENT_OF_DOCUMENT,
    *FIGURE_COLUMNS,
    "reason",
)
CREDIT_NOTE_COLUMNS = (
    "number",
    "invoice_number",
    "date",
    *CLIENT_OF_DOCUMENT,
    *FIGURE_COLUMNS,
    "reason",
)
LINE_COLUMNS = (
    "position",
    "service_code",
    "description",
    "quantity",
    "unit",
    "unit_price",
    "discount_percent",
    "amount",
    "discount_share",
    "net",
    "taxes",
    "tax",
    "gross",
    "currency",
    "amount_in_base",
    "discount_share_in_base",
    "net_in_base",
    "tax_in_base",
    "gross_in_base",
)
INVOICE_LINE_COLUMNS = ("kind", "invoice_number", "date", *LINE_COLUMNS)
CREDIT_NOTE_LINE_COLUMNS = ("credit_note_number", "invoice_number", "date", *LINE_COLUMNS)
TAX_COLUMNS = (
    "kind",
    "document_number",
    "invoice_number",
    "date",
    "label",
    "rate",
    "registration_number",
    "base",
    "amount",
    "currency",
    "amount_in_base",
)
PAYMENT_COLUMNS = (
    "date",
    "client_code",
    "client_name",
    "invoice_number",
    "currency",
    "amount",
    "method",
    "reference",
    "status",
    "confirmed_on",
    "reversed_on",
    "reversal_reason",
    "exchange_rate",
    "amount_in_base",
    "settled_in_base",
    "exchange_difference",
)
LEDGER_COLUMNS = (
    "date",
    "client_code",
    "kind",
    "amount",
    "currency",
    "memo",
    "document_number",
)

# A line's taxes in one cell, as clients.csv and services.csv join theirs.
LABEL_SEPARATOR = ", "


def write(books: Books) -> Iterator[bytes]:
    """The zip of ``books``, streamed as each file is written."""
    # The documents are read once per file; only one pass tells the progress bar, and the
    # movements it counts are told as ledger_entries.csv passes them.
    quiet = dataclasses.replace(books, progress=None)
    members = [
        ("clients.csv", _csv(CLIENT_COLUMNS, _clients(books))),
        ("services.csv", _csv(SERVICE_COLUMNS, _services(books))),
        ("invoices.csv", _csv(INVOICE_COLUMNS, _invoices(quiet))),
        ("invoice_lines.csv", _csv(INVOICE_LINE_COLUMNS, _invoice_lines(quiet))),
        ("invoice_taxes.csv", _csv(TAX_COLUMNS, _taxes(books))),
        ("credit_notes.csv", _csv(CREDIT_NOTE_COLUMNS, _credit_notes(quiet))),
        ("credit_note_lines.csv", _csv(CREDIT_NOTE_LINE_COLUMNS, _credit_note_lines(quiet))),
        ("payments.csv", _csv(PAYMENT_COLUMNS, _payments(books))),
        ("ledger_entries.csv", _csv(LEDGER_COLUMNS, _ledger_entries(books))),
    ]
    return zip_chunks(members, date=books.end)


def _csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    return csv_chunks(header, rows, bom=True)


def _signed(amount: Decimal | None, sign: int) -> Decimal | None:
    """``amount`` as it counts; a zero stays 0.00, never -0.00."""
    if amount is None or sign > 0 or not amount:
        return amount
    return -amount


def _clients(books: Books) -> Iterator[list[Any]]:
    for client in books.clients():
        yield [
            client.code,
            client.name,
            client.contact_person,
            client.email,
            client.phone,
            client.address,
            client.country,
            client.tax_number,
            client.tax_exempt,
            client.default_currency,
            client.taxes,
            client.is_active,
        ]


def _services(books: Books) -> Iterator[list[Any]]:
    for service in books.services():
        yield [
            service.code,
            service.name,
            service.description,
            service.unit,
            service.unit_price,
            service.taxable,
            service.taxes,
            service.is_active,
        ]


def _figures(document: Document, sign: int) -> list[Any]:
    return [
        document.currency,
        _signed(document.subtotal, sign),
        _signed(document.discount, sign),
        _signed(document.income, sign),
        _signed(document.tax, sign),
        _signed(document.total, sign),
        document.exchange_rate,
        _signed(document.subtotal_in_base, sign),
        _signed(document.discount_in_base, sign),
        _signed(document.income_in_base, sign),
        _signed(document.tax_in_base, sign),
        _signed(document.total_in_base, sign),
    ]


def _client_of(document: Document) -> list[Any]:
    return [document.client_code, document.client_name, document.client_tax_number]


def _invoices_and_cancellations(books: Books) -> Iterator[Document]:
    return (document for document in books.documents() if document.kind != CREDIT_NOTE)


def _invoices(books: Books) -> Iterator[list[Any]]:
    # Both streams go by issue date and number, the cancelled invoices a part of the
    # invoices: one walk along both finds each one's day.
    cancelled = books.cancelled_invoices()
    waiting = next(cancelled, None)
    for document in _invoices_and_cancellations(books):
        cancelled_on = None
        if document.kind == CANCELLATION:
            cancelled_on = document.date
        elif waiting is not None and waiting[0] == document.number:
            cancelled_on = waiting[1]
            waiting = next(cancelled, None)
        yield [
            document.kind,
            document.number,
            document.date,
            document.due_date,
            document.status,
            cancelled_on,
            *_client_of(document),
            *_figures(document, document.sign),
            document.note if document.kind == CANCELLATION else "",
        ]


def _line(line: LineFigure, currency: str, sign: int) -> list[Any]:
    net_in_base = line.net_in_base
    tax_in_base = line.tax_amount_in_base
    gross_in_base = (
        net_in_base + tax_in_base if net_in_base is not None and tax_in_base is not None else None
    )
    return [
        line.position,
        line.service_code,
        line.description,
        line.quantity,
        line.unit,
        line.unit_price,
        line.discount_percent,
        _signed(line.amount, sign),
        _signed(line.discount_share, sign),
        _signed(line.net, sign),
        LABEL_SEPARATOR.join(line.taxes),
        _signed(line.tax_amount, sign),
        _signed(line.net + line.tax_amount, sign),
        currency,
        _signed(line.amount_in_base, sign),
        _signed(line.discount_share_in_base, sign),
        _signed(net_in_base, sign),
        _signed(tax_in_base, sign),
        _signed(gross_in_base, sign),
    ]


def _invoice_lines(books: Books) -> Iterator[list[Any]]:
    for document in _invoices_and_cancellations(books):
        for line in document.lines:
            yield [
                document.kind,
                document.number,
                document.date,
                *_line(line, document.currency, document.sign),
            ]


def _taxes(books: Books) -> Iterator[list[Any]]:
    for document in books.documents():
        sign = document.sign
        for tax in document.taxes:
            yield [
                document.kind,
                document.number,
                document.invoice_number,
                document.date,
                tax.label,
                tax.rate,
                tax.number,
                _signed(tax.base, sign),
                _signed(tax.amount, sign),
                document.currency,
                _signed(tax.amount_in_base, sign),
            ]


def _credit_notes(books: Books) -> Iterator[list[Any]]:
    for note in books.credit_notes():
        yield [
            note.number,
            note.invoice_number,
            note.date,
            *_client_of(note),
            *_figures(note, 1),
            note.note,
        ]


def _credit_note_lines(books: Books) -> Iterator[list[Any]]:
    for note in books.credit_notes():
        for line in note.lines:
            yield [note.number, note.invoice_number, note.date, *_line(line, note.currency, 1)]


def _payments(books: Books) -> Iterator[list[Any]]:
    for payment in books.payments():
        yield [
            payment.date,
            payment.client_code,
            payment.client_name,
            payment.invoice_number,
            payment.currency,
            payment.amount,
            payment.method,
            payment.reference,
            payment.status,
            payment.confirmed_on,
            payment.reversed_on,
            payment.reversal_reason,
            payment.exchange_rate,
            payment.amount_in_base,
            payment.settled_in_base,
            payment.exchange_difference,
        ]


def _ledger_entries(books: Books) -> Iterator[list[Any]]:
    for entry in books.ledger_entries():
        yield [
            entry.date,
            entry.client_code,
            entry.kind,
            entry.amount,
            entry.currency,
            entry.memo,
            entry.document_number,
        ]
        if books.progress is not None and entry.kind in MOVEMENT_KINDS:
            books.progress(1)
