"""The CSV zip export: the golden books give the files written by hand in golden/csv/
(from golden/BOOKS.md), and the shares on the lines add up to their documents' figures."""

import csv
import datetime
import difflib
import io
import pathlib
import random
import subprocess
import zipfile
from collections import defaultdict
from decimal import Decimal

import pytest

from billing import services
from billing.services.credit_notes import CreditLineData, create_credit_note, issue_credit_note
from exports.books import Books
from exports.formats import csv_zip
from settings_app.selectors import business_today
from tests.factories import ClientFactory, ServiceFactory, issued, line, quebec_client

D = Decimal
GOLDEN = pathlib.Path(__file__).parent / "golden" / "csv"
MEMBERS = [
    "clients.csv",
    "services.csv",
    "invoices.csv",
    "invoice_lines.csv",
    "invoice_taxes.csv",
    "credit_notes.csv",
    "credit_note_lines.csv",
    "payments.csv",
    "ledger_entries.csv",
]
HEADERS = {
    "clients.csv": csv_zip.CLIENT_COLUMNS,
    "services.csv": csv_zip.SERVICE_COLUMNS,
    "invoices.csv": csv_zip.INVOICE_COLUMNS,
    "invoice_lines.csv": csv_zip.INVOICE_LINE_COLUMNS,
    "invoice_taxes.csv": csv_zip.TAX_COLUMNS,
    "credit_notes.csv": csv_zip.CREDIT_NOTE_COLUMNS,
    "credit_note_lines.csv": csv_zip.CREDIT_NOTE_LINE_COLUMNS,
    "payments.csv": csv_zip.PAYMENT_COLUMNS,
    "ledger_entries.csv": csv_zip.LEDGER_COLUMNS,
}
BOM = "\ufeff".encode()


def export(start: datetime.date, end: datetime.date, **kwargs) -> bytes:
    return b"".join(csv_zip.write(Books.of(start, end, **kwargs)))


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rows(member: bytes) -> list[dict[str, str]]:
    assert member.startswith(BOM)
    return list(csv.DictReader(io.StringIO(member[len(BOM) :].decode(), newline="")))


def test_the_golden_books_give_the_files_written_by_hand(golden_books):
    found = members(export(golden_books["start"], golden_books["end"]))

    assert list(found) == MEMBERS
    for name in MEMBERS:
        expected = (GOLDEN / name).read_bytes()
        if found[name] != expected:
            difference = "\n".join(
                difflib.unified_diff(
                    expected.decode().splitlines(),
                    found[name].decode().splitlines(),
                    f"golden/csv/{name}",
                    "export",
                    lineterm="",
                )
            )
            pytest.fail(f"{name} differs from its golden file:\n{difference}")


def test_two_exports_of_the_same_books_are_the_same_bytes(golden_books):
    first = export(golden_books["start"], golden_books["end"])

    assert export(golden_books["start"], golden_books["end"]) == first


def test_unzip_accepts_the_zip(golden_books, tmp_path):
    path = tmp_path / "books.zip"
    path.write_bytes(export(golden_books["start"], golden_books["end"]))

    tested = subprocess.run(["unzip", "-t", str(path)], capture_output=True, text=True)

    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "No errors detected" in tested.stdout


def test_each_member_is_dated_the_end_of_the_range(golden_books):
    data = export(golden_books["start"], golden_books["end"])

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert {info.date_time for info in archive.infolist()} == {(2026, 3, 31, 0, 0, 0)}


def test_a_range_without_books_gives_only_the_headers(db):
    found = members(export(datetime.date(2026, 1, 1), datetime.date(2026, 1, 31)))

    assert list(found) == MEMBERS
    for name, header in HEADERS.items():
        assert found[name] == BOM + (",".join(header) + "\r\n").encode(), name


def test_a_range_before_the_golden_books_lists_only_clients_and_services(golden_books):
    found = members(export(datetime.date(2025, 1, 1), datetime.date(2025, 12, 31)))

    assert [row["code"] for row in rows(found["clients.csv"])] == ["BRAVO", "HOME", "LAURIER"]
    assert [row["code"] for row in rows(found["services.csv"])] == ["DESIGN", "PRINT"]
    for name in MEMBERS[2:]:
        assert rows(found[name]) == [], name


def test_a_cancellation_in_the_range_of_an_invoice_issued_before_it_has_its_row(golden_books):
    found = members(export(datetime.date(2026, 3, 5), datetime.date(2026, 3, 31)))

    invoices = rows(found["invoices.csv"])
    assert [(r["kind"], r["number"], r["date"], r["total"]) for r in invoices] == [
        ("cancellation", "INV-0003", "2026-03-09", "-315.00")
    ]
    assert [(r["kind"], r["amount"]) for r in rows(found["invoice_lines.csv"])] == [
        ("cancellation", "-300.00")
    ]
    assert [(r["kind"], r["amount"]) for r in rows(found["invoice_taxes.csv"])] == [
        ("cancellation", "-15.00")
    ]


def test_an_invoice_cancelled_after_the_range_shows_the_day_but_no_cancellation(golden_books):
    found = members(export(datetime.date(2026, 3, 1), datetime.date(2026, 3, 5)))

    invoices = rows(found["invoices.csv"])
    assert [(r["kind"], r["status"], r["cancelled_on"], r["total"]) for r in invoices] == [
        ("invoice", "cancelled", "2026-03-09", "315.00")
    ]


def test_the_export_tells_the_progress_bar_each_document_and_movement_once(golden_books):
    books = Books.of(golden_books["start"], golden_books["end"])
    told = []
    books.progress = told.append

    b"".join(csv_zip.write(books))

    assert sum(told) == books.count() == 9  # 5 documents, 4 movements


def test_formula_text_is_kept_as_text_and_negative_amounts_stay_numbers(business):
    client = ClientFactory(code="EVIL", name='=HYPERLINK("http://x")', contact_person="-Bob")
    ServiceFactory(code="PROMO", description="-10 % promo", name="@once")
    invoice = issued(client=client, lines=[line("1", "50.00", description="=1+1")])
    services.cancel_invoice(invoice=invoice, acting_user=None, reason="+ wrong")
    today = business_today()

    found = members(export(today, today))

    client_row = rows(found["clients.csv"])[0]
    assert (client_row["name"], client_row["contact_person"]) == (
        '\'=HYPERLINK("http://x")',
        "'-Bob",
    )
    service_row = rows(found["services.csv"])[0]
    assert (service_row["name"], service_row["description"]) == ("'@once", "'-10 % promo")
    cancellation = rows(found["invoices.csv"])[1]
    assert (cancellation["kind"], cancellation["reason"]) == ("cancellation", "'+ wrong")
    assert cancellation["subtotal"] == "-50.00"
    assert [r["description"] for r in rows(found["invoice_lines.csv"])] == ["'=1+1", "'=1+1"]
    assert rows(found["invoice_lines.csv"])[1]["amount"] == "-50.00"
    assert rows(found["ledger_entries.csv"])[0]["amount"].startswith("-")


def _random_books(seed: int) -> None:
    """Invoices of two taxes (GST and QST), with line and invoice discounts, lines carrying
    both, one or no tax, in CAD and in other currencies; a credit note of some lines and a
    cancellation."""
    chance = random.Random(seed)
    client = quebec_client()
    made = []
    for _number in range(8):
        lines = []
        for _position in range(chance.randint(1, 4)):
            carried = chance.choice([None, ["GST"], ["QST"], "untaxed"])
            lines.append(
                line(
                    quantity=str(chance.choice(["1", "2.5", "3", "0.333", "17"])),
                    unit_price=str(chance.choice(["19.99", "0.0125", "85.00", "133.3333"])),
                    discount_percent=D(chance.choice(["0", "5", "12.5"])),
                    taxable=carried != "untaxed",
                    taxes=carried if carried != "untaxed" else None,
                )
            )
        discount = chance.choice([("", 0), ("percent", D("7.5")), ("fixed", D("3.33"))])
        made.append(
            issued(
                client=client,
                lines=lines,
                currency=chance.choice(["CAD", "USD", "EUR"]),
                discount_kind=discount[0],
                discount_value=discount[1],
            )
        )
    first_line = made[0].lines.order_by("position", "pk").first()
    note = create_credit_note(
        invoice=made[0],
        acting_user=None,
        kind="lines",
        lines=[CreditLineData(invoice_line=first_line, quantity=first_line.quantity)],
        reason="Returned",
    )
    issue_credit_note(credit_note=note, acting_user=None)
    services.cancel_invoice(invoice=made[1], acting_user=None, reason="Duplicate")


def _sums(found_rows, key, columns):
    totals: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(lambda: defaultdict(D))
    for row in found_rows:
        for column in columns:
            totals[(row[key[0]], row[key[1]])][column] += D(row[column])
    return totals


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_line_shares_add_up_to_their_documents_figures(business, seed):
    _random_books(seed)
    today = business_today()
    books = Books.of(today, today)
    found = members(b"".join(csv_zip.write(books)))

    # Each line column adds up to its document's figure, in its currency and in the base.
    pairs = {
        "amount": "subtotal",
        "discount_share": "discount",
        "net": "net",
        "tax": "tax",
        "gross": "total",
        "amount_in_base": "subtotal_in_base",
        "discount_share_in_base": "discount_in_base",
        "net_in_base": "net_in_base",
        "tax_in_base": "tax_in_base",
        "gross_in_base": "total_in_base",
    }
    for documents, lines, key in (
        ("invoices.csv", "invoice_lines.csv", (("kind", "number"), ("kind", "invoice_number"))),
        (
            "credit_notes.csv",
            "credit_note_lines.csv",
            (("number", "invoice_number"), ("credit_note_number", "invoice_number")),
        ),
    ):
        document_rows = rows(found[documents])
        assert document_rows
        line_sums = _sums(rows(found[lines]), key[1], pairs)
        for document in document_rows:
            summed = line_sums[(document[key[0][0]], document[key[0][1]])]
            for line_column, document_column in pairs.items():
                assert summed[line_column] == D(document[document_column]), (
                    documents,
                    document[key[0][1]],
                    line_column,
                )
    # Each document's taxes add up to its tax, signed as it counts.
    tax_sums = _sums(rows(found["invoice_taxes.csv"]), ("kind", "document_number"), ["amount"])
    for document in rows(found["invoices.csv"]):
        assert tax_sums[(document["kind"], document["number"])]["amount"] == D(document["tax"])
    for document in rows(found["credit_notes.csv"]):
        assert tax_sums[("credit_note", document["number"])]["amount"] == -D(document["tax"])
    # Each tax's line shares add up to the tax (the CSV has the lines' sum of them).
    for document in books.documents():
        for tax in document.taxes:
            shares = [
                (share, share_in_base)
                for figure in document.lines
                for label, share, share_in_base in zip(
                    figure.taxes,
                    figure.tax_shares,
                    figure.tax_shares_in_base or (),
                    strict=True,
                )
                if label == tax.label
            ]
            assert sum(share for share, _ in shares) == tax.amount
            assert sum(share for _, share in shares) == tax.amount_in_base
