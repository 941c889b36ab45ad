"""The journal's balances equal the reports (SPEC: Exports and imports), added up by the real
hledger, which also checks it: on the golden books, on a range that starts after the books
do (opening balances), on the demo books, and on random books (hypothesis)."""

import datetime
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from billing import services
from billing.models import CreditNote, Invoice, Payment, Refund
from exports.books import Books
from exports.formats import journal
from exports.reconcile import compare, report_figures
from ledger.models import LedgerEntry
from settings_app.selectors import business_today

from .conftest import TORONTO
from .random_books import BOOKS, play

D = Decimal


def test_the_golden_journal_equals_the_reports(golden_books):
    books = Books.of(golden_books["start"], golden_books["end"])
    assert compare(books, today=datetime.date(2026, 12, 31)) == []
    # The figures compared are the ones worked out by hand (golden/BOOKS.md).
    figures = report_figures(books, today=datetime.date(2026, 12, 31))
    assert figures == {
        "income:services": {"CAD": D("-931.00"), "USD": D("-1000.00")},
        "liabilities:tax:gst": {"CAD": D("-46.55")},
        "liabilities:tax:qst": {"CAD": D("-92.87")},
        "income:exchange differences": {"CAD": D("-50.00")},
    }


@pytest.mark.parametrize(
    "start,end",
    [
        # Opening balances: INV-0001 is owed when February starts, less the payment
        # reversed; the cancellation falls in a range that holds no invoice of its own.
        ("2026-02-01", "2026-03-31"),
        ("2026-01-15", "2026-02-07"),
        ("2026-03-05", "2026-03-31"),
    ],
)
def test_a_range_after_the_books_start_opens_with_what_clients_owed(golden_books, start, end):
    books = Books.of(datetime.date.fromisoformat(start), datetime.date.fromisoformat(end))
    assert compare(books, today=datetime.date(2026, 12, 31)) == []


def test_a_range_opens_with_each_client_s_receivable(golden_books):
    books = Books.of(datetime.date(2026, 1, 15), datetime.date(2026, 3, 31))
    openings = books.openings()
    assert [(o.client_code, o.currency, str(o.receivable)) for o in openings] == [
        ("LAURIER", "CAD", "1119.57")
    ]
    # Written to the cent (SQLite adds decimals as floats: 1119.57000000000 before).
    journal_text = b"".join(journal.write(books)).decode()
    assert "\n2026-01-15 * Golden Test Works | What clients owed at the start of" in journal_text
    assert "    assets:receivable:LAURIER" + " " * 32 + "1119.57 CAD\n" in journal_text
    assert "    equity:opening balances" + " " * 33 + "-1119.57 CAD\n" in journal_text


def test_the_demo_books_journal_equals_the_reports(db):
    call_command("seed_demo", stdout=StringIO())
    today = business_today()
    first = Invoice.objects.exclude(issue_date=None).order_by("issue_date").first().issue_date
    books = Books.of(first.replace(month=1, day=1), today)
    assert compare(books, today=today) == []
    # And a range that starts halfway, with opening balances.
    half = first + (today - first) / 2
    assert compare(Books.of(half, today), today=today) == []


# --- Random books ---------------------------------------------------------------------------
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    steps=BOOKS,
    cut=st.integers(0, 13),
    span=st.integers(0, 13),
)
def test_random_books_export_to_a_journal_that_balances_and_equals_the_reports(
    db, steps, cut, span
):
    # Each example in a transaction of its own, rolled back: the next starts from nothing.
    with transaction.atomic():
        days = play(steps)
        for model, what in ((Invoice, "invoices"), (Payment, "payments")):
            event(f"{what}: {min(model.objects.count(), 3)}+")
        event(f"cancelled: {Invoice.objects.exclude(cancelled_on=None).count() > 0}")
        event(f"credit notes: {CreditNote.objects.count() > 0}")
        manual = LedgerEntry.objects.filter(kind__startswith="manual").exists()
        event(f"manual or refund: {manual or Refund.objects.exists()}")
        start = days[min(cut, len(days) - 1)]
        end = days[min(cut + span, len(days) - 1)]
        # hledger checks the journal (every transaction balances in each currency, every
        # account declared, dates in order) and adds it up.
        assert compare(Books.of(start, end), today=datetime.date(2026, 12, 31)) == []
        assert compare(Books.of(days[0], days[-1]), today=datetime.date(2026, 12, 31)) == []
        transaction.set_rollback(True)


def test_the_check_command_says_ok_when_the_journal_equals_the_reports(golden_books):
    out = StringIO()
    call_command("check_books_export", "--start", "2026-01-01", "--end", "2026-03-31", stdout=out)
    assert "OK: hledger checked the journal of 2026-01-01 to 2026-03-31" in out.getvalue()


def test_the_check_command_names_a_bad_date(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--end: End date: must be on or after"):
        call_command("check_books_export", "--start", "2026-03-01", "--end", "2026-01-01")


def test_the_check_command_names_the_figures_that_differ(golden_books):
    """An invoice changed after the range counts with its figures now in the journal (as in
    the reports), while the ledger at the end date still holds its old total: the command
    names that difference (the README says so)."""
    from django.core.management.base import CommandError

    home = Invoice.objects.get(number="INV-0003").client
    with time_machine.travel(datetime.datetime(2026, 4, 1, 12, tzinfo=TORONTO), tick=False):
        invoice = services.issue_invoice(
            invoice=services.create_draft(
                client=home,
                acting_user=None,
                lines=[services.LineData(description="Work", quantity=D(1), unit_price=D(10))],
            ),
            acting_user=None,
        )
    with time_machine.travel(datetime.datetime(2026, 4, 2, 12, tzinfo=TORONTO), tick=False):
        services.update_invoice(
            invoice=invoice,
            acting_user=None,
            lines=[services.LineData(description="Work", quantity=D(2), unit_price=D(10))],
        )
    out = StringIO()
    with pytest.raises(CommandError, match="differ from the reports"):
        call_command(
            "check_books_export", "--start", "2026-04-01", "--end", "2026-04-01", stdout=out
        )
    assert out.getvalue() == (
        "assets:receivable in CAD: the journal says 21.00, the reports 10.50\n"
    )
