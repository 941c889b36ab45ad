"""The books as Xero's sales invoice import (SPEC: Exports and imports): a zip of CSV files
in the columns of Xero's template, ``xero-sales-invoices-001.csv``, ``-002``…, each holding at
most 500 documents, as Xero imports at most 500 invoices from one file.

What Xero's import wants, and where we read it (third-party pages; Xero's own help is not
among what we could consult):

- The columns, their names and order: the header row of Xero's ``SalesInvoiceTemplate.csv``
  (29 columns, the 9 starred ones required), as public repositories' tests quote it
  verbatim to check their own exports against it (none has a page to link to).
- One row per line, the invoice's fields repeated on each; at most 500 invoices a file;
  TaxType is the name of a tax rate in Xero; Total and TaxAmount may be given or left to
  Xero: https://online.flippingbook.com/view/399081/31/ (a Xero import guide) and
  https://entryrocket.com/guides/xero-csv-import-guide
- Credit notes come in through the same import, as documents of negative amounts:
  https://workbenchdoc.atlassian.net/wiki/spaces/XI/pages/20316164/Sales+Import ("Xero will
  automatically recognise credits as they are imported as negative values"). Some pages say
  the opposite (positive amounts in a separate credit note import); we follow the vendor's
  manual of a working integration.
- Dates: Xero reads dd/mm/yyyy or mm/dd/yyyy by the organisation's region and silently
  swaps day and month when it guesses wrong; ISO 8601 (2026-01-31) is read the same in every
  region (https://zerabooks.github.io/import/csv-to-xero/,
  https://reckonflow.com/blog/xero-csv-format-requirements), so dates are written so.
- A tax-free line: "Tax Exempt (0%)", the name of Xero's own zero rate
  (https://usked.com/?p=9401).

How our documents become Xero's:

- An invoice is an invoice; a credit note is a document of negative unit amounts, tax and
  total (Xero makes it a credit note), its number its own, Reference the invoice it credits;
  a cancellation likewise on the day it was made (SPEC: a cancellation counts as a negative
  in the period it was made), numbered ``INV-0003-CANCEL`` since Xero wants every number
  new. A credit's *DueDate is its own date: Xero requires the column, a credit has none.
- AccountCode is the settings' Xero sales account code; TaxType the labels of the taxes the
  line carries joined by " + " ("GST + QST"), or "Tax Exempt (0%)"; TaxAmount the line's
  share of each of those taxes, added up, so Xero's tax is ours to the cent. The user
  creates a tax rate of each such name in Xero (a compound rate for "GST + QST") and imports
  with "amounts are tax exclusive".
- Xero works a line out as round(Quantity × UnitAmount × (1 − Discount / 100)) and has no
  invoice discount. A line is written with its stored quantity, unit price and discount
  percent when Xero's arithmetic gives exactly what it sells for: it has no share of an
  invoice discount, its discount has at most 2 decimals, and rounding the product to the
  cent half up and half even (Xero does not say which it does) both give its amount.
  Otherwise it is 1 × its net (amount less its share of the invoice discount), which no
  rounding changes. Either way Xero's lines and taxes add up to the document's total, which
  the Total column repeats.
- InventoryItemCode stays empty: our service codes need not be items in Xero, and we found
  nothing saying how its import treats an item code it does not know. No tracking and no
  branding theme.
- The address's first three lines are POAddressLine1-3, the rest joined in POAddressLine4;
  POCountry the client's country code. Every text cell is neutralised (``writing.text``);
  numbers never are. UTF-8 without a byte order mark.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, localcontext
from typing import Any

from exports.books import CANCELLATION, INVOICE, Books, Document, LineFigure
from exports.writing import csv_chunks, zip_chunks

INVOICES_PER_FILE = 500
HEADER = (
    "*ContactName",
    "EmailAddress",
    "POAddressLine1",
    "POAddressLine2",
    "POAddressLine3",
    "POAddressLine4",
    "POCity",
    "PORegion",
    "POPostalCode",
    "POCountry",
    "*InvoiceNumber",
    "Reference",
    "*InvoiceDate",
    "*DueDate",
    "Total",
    "InventoryItemCode",
    "*Description",
    "*Quantity",
    "*UnitAmount",
    "Discount",
    "*AccountCode",
    "*TaxType",
    "TaxAmount",
    "TrackingName1",
    "TrackingOption1",
    "TrackingName2",
    "TrackingOption2",
    "Currency",
    "BrandingTheme",
)
NO_TAX = "Tax Exempt (0%)"
TAX_JOINER = " + "
CANCELLATION_SUFFIX = "-CANCEL"
ADDRESS_LINES = 4
ONE = Decimal("1")
CENT = Decimal("0.01")
HUNDRED = Decimal(100)


def write(books: Books) -> Iterator[bytes]:
    return zip_chunks(
        sales_files(books.documents(), account_code=books.accounts.xero_account_code),
        date=books.end,
    )


def file_name(number: int) -> str:
    return f"xero-sales-invoices-{number:03d}.csv"


def sales_files(
    documents: Iterable[Document], *, account_code: str, limit: int = INVOICES_PER_FILE
) -> Iterator[tuple[str, Iterator[bytes]]]:
    """The import files of ``documents``: each of at most ``limit`` documents, a document's
    lines never split between two; one file of the header alone when there are none.

    Streamed: each file reads its documents as it is written, so read each file's bytes
    before asking for the next file (as ``zip_chunks`` does)."""
    remaining = iter(documents)
    following = next(remaining, None)
    for number in itertools.count(1):
        batch = itertools.islice(
            itertools.chain(() if following is None else (following,), remaining), limit
        )
        yield file_name(number), csv_chunks(HEADER, _rows(batch, account_code))
        if next(batch, None) is not None:
            raise RuntimeError("A Xero file was left unread before the next one was asked for.")
        following = next(remaining, None)
        if following is None:
            return


def _rows(documents: Iterable[Document], account_code: str) -> Iterator[list[Any]]:
    for document in documents:
        yield from document_rows(document, account_code=account_code)


def document_rows(document: Document, *, account_code: str) -> Iterator[list[Any]]:
    """One row per line of ``document``, in the order of ``HEADER``."""
    credit = document.kind != INVOICE
    number = document.number
    if document.kind == CANCELLATION:
        number += CANCELLATION_SUFFIX
    address = address_lines(document.client_address)
    for line in document.lines:
        quantity, unit_amount, discount = xero_line(line)
        yield [
            document.client_name,
            document.client_email,
            *address,
            "",  # POCity, PORegion, POPostalCode: the address is one text
            "",
            "",
            document.client_country,
            number,
            document.invoice_number if credit else "",
            document.date,
            document.date if credit or document.due_date is None else document.due_date,
            _signed(document.total, credit),
            "",  # InventoryItemCode
            line.description,
            quantity,
            _signed(unit_amount, credit),
            discount,
            account_code,
            TAX_JOINER.join(line.taxes) or NO_TAX,
            _signed(line.tax_amount, credit),
            "",  # TrackingName1, TrackingOption1, TrackingName2, TrackingOption2
            "",
            "",
            "",
            document.currency,
            "",  # BrandingTheme
        ]


def xero_line(line: LineFigure) -> tuple[Decimal, Decimal, Decimal | None]:
    """Quantity, unit amount and discount percent (None: none) from which Xero works out
    exactly the line's net (positive): the stored ones when they give it, else 1 × net."""
    if line.discount_share == 0 and _rounds_to(
        line.quantity, line.unit_price, line.discount_percent, line.amount
    ):
        return line.quantity, line.unit_price, line.discount_percent or None
    return ONE, line.net, None


def xero_line_amount(quantity: Decimal, unit_amount: Decimal, discount: Decimal | None) -> Decimal:
    """Xero's line amount: quantity × unit amount × (1 − discount / 100), to the cent."""
    return _exact(quantity, unit_amount, discount or Decimal(0)).quantize(
        CENT, rounding=ROUND_HALF_UP
    )


def _rounds_to(quantity: Decimal, price: Decimal, discount: Decimal, amount: Decimal) -> bool:
    """Whether every rounding to the nearest cent (half up or half even: Xero does not say
    which it uses) takes the product to ``amount``, with a discount Xero can hold (2
    decimals)."""
    if discount != discount.quantize(CENT):
        return False
    exact = _exact(quantity, price, discount)
    return all(
        exact.quantize(CENT, rounding=rounding) == amount
        for rounding in (ROUND_HALF_UP, ROUND_HALF_EVEN)
    )


def _exact(quantity: Decimal, price: Decimal, discount: Decimal) -> Decimal:
    with localcontext() as context:
        context.prec = 80  # no rounding before the cent's
        return quantity * price * (HUNDRED - discount) / HUNDRED


def _signed(amount: Decimal, negative: bool) -> Decimal:
    # ``-amount``, not ``-1 * amount``: a zero stays "0.00", never "-0.00".
    return -amount if negative else amount


def address_lines(address: str) -> list[str]:
    """The address's non-empty lines as Xero's four: the first three, then the rest on the
    fourth joined by ", "."""
    lines = [line.strip() for line in address.splitlines() if line.strip()]
    head, rest = lines[: ADDRESS_LINES - 1], lines[ADDRESS_LINES - 1 :]
    head.append(", ".join(rest))
    return head + [""] * (ADDRESS_LINES - len(head))
