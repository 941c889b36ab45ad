"""The QuickBooks Desktop export (IIF): the golden books to the byte, every transaction adding
up to zero (on the golden books and on random books), the receivable moving as the ledger
does, and the cells a spreadsheet would run kept as text."""

import datetime
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from billing import services
from exports.books import Books
from exports.formats import FORMATS, iif
from exports.writing import text
from ledger.models import LedgerEntry
from settings_app.selectors import business_today, get_business_settings
from tests.factories import ClientFactory, issued, line, pay

from .random_books import BOOKS, play

D = Decimal
GOLDEN = "exports/tests/golden/golden.iif"
HEADERS = (
    "!TRNS\tTRNSTYPE\tDATE\tACCNT\tNAME\tAMOUNT\tDOCNUM\tMEMO\tTOPRINT\tDUEDATE\r\n"
    "!SPL\tTRNSTYPE\tDATE\tACCNT\tNAME\tAMOUNT\tDOCNUM\tMEMO\tQNTY\tPRICE\tINVITEM\tTAXABLE\r\n"
    "!ENDTRNS\r\n"
)


def export(start, end) -> bytes:
    return b"".join(iif.write(Books.of(start, end)))


def transactions(content: bytes) -> list[list[dict[str, str]]]:
    """The file's transactions, each its TRNS row then its SPL rows, as {column: cell}.
    Every row has as many cells as its header names (``strict``)."""
    columns: dict[str, list[str]] = {}
    found: list[list[dict[str, str]]] = []
    current: list[dict[str, str]] | None = None
    text_ = content.decode()
    assert text_.endswith("\r\n") and "\n" not in text_.replace("\r\n", "")
    for row in text_.split("\r\n")[:-1]:
        keyword, *cells = row.split("\t")
        if keyword.startswith("!"):
            columns[keyword[1:]] = cells
            continue
        if keyword in ("ACCNT", "CUST"):
            assert len(cells) == len(columns[keyword])
            continue
        if keyword == "TRNS":
            assert current is None
            current = [dict(zip(columns["TRNS"], cells, strict=True))]
        elif keyword == "SPL":
            assert current is not None
            current.append(dict(zip(columns["SPL"], cells, strict=True)))
        else:
            assert keyword == "ENDTRNS" and current is not None and len(current) > 1
            found.append(current)
            current = None
    assert current is None
    return found


def assert_every_transaction_adds_up_to_zero(content: bytes) -> None:
    for rows in transactions(content):
        assert sum(D(row["AMOUNT"]) for row in rows) == 0, rows


def test_the_golden_books_export_to_the_golden_file(golden_books):
    with open(GOLDEN, "rb") as golden:
        expected = golden.read()
    assert export(golden_books["start"], golden_books["end"]) == expected


def test_every_golden_transaction_adds_up_to_zero(golden_books):
    content = export(golden_books["start"], golden_books["end"])
    assert_every_transaction_adds_up_to_zero(content)
    kinds = [rows[0]["TRNSTYPE"] for rows in transactions(content)]
    assert kinds == [
        "INVOICE",
        "PAYMENT",
        "GENERAL JOURNAL",
        "INVOICE",
        "CREDIT MEMO",
        "PAYMENT",
        "PAYMENT",
        "INVOICE",
        "CREDIT MEMO",
    ]


def test_the_same_books_give_the_same_bytes(golden_books):
    first = export(golden_books["start"], golden_books["end"])
    assert export(golden_books["start"], golden_books["end"]) == first
    assert FORMATS["iif"].write is iif.write


def test_a_range_without_anything_is_the_transaction_headers_alone(golden_books):
    assert export(datetime.date(2027, 1, 1), datetime.date(2027, 12, 31)) == HEADERS.encode()


def test_a_range_declares_only_its_own_taxes_and_clients(golden_books):
    # February: INV-0002 (BRAVO, no tax), CN-0001 (LAURIER, GST and QST), two payments.
    content = export(datetime.date(2026, 2, 1), datetime.date(2026, 2, 28)).decode()
    accounts = [row.split("\t")[1] for row in content.split("\r\n") if row.startswith("ACCNT")]
    # QuickBooks' names: the settings' without their first part; a foreign currency's
    # receivable and bank of their own; a sub-account's parent first.
    assert accounts == [
        "Receivable",
        "Receivable USD",
        "Services",
        "Tax",
        "Tax:GST",
        "Tax:QST",
        "Bank",
        "Bank USD",
        "Adjustments",
        "Opening balances",
    ]
    customers = [row.split("\t")[1] for row in content.split("\r\n") if row.startswith("CUST")]
    assert customers == ["Bravo Media LLC", "Atelier Laurier inc."]


def test_text_cells_are_one_line_and_kept_as_text_and_numbers_are_not(business):
    client = ClientFactory(
        code="EVIL",
        name="=SUM(A1:A2)",
        address="1\n2\n3\n4\n5\n6 Main\tStreet",
        contact_person="-Bob",
        phone="+1 555 0100",
    )
    invoice = issued(
        client=client,
        lines=[line(quantity="2", unit_price="50.00", description="@two\tlines\r\nhere")],
        notes="+ call first",
    )
    services.cancel_invoice(invoice=invoice, acting_user=None, reason="-oops")
    today = business_today()
    content = export(today, today)
    rows = content.decode().split("\r\n")
    customer = next(row for row in rows if row.startswith("CUST\t")).split("\t")
    # ":" would name a job; the fifth address line holds the rest.
    assert customer[1:] == [
        "'=SUM(A1-A2)",
        "1",
        "2",
        "3",
        "4",
        "5, 6 Main Street",
        "'-Bob",
        "'+1 555 0100",
        "evil@example.com",
    ]
    invoice_rows, cancellation_rows = transactions(content)
    assert invoice_rows[0]["NAME"] == "'=SUM(A1-A2)"
    assert invoice_rows[0]["MEMO"] == "'+ call first"
    assert invoice_rows[1]["MEMO"] == "'@two lines here"
    assert invoice_rows[1]["AMOUNT"] == "-100.00"  # a number: never neutralised
    assert invoice_rows[1]["QNTY"] == "-2.000"
    assert invoice_rows[2]["AMOUNT"] == "-13.00"  # HST 13 %
    assert cancellation_rows[0]["AMOUNT"] == "-113.00"
    assert cancellation_rows[0]["MEMO"] == f"Invoice {invoice.number} cancelled: -oops"
    assert_every_transaction_adds_up_to_zero(content)


def test_payments_refunds_and_manual_entries_post_against_the_receivable(business):
    client = ClientFactory(code="ACME", name="Acme")
    invoice = issued(client=client, lines=[line(quantity="1", unit_price="100.00")])
    payment = pay(invoice, "150.00")  # 37.00 beyond the total: client credit
    refund = services.record_refund(
        client=client,
        amount=D("20.00"),
        date=business_today(),
        method="cheque",
        reference="R-1",
        acting_user=None,
    )
    services.reverse_refund(refund=refund, reason="Not cashed", acting_user=None)
    services.post_manual_credit(client=client, amount="5.00", memo="Goodwill", acting_user=None)
    services.post_manual_debit(client=client, amount="2.50", memo="Fee", acting_user=None)
    services.reverse_payment(payment=payment, reason="Bounced", acting_user=None)
    today = business_today()
    found = [
        [(row["TRNSTYPE"], row["ACCNT"], row["AMOUNT"], row["NAME"]) for row in rows]
        for rows in transactions(export(today, today))[1:]
    ]
    assert found == [
        [
            ("PAYMENT", "Bank", "150.00", "Acme"),
            ("PAYMENT", "Receivable", "-150.00", "Acme"),
        ],
        [
            ("GENERAL JOURNAL", "Bank", "-20.00", "Acme"),
            ("GENERAL JOURNAL", "Receivable", "20.00", "Acme"),
        ],
        [
            ("GENERAL JOURNAL", "Bank", "20.00", "Acme"),
            ("GENERAL JOURNAL", "Receivable", "-20.00", "Acme"),
        ],
        [
            ("GENERAL JOURNAL", "Adjustments", "5.00", "Acme"),
            ("GENERAL JOURNAL", "Receivable", "-5.00", "Acme"),
        ],
        [
            ("GENERAL JOURNAL", "Adjustments", "-2.50", "Acme"),
            ("GENERAL JOURNAL", "Receivable", "2.50", "Acme"),
        ],
        [
            ("GENERAL JOURNAL", "Bank", "-150.00", "Acme"),
            ("GENERAL JOURNAL", "Receivable", "150.00", "Acme"),
        ],
    ]


def test_the_accounts_are_the_settings_ones(golden_books):
    settings_row = get_business_settings()
    settings_row.account_receivable = "Accounts Receivable"
    settings_row.account_money_received = "Undeposited Funds"
    settings_row.account_tax = "Sales Tax Payable"
    settings_row.save()
    content = export(datetime.date(2026, 1, 20), datetime.date(2026, 1, 20)).decode()
    assert "ACCNT\tAccounts Receivable\tAR\r\n" in content
    assert "ACCNT\tSales Tax Payable:gst\tOCLIAB\r\n" not in content  # no document that day
    assert "TRNS\tPAYMENT\t01/20/2026\tUndeposited Funds\tAtelier Laurier inc.\t500.00" in content


# --- Random books ---------------------------------------------------------------------------
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(steps=BOOKS, cut=st.integers(0, 4))
def test_random_books_export_to_transactions_that_add_up_and_move_the_receivable_as_the_ledger(
    db, steps, cut
):
    # Each example in a transaction of its own, rolled back: the next starts from nothing.
    with transaction.atomic():
        days = play(steps)
        start, end = days[min(cut, len(days) - 1)], days[-1]
        books = Books.of(start, end)
        content = b"".join(iif.write(books))
        for kind in ("INVOICE", "CREDIT MEMO", "PAYMENT", "GENERAL JOURNAL"):
            event(f"{kind}: {f'{chr(10)}TRNS{chr(9)}{kind}{chr(9)}'.encode() in content}")
        assert_every_transaction_adds_up_to_zero(content)
        assert len(transactions(content)) == books.count()
        # The receivable of each client moves as its ledger does in the range (no invoice
        # is changed after its issue here, so the two agree to the cent).
        receivable: dict[str, Decimal] = defaultdict(Decimal)
        for rows in transactions(content):
            for row in rows:
                if row["ACCNT"].startswith("Receivable"):
                    receivable[row["NAME"]] += D(row["AMOUNT"])
        ledger: dict[str, Decimal] = defaultdict(Decimal)
        for entry in LedgerEntry.objects.filter(date__gte=start, date__lte=end).select_related(
            "client"
        ):
            ledger[text(entry.client.name.replace(":", "-"))] -= entry.amount
        assert {k: v for k, v in receivable.items() if v} == {k: v for k, v in ledger.items() if v}
        transaction.set_rollback(True)


@pytest.mark.parametrize("name", ["Acme: West", "A:B:C"])
def test_a_colon_in_a_client_s_name_never_makes_a_job(business, name):
    client = ClientFactory(name=name)
    issued(client=client)
    today = business_today()
    (rows,) = transactions(export(today, today))
    assert ":" not in rows[0]["NAME"]
