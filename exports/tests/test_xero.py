"""The Xero export: the golden books' exact bytes, files of at most 500 invoices, and totals
that Xero's own arithmetic makes equal to ours."""

import csv
import datetime
import io
import pathlib
import zipfile
from decimal import Decimal

import pytest

from exports.books import Books
from exports.formats import xero
from tests.factories import ClientFactory, issued, line, quebec_client

GOLDEN = pathlib.Path(__file__).parent / "golden" / "xero"
D = Decimal
DAY = datetime.date(2026, 1, 15)


def export(start, end) -> bytes:
    return b"".join(xero.write(Books.of(start, end)))


def members(zipped: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(zipped)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def records(csv_bytes: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(csv_bytes.decode(), newline="")))


def files_of(start, end, *, limit: int) -> list[tuple[str, bytes]]:
    """The import files, each read before the next (as the zip reads them)."""
    documents = Books.of(start, end).documents()
    return [
        (name, b"".join(chunks))
        for name, chunks in xero.sales_files(documents, account_code="200", limit=limit)
    ]


def xero_totals(rows: list[dict[str, str]]) -> dict[str, tuple[Decimal, Decimal, Decimal]]:
    """Per document number: Xero's total (its line amounts, worked out as Xero does, plus
    the tax amounts), its tax, and the Total column."""
    found: dict[str, tuple[Decimal, Decimal, Decimal]] = {}
    for row in rows:
        amount = xero.xero_line_amount(
            D(row["*Quantity"]),
            D(row["*UnitAmount"]),
            D(row["Discount"]) if row["Discount"] else None,
        )
        tax = D(row["TaxAmount"])
        total, taxes, _ = found.get(row["*InvoiceNumber"], (D("0.00"), D("0.00"), D("0.00")))
        found[row["*InvoiceNumber"]] = (total + amount + tax, taxes + tax, D(row["Total"]))
    return found


def test_the_golden_books_make_the_golden_file(golden_books):
    written = export(golden_books["start"], golden_books["end"])
    assert members(written) == {
        "xero-sales-invoices-001.csv": (GOLDEN / "xero-sales-invoices-001.csv").read_bytes()
    }


def test_the_same_books_make_the_same_bytes(golden_books):
    first = export(golden_books["start"], golden_books["end"])
    assert first == export(golden_books["start"], golden_books["end"])


def test_xero_s_arithmetic_gives_every_document_s_total_and_tax(golden_books):
    books = Books.of(golden_books["start"], golden_books["end"])
    written = members(b"".join(xero.write(books)))["xero-sales-invoices-001.csv"]
    totals = xero_totals(records(written))
    expected = {}
    for document in books.documents():
        sign = document.sign
        number = document.number + ("-CANCEL" if document.kind == "cancellation" else "")
        expected[number] = (sign * document.total, sign * document.tax, sign * document.total)
    assert totals == expected


def test_awkward_lines_still_add_up_to_the_cent_in_xero(db):
    client = quebec_client()
    invoices = [
        issued(
            client=client,
            issue_date=DAY,
            lines=[
                line("3", "33.3333"),  # 99.9999: Xero rounds it, as we do
                line("7", "19.99", discount_percent=D("15")),  # 118.9405
                line("1", "0.125"),  # 0.125: half a cent, rounded two ways
                line("2.5", "10.00", discount_percent=D("12.345")),  # more decimals than Xero
                line("0", "50.00"),
            ],
        ),
        issued(
            client=client,
            issue_date=DAY,
            lines=[line("3", "33.3333"), line("1", "0.01"), line("12", "7.77")],
            discount_kind="fixed",
            discount_value=D("10.01"),
        ),
        issued(
            client=ClientFactory(),
            issue_date=DAY,
            lines=[line("1", "99.99")],
            discount_kind="percent",
            discount_value=D("33"),
        ),
    ]
    written = members(export(DAY, DAY))["xero-sales-invoices-001.csv"]
    totals = xero_totals(records(written))
    assert totals == {
        invoice.number: (invoice.total, invoice.tax_total, invoice.total) for invoice in invoices
    }


def test_a_line_keeps_its_quantity_and_price_when_xero_works_out_its_amount(db):
    issued(
        client=ClientFactory(),
        issue_date=DAY,
        lines=[
            line("3", "33.3333", description="kept"),
            line("1", "0.125", description="half a cent"),
            line("2", "10.00", discount_percent=D("12.345"), description="long discount"),
            line("2", "10.00", discount_percent=D("12.5"), description="short discount"),
        ],
    )
    rows = records(members(export(DAY, DAY))["xero-sales-invoices-001.csv"])
    assert [
        (row["*Description"], row["*Quantity"], row["*UnitAmount"], row["Discount"]) for row in rows
    ] == [
        ("kept", "3.000", "33.3333", ""),
        ("half a cent", "1", "0.13", ""),
        ("long discount", "1", "17.53", ""),
        ("short discount", "2.000", "10.0000", "12.500"),
    ]


def test_an_invoice_discount_is_each_line_s_net_at_quantity_1(golden_books):
    rows = records(
        members(export(golden_books["start"], golden_books["end"]))["xero-sales-invoices-001.csv"]
    )
    first = [row for row in rows if row["*InvoiceNumber"] == "INV-0001"]
    assert [(row["*Quantity"], row["*UnitAmount"], row["Discount"]) for row in first] == [
        ("1", "760.00", ""),
        ("1", "213.75", ""),
    ]


def test_text_is_neutralised_and_negative_numbers_are_not(golden_books):
    issued(
        client=ClientFactory(code="EVIL", name="=HYPERLINK(1)", email="-x@example.com"),
        issue_date=datetime.date(2026, 3, 31),
        lines=[line("1", "5.00", description="-minus")],
    )
    written = members(export(golden_books["start"], golden_books["end"]))
    rows = records(written["xero-sales-invoices-001.csv"])
    cancelled = next(row for row in rows if row["*InvoiceNumber"] == "INV-0003-CANCEL")
    assert (cancelled["*ContactName"], cancelled["*Description"]) == (
        "'@Home Renovations",
        "'+ rush fee",
    )
    assert (cancelled["Total"], cancelled["*UnitAmount"], cancelled["TaxAmount"]) == (
        "-315.00",
        "-100.0000",
        "-15.00",
    )
    evil = rows[-1]
    assert (evil["*ContactName"], evil["EmailAddress"], evil["*Description"]) == (
        "'=HYPERLINK(1)",
        "'-x@example.com",
        "'-minus",
    )


def test_an_empty_range_is_one_file_of_the_header_alone(golden_books):
    written = members(export(datetime.date(2025, 1, 1), datetime.date(2025, 12, 31)))
    assert written == {"xero-sales-invoices-001.csv": ",".join(xero.HEADER).encode() + b"\r\n"}


def test_files_hold_at_most_the_limit_and_never_split_a_document(golden_books):
    files = files_of(golden_books["start"], golden_books["end"], limit=2)
    assert [name for name, _ in files] == [
        "xero-sales-invoices-001.csv",
        "xero-sales-invoices-002.csv",
        "xero-sales-invoices-003.csv",
    ]
    numbers = [[row["*InvoiceNumber"] for row in records(data)] for _, data in files]
    assert numbers == [
        ["INV-0001", "INV-0001", "INV-0002"],
        ["CN-0001", "INV-0003"],
        ["INV-0003-CANCEL"],
    ]
    # Together they are the one file of the golden books, row for row.
    golden = records((GOLDEN / "xero-sales-invoices-001.csv").read_bytes())
    assert [row for _, data in files for row in records(data)] == golden


def test_a_file_must_be_read_before_the_next_is_asked_for(golden_books):
    documents = Books.of(golden_books["start"], golden_books["end"]).documents()
    files = xero.sales_files(documents, account_code="200", limit=2)
    next(files)
    with pytest.raises(RuntimeError, match="left unread"):
        next(files)


def test_501_invoices_make_two_files(db):
    client = ClientFactory()
    for _ in range(501):
        issued(client=client, issue_date=DAY, lines=[line("1", "10.00")])
    written = members(export(DAY, DAY))
    assert sorted(written) == ["xero-sales-invoices-001.csv", "xero-sales-invoices-002.csv"]
    first = records(written["xero-sales-invoices-001.csv"])
    second = records(written["xero-sales-invoices-002.csv"])
    assert (len({row["*InvoiceNumber"] for row in first}), len(second)) == (500, 1)
    assert second[0]["*InvoiceNumber"] == "INV-0501"


@pytest.mark.parametrize(
    ("address", "lines"),
    [
        ("", ["", "", "", ""]),
        ("1 Main St\n\n  Springfield  ", ["1 Main St", "Springfield", "", ""]),
        ("a\nb\nc\nd\ne", ["a", "b", "c", "d, e"]),
    ],
)
def test_an_address_is_xero_s_four_lines(address, lines):
    assert xero.address_lines(address) == lines
