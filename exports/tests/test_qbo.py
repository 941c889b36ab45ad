"""The QuickBooks Online export (the invoice import CSV): the golden books to the byte, which
invoices it holds, lines adding up to each invoice's total, and the cells a spreadsheet
would run kept as text."""

import csv
import datetime
import io
from collections import defaultdict
from decimal import Decimal

from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing import services
from billing.models import DiscountKind
from exports.books import Books
from exports.formats import FORMATS, qbo
from settings_app.selectors import business_today
from tests.factories import ClientFactory, issued, line

D = Decimal
GOLDEN = "exports/tests/golden/qbo.csv"
HEADER = (
    "*InvoiceNo,*Customer,*InvoiceDate,*DueDate,Terms,Location,Memo,Item(Product/Service),"
    "ItemDescription,ItemQuantity,ItemRate,*ItemAmount,*ItemTaxCode,ItemTaxAmount,Currency,"
    "Service Date\r\n"
)


def export(start, end) -> bytes:
    return b"".join(qbo.write(Books.of(start, end)))


def rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode(), newline="")))


def test_the_golden_books_export_to_the_golden_file(golden_books):
    with open(GOLDEN, "rb") as golden:
        expected = golden.read()
    assert export(golden_books["start"], golden_books["end"]) == expected


def test_the_same_books_give_the_same_bytes(golden_books):
    first = export(golden_books["start"], golden_books["end"])
    assert export(golden_books["start"], golden_books["end"]) == first
    assert FORMATS["qbo"].write is qbo.write


def test_a_range_without_invoices_is_the_header_alone(golden_books):
    assert export(datetime.date(2027, 1, 1), datetime.date(2027, 12, 31)) == HEADER.encode()
    # From 2 February: a credit note and payments, but no invoice.
    february = rows(export(datetime.date(2026, 2, 2), datetime.date(2026, 2, 28)))
    assert february == []


def test_an_invoice_cancelled_in_the_range_is_left_out_and_one_cancelled_later_is_in(
    golden_books,
):
    # INV-0003 is issued on 2026-03-02 and cancelled on 2026-03-09.
    before = rows(export(datetime.date(2026, 3, 1), datetime.date(2026, 3, 8)))
    assert [(row["*InvoiceNo"], row["*Customer"], row["ItemDescription"]) for row in before] == [
        ("INV-0003", "'@Home Renovations", "'+ rush fee")
    ]
    assert (before[0]["*ItemAmount"], before[0]["*ItemTaxCode"], before[0]["ItemTaxAmount"]) == (
        "300.00",
        "GST",
        "15.00",
    )
    assert rows(export(datetime.date(2026, 3, 1), datetime.date(2026, 3, 9))) == []


def test_text_cells_are_kept_as_text_and_numbers_are_not(business):
    client = ClientFactory(name="@Acme: West")
    issued(
        client=client,
        lines=[
            line(quantity="3", unit_price="10.00", description="=2+3"),
            line(quantity="1", unit_price="-0.00", description="-free\nitem"),
        ],
        notes="+ a note",
    )
    today = business_today()
    found = rows(export(today, today))
    assert [row["*Customer"] for row in found] == ["'@Acme- West", "'@Acme- West"]
    assert [row["ItemDescription"] for row in found] == ["'=2+3", "'-free\nitem"]
    assert {row["Memo"] for row in found} == {"'+ a note"}
    assert [(row["ItemQuantity"], row["ItemRate"]) for row in found] == [
        ("3.000", "10.0000"),
        ("1.000", "0.0000"),
    ]
    assert [(row["*ItemAmount"], row["ItemTaxAmount"]) for row in found] == [
        ("30.00", "3.90"),
        ("0.00", "0.00"),
    ]
    assert {row["*ItemTaxCode"] for row in found} == {"HST"}


def test_a_discounted_line_gives_its_net_without_quantity_or_rate(business):
    invoice = issued(
        lines=[
            line(quantity="2", unit_price="50.00"),
            line(quantity="4", unit_price="25.00", discount_percent=D("10")),
        ],
        discount_kind="fixed",
        discount_value=D("10.00"),
    )
    today = business_today()
    found = rows(export(today, today))
    # 100.00 and 90.00; the 10.00 discount falls 5.26 and 4.74 on them (largest remainder).
    assert [
        (row["ItemQuantity"], row["ItemRate"], row["*ItemAmount"], row["ItemTaxAmount"])
        for row in found
    ] == [("", "", "94.74", "12.32"), ("", "", "85.26", "11.08")]
    total = sum(D(row["*ItemAmount"]) + D(row["ItemTaxAmount"]) for row in found)
    assert total == invoice.total == D("203.40")


LINES = st.lists(
    st.tuples(
        st.decimals("0.5", "50", places=3),
        st.decimals("0", "900", places=4),
        st.sampled_from([D(0), D(0), D("12.5")]),
    ),
    min_size=1,
    max_size=4,
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    invoices=st.lists(
        st.tuples(LINES, st.sampled_from([D(0), D(5), D("33.333")])), min_size=1, max_size=3
    )
)
def test_each_invoice_s_lines_add_up_to_its_total(business, invoices):
    with transaction.atomic():
        client = ClientFactory()
        made = {}
        for lines, discount in invoices:
            if not any(q * p >= D("0.02") for q, p, _d in lines):
                continue  # an invoice of nothing is refused
            invoice = issued(
                client=client,
                lines=[
                    services.LineData(
                        description="Work", quantity=q, unit_price=p, discount_percent=d
                    )
                    for q, p, d in lines
                ],
                discount_kind=DiscountKind.PERCENT if discount else DiscountKind.NONE,
                discount_value=discount,
            )
            made[invoice.number] = invoice.total
        today = business_today()
        totals: dict[str, Decimal] = defaultdict(Decimal)
        for row in rows(export(today, today)):
            amount = D(row["*ItemAmount"])
            totals[row["*InvoiceNo"]] += amount + D(row["ItemTaxAmount"])
            if row["ItemQuantity"]:
                product = D(row["ItemQuantity"]) * D(row["ItemRate"])
                assert abs(product - amount) <= D("0.005")
        assert totals == made
        transaction.set_rollback(True)
