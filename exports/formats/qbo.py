"""The invoices of a range as QuickBooks Online's invoice import, a CSV file (SPEC: Exports
and imports).

What the import wants, and where we read it:

- The columns: the header row of Intuit's sample invoice file, which the import maps by
  itself (``*InvoiceNo``, ``*Customer``, ``*InvoiceDate``, ``*DueDate``, ``Terms``,
  ``Location``, ``Memo``, ``Item(Product/Service)``, ``ItemDescription``,
  ``ItemQuantity``, ``ItemRate``, ``*ItemAmount``, ``*ItemTaxCode``, ``ItemTaxAmount``,
  ``Currency``, ``Service Date``; a "*" marks a required one), as public exporters write
  it; Intuit's answer naming the fields it maps and the required ones (invoice number,
  customer, invoice date, due date, item amount):
  https://quickbooks.intuit.com/learn-support/en-ca/sales-and-invoicing/do-we-need-to-map-field-everytime-when-import-invoices/01/394876/highlight/true
  (and its article, https://quickbooks.intuit.com/learn-support/en-ca/help-articles/import-invoices-in-batches/01/338729).
  Other headers can be mapped by hand on the import's mapping screen.
- One row per line, the invoice's fields repeated on each; ":" separates a customer from
  a sub-customer; the date format is chosen on the import screen: Intuit's article above,
  and https://importer.transactionpro.com/Importer/Docs/Import/Invoice.aspx (the fields of
  a QuickBooks Online invoice).

How our invoices become QuickBooks Online's:

- Every invoice issued in the range, as issued, except one cancelled within the range:
  issued and cancelled in it, it counts for nothing there, and the import takes invoices
  only (no credit memos). An invoice cancelled after the range is in, as it stood in the
  range; its cancellation, like every credit note, is entered in QuickBooks Online by hand
  (a credit memo), or taken from the IIF or the journal export.
- Dates are MM/DD/YYYY (choose "MM/dd/yyyy" on the import screen): the United States
  format, which every region's import offers.
- ``*ItemAmount`` is the line's net: its amount less its share of the invoice discount
  (``LineFigure.net``), as the import has no invoice discount; ``ItemTaxAmount`` its share
  of the taxes it carries, added up; ``*ItemTaxCode`` the labels of those taxes joined by
  " + " ("GST + QST"), empty for a line without tax: the tax codes of the QuickBooks company
  of those names (or mapped to them) apply. So the amounts and taxes add up to the
  invoice's total to the cent. ``ItemQuantity`` and ``ItemRate`` are the stored quantity
  and unit price when their product is the net; when a discount makes it less they are
  left empty, rather than contradict the amount.
- ``Item(Product/Service)`` is the service's code (empty: a line without a service),
  ``Memo`` the invoice's notes, ``Currency`` the invoice's currency (QuickBooks Online
  with multicurrency on; the customer's currency must match). Terms, location and service
  date stay empty: our invoices carry a due date, not a terms list entry.
- Every text cell is neutralised (``writing.text``), numbers never are; UTF-8 without a
  byte order mark (it would become part of the first header), CRLF line ends.
- The import takes at most 100 invoices from a file, a guide says
  (https://synder.com/blog/how-to-import-invoices-into-quickbooks): a busy range is
  exported a month at a time.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from exports.books import Books, Document, LineFigure
from exports.writing import csv_chunks

HEADER = (
    "*InvoiceNo",
    "*Customer",
    "*InvoiceDate",
    "*DueDate",
    "Terms",
    "Location",
    "Memo",
    "Item(Product/Service)",
    "ItemDescription",
    "ItemQuantity",
    "ItemRate",
    "*ItemAmount",
    "*ItemTaxCode",
    "ItemTaxAmount",
    "Currency",
    "Service Date",
)


def write(books: Books) -> Iterator[bytes]:
    return csv_chunks(HEADER, _rows(books))


def _rows(books: Books) -> Iterator[Sequence[Any]]:
    cancelled = {
        number for number, cancelled_on in books.cancelled_invoices() if cancelled_on <= books.end
    }
    for invoice in books.invoices():
        if invoice.number not in cancelled:
            for line in invoice.lines:
                yield _row(invoice, line)


def _row(invoice: Document, line: LineFigure) -> Sequence[Any]:
    net, exact = line.net, line.priced_exactly
    return (
        invoice.number,
        invoice.client_name.replace(":", "-"),  # ":" would name a sub-customer
        f"{invoice.date:%m/%d/%Y}",
        f"{invoice.due_date:%m/%d/%Y}" if invoice.due_date else None,
        None,
        None,
        invoice.note,
        line.service_code,
        line.description,
        line.quantity if exact else None,
        line.unit_price if exact else None,
        net,
        " + ".join(line.taxes),
        line.tax_amount,
        invoice.currency,
        None,
    )
