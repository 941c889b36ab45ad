"""The books the exports read, from the golden books (golden/BOOKS.md)."""

from decimal import Decimal

from exports.books import CANCELLATION, CREDIT_NOTE, INVOICE, Books

D = Decimal


def test_the_golden_books_read_as_worked_out_by_hand(golden_books):
    books = Books.of(golden_books["start"], golden_books["end"])
    documents = list(books.documents())
    assert [(d.kind, d.number, str(d.date), d.total) for d in documents] == [
        (INVOICE, "INV-0001", "2026-01-10", D("1119.57")),
        (INVOICE, "INV-0002", "2026-02-01", D("1000.00")),
        (CREDIT_NOTE, "CN-0001", "2026-02-05", D("49.15")),
        (INVOICE, "INV-0003", "2026-03-02", D("315.00")),
        (CANCELLATION, "INV-0003", "2026-03-09", D("315.00")),
    ]
    first = documents[0]
    assert [(t.label, t.base, t.amount) for t in first.taxes] == [
        ("GST", D("973.75"), D("48.69")),
        ("QST", D("973.75"), D("97.13")),
    ]
    assert [(line.discount_share, line.tax_shares) for line in first.lines] == [
        (D("40.00"), (D("38.00"), D("75.81"))),
        (D("11.25"), (D("10.69"), D("21.32"))),
    ]
    second = documents[1]
    assert (second.exchange_rate, second.total_in_base) == (D("1.35"), D("1350.00"))
    movements = [(m.kind, str(m.date), m.amount) for m in books.movements()]
    assert movements == [
        ("payment_confirmed", "2026-01-20", D("500.00")),
        ("payment_reversed", "2026-01-25", D("-500.00")),
        ("payment_confirmed", "2026-02-10", D("1070.42")),
        ("payment_confirmed", "2026-02-20", D("1000.00")),
    ]
    assert [(str(x.date), x.difference) for x in books.exchange_differences()] == [
        ("2026-02-20", D("50.00"))
    ]
    assert books.openings() == []
