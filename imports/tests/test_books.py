"""Imported opening balances in the books: the exports post them against the opening
balances account, hledger checks the journal, and its balances equal the reports."""

import datetime
from decimal import Decimal

import pytest

from exports.books import Books
from exports.formats import iif, journal
from exports.reconcile import compare
from imports.kinds import CLIENTS
from imports.reading import read_table
from imports.services import run_import, suggested_mapping
from settings_app.selectors import business_today
from tests.factories import issued, line, pay

pytestmark = pytest.mark.django_db

FILE = (
    "code,name,country,currency,opening_balance\nACME,Acme,CA,CAD,1250.50\nBETA,Beta,US,USD,-20\n"
)


@pytest.fixture
def imported(business, administrator):
    table = read_table(FILE.encode())
    mapping, _source = suggested_mapping(CLIENTS, table.headers)
    cut_over = business_today() - datetime.timedelta(days=10)
    outcome = run_import(
        kind=CLIENTS,
        table=table,
        mapping=mapping,
        acting_user=administrator,
        cut_over=cut_over,
        commit=True,
    )
    assert outcome.written
    invoice = issued(lines=[line("2", "100.00")], client=None)
    pay(invoice, "50.00")
    return cut_over


def test_the_journal_opens_the_imported_accounts_and_equals_the_reports(imported):
    today = business_today()
    books = Books.of(imported, today)
    text = b"".join(journal.write(books)).decode()
    assert "    equity:opening balances" in text
    assert "1250.50 CAD" in text and "20.00 USD" in text
    assert compare(books, today=today) == []
    # A range after the cut-over opens with them, as with any balance owed before it.
    later = Books.of(imported + datetime.timedelta(days=1), today)
    assert compare(later, today=today) == []


def test_the_iif_posts_them_against_opening_balances_each_summing_to_zero(imported):
    books = Books.of(imported, business_today())
    rows = b"".join(iif.write(books)).decode().split("\r\n")
    assert "ACCNT\tOpening balances\tEQUITY" in rows
    blocks, block = [], []
    for row in rows:
        if row.startswith(("TRNS", "SPL")):
            block.append(row.split("\t"))
        elif row == "ENDTRNS":
            blocks.append(block)
            block = []
    opening = [b for b in blocks if any("Opening balances" in cell for cell in b[0] + b[1])]
    assert len(opening) == 2
    for found in opening:
        header = rows[[r.startswith("!TRNS") for r in rows].index(True)].split("\t")
        amount = header.index("AMOUNT")
        assert sum(Decimal(r[amount]) for r in found) == 0
