"""The reader reads the books a chunk at a time (exports.books: each chunk a query that
starts after the last row read): where the chunks end changes no byte of any export, and
the queries an export makes do not grow with the documents in a chunk."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import Client
from exports import books as books_module
from exports.books import Books
from exports.formats import FORMATS
from exports.tests.conftest import on
from tests.factories import issued, line, pay


def export(key: str, golden_books) -> bytes:
    return b"".join(FORMATS[key].write(Books.of(golden_books["start"], golden_books["end"])))


@pytest.mark.parametrize("key", list(FORMATS))
@pytest.mark.parametrize("chunk", [1, 2, 3])
def test_chunks_of_any_size_give_the_same_bytes(golden_books, monkeypatch, key, chunk):
    # Several documents, payments and ledger entries on one day: a chunk can end between
    # two rows of the same date (the order's second key tells them apart).
    client = Client.objects.get(code="LAURIER")
    with on("2026-02-10"):
        for _ in range(3):
            invoice = issued(client=client, lines=[line(), line("2", "12.50")])
            pay(invoice, "50.00")
    whole = export(key, golden_books)
    monkeypatch.setattr(books_module, "CHUNK", chunk)
    assert export(key, golden_books) == whole


@pytest.mark.parametrize("key", list(FORMATS))
def test_more_documents_in_a_chunk_make_no_more_queries(golden_books, key):
    with CaptureQueriesContext(connection) as before:
        first = export(key, golden_books)
    client = Client.objects.get(code="LAURIER")
    with on("2026-02-10"):
        for _ in range(4):
            issued(client=client, lines=[line(), line("2", "12.50", description="=cell")])

    with CaptureQueriesContext(connection) as after:
        grown = export(key, golden_books)

    assert grown != first  # the four invoices are in it
    assert len(after) == len(before), "a query per document or line (an N+1)"


def test_the_invoices_added_are_read_with_their_lines(golden_books):
    client = Client.objects.get(code="LAURIER")
    with on("2026-02-10"):
        made = [issued(client=client, lines=[line(), line("3", "1.25")]) for _ in range(3)]
    documents = {
        document.number: document
        for document in Books.of(golden_books["start"], golden_books["end"]).invoices()
    }

    for invoice in made:
        found = documents[invoice.number]
        assert [figure.amount for figure in found.lines] == [Decimal("100.00"), Decimal("3.75")]
        assert found.total == invoice.total
