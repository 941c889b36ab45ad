"""The export formats: each a writer of a range's books as bytes, streamed as they are made
(SPEC: Exports and imports). ``FORMATS`` is the one list the page, the command and the API
offer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from exports.books import Books

from . import csv_zip, iif, journal, qbo, xero


@dataclass(frozen=True)
class Format:
    key: str
    label: Promise
    description: Promise
    extension: str
    content_type: str
    write: Callable[[Books], Iterator[bytes]]

    def filename(self, books: Books) -> str:
        return f"otb-books-{self.key}-{books.start:%Y%m%d}-{books.end:%Y%m%d}.{self.extension}"


ZIP = "application/zip"
FORMATS: dict[str, Format] = {
    found.key: found
    for found in (
        Format(
            "csv",
            _("CSV files"),
            _(
                "A zip of one CSV file per kind of record: clients, services, invoices, "
                "invoice lines with their taxes, credit notes, payments and ledger entries, "
                "with the base-currency figures."
            ),
            "zip",
            ZIP,
            csv_zip.write,
        ),
        Format(
            "iif",
            _("QuickBooks Desktop (IIF)"),
            _("Invoices, credit memos and payments as IIF transactions."),
            "iif",
            "text/plain; charset=utf-8",
            iif.write,
        ),
        Format(
            "qbo",
            _("QuickBooks Online (CSV)"),
            _("The invoice import file of QuickBooks Online."),
            "csv",
            "text/csv; charset=utf-8",
            qbo.write,
        ),
        Format(
            "xero",
            _("Xero (CSV)"),
            _("Xero's sales invoice import, in files of at most 500 invoices, zipped."),
            "zip",
            ZIP,
            xero.write,
        ),
        Format(
            "hledger",
            _("Plain-text journal (hledger, ledger)"),
            _(
                "A journal of every invoice, credit note, cancellation, payment, reversal, "
                "refund, manual entry and exchange difference, with the accounts of the "
                "settings."
            ),
            "journal",
            "text/plain; charset=utf-8",
            journal.write,
        ),
    )
}
