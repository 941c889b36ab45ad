"""The outstanding spans (billing.outstanding): what each invoice had open, day by day, as the
reports read it. Their figures are checked against a computation from scratch in
reports/tests/test_figures.py; these tests pin down how the spans are stored and kept."""

import datetime
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from billing import outstanding, services
from billing.models import OPEN_MONTH, OutstandingSpan, PaymentMethod
from billing.services import post_manual_credit
from ledger.models import LedgerEntry
from settings_app.services import update_business_settings
from tests.factories import ClientFactory, issued, line, pay

pytestmark = pytest.mark.django_db
D = Decimal
JAN_15 = datetime.date(2026, 1, 15)


def at_noon(day: datetime.date):
    """Noon in Toronto, the business's time zone."""
    return time_machine.travel(datetime.datetime.combine(day, datetime.time(17), datetime.UTC))


def spans_of(invoice) -> list[tuple]:
    return list(
        OutstandingSpan.objects.filter(invoice=invoice)
        .order_by("starts")
        .values_list("month", "starts", "ends", "balance")
    )


def all_spans() -> list[tuple]:
    return sorted(OutstandingSpan.objects.values_list(*outstanding.FIELDS))


def test_an_ended_span_is_cut_at_month_ends_and_the_open_one_kept_whole(business):
    with at_noon(JAN_15):
        invoice = issued(issue_date=JAN_15, due_date=datetime.date(2026, 2, 14))
    assert invoice.total == D("113.00")
    assert spans_of(invoice) == [(OPEN_MONTH, JAN_15, None, D("113.00"))]

    with at_noon(datetime.date(2026, 3, 10)):
        pay(invoice, "13.00", when=datetime.date(2026, 3, 10))
    assert spans_of(invoice) == [
        (datetime.date(2026, 1, 1), JAN_15, datetime.date(2026, 2, 1), D("113.00")),
        (
            datetime.date(2026, 2, 1),
            datetime.date(2026, 2, 1),
            datetime.date(2026, 3, 1),
            D("113.00"),
        ),
        (
            datetime.date(2026, 3, 1),
            datetime.date(2026, 3, 1),
            datetime.date(2026, 3, 10),
            D("113.00"),
        ),
        (OPEN_MONTH, datetime.date(2026, 3, 10), None, D("100.00")),
    ]

    # Paid in full on the 1st: the last span ends on the 1st and covers March 31.
    with at_noon(datetime.date(2026, 4, 1)):
        pay(invoice, "100.00", when=datetime.date(2026, 4, 1))
    assert spans_of(invoice)[-1] == (
        datetime.date(2026, 3, 1),
        datetime.date(2026, 3, 10),
        datetime.date(2026, 4, 1),
        D("100.00"),
    )


def test_a_backdated_payment_confirmed_later_rewrites_the_past(business):
    with at_noon(JAN_15):
        invoice = issued(issue_date=JAN_15)
    with at_noon(datetime.date(2026, 2, 20)):
        payment = pay(invoice, "113.00", when=datetime.date(2026, 1, 20), confirmed=False)
        assert spans_of(invoice) == [(OPEN_MONTH, JAN_15, None, D("113.00"))]
        services.confirm_payment(payment=payment, acting_user=None)
    assert spans_of(invoice) == [
        (datetime.date(2026, 1, 1), JAN_15, datetime.date(2026, 1, 20), D("113.00"))
    ]


def test_cancelled_overpaid_and_draft_invoices_have_nothing_open(business):
    with at_noon(JAN_15):
        cancelled = issued(issue_date=datetime.date(2026, 1, 10))
        services.cancel_invoice(invoice=cancelled, acting_user=None)
        overpaid = issued(issue_date=datetime.date(2026, 1, 10))
        pay(overpaid, "500.00", when=datetime.date(2026, 1, 12))
        draft = services.create_draft(client=ClientFactory(), lines=[line()], acting_user=None)
    assert spans_of(cancelled) == [
        (datetime.date(2026, 1, 1), datetime.date(2026, 1, 10), JAN_15, D("113.00"))
    ]
    assert spans_of(overpaid) == [
        (
            datetime.date(2026, 1, 1),
            datetime.date(2026, 1, 10),
            datetime.date(2026, 1, 12),
            D("113.00"),
        )
    ]
    assert spans_of(draft) == []


def _history():
    """Every operation that changes what an invoice has open, over three months."""
    client = ClientFactory()
    with at_noon(JAN_15):
        changed = issued(client=client, issue_date=datetime.date(2026, 1, 5))
        by_credit = issued(client=client, issue_date=JAN_15)
        moved = issued(client=client)
        post_manual_credit(client=client, amount=D("50.00"), memo="Goodwill", acting_user=None)
    with at_noon(datetime.date(2026, 2, 3)):
        services.update_invoice(
            invoice=changed, acting_user=None, lines=[line(quantity="2")], due_date="2026-03-01"
        )
        services.apply_client_credit(invoice=by_credit, acting_user=None)
        services.update_invoice(invoice=moved, acting_user=None, client=ClientFactory())
        bounced = pay(changed, "100.00", when=datetime.date(2026, 1, 31))
    with at_noon(datetime.date(2026, 3, 2)):
        services.reverse_payment(payment=bounced, reason="Bounced", acting_user=None)
        pay(changed, "26.00", when=datetime.date(2026, 3, 2), method=PaymentMethod.CASH)
    return changed


def test_the_spans_written_by_the_operations_are_those_a_rebuild_gives(business):
    changed = _history()
    assert spans_of(changed) == [
        (
            datetime.date(2026, 1, 1),
            datetime.date(2026, 1, 5),
            datetime.date(2026, 1, 31),
            D("113.00"),
        ),
        (
            datetime.date(2026, 1, 1),
            datetime.date(2026, 1, 31),
            datetime.date(2026, 2, 1),
            D("13.00"),
        ),
        (
            datetime.date(2026, 2, 1),
            datetime.date(2026, 2, 1),
            datetime.date(2026, 2, 3),
            D("13.00"),
        ),
        (
            datetime.date(2026, 2, 1),
            datetime.date(2026, 2, 3),
            datetime.date(2026, 3, 1),
            D("126.00"),
        ),
        (
            datetime.date(2026, 3, 1),
            datetime.date(2026, 3, 1),
            datetime.date(2026, 3, 2),
            D("126.00"),
        ),
        (OPEN_MONTH, datetime.date(2026, 3, 2), None, D("200.00")),
    ]
    written = all_spans()
    assert outstanding.stale() == []
    assert outstanding.rebuild(batch=2) == len(written)
    assert all_spans() == written


def test_check_names_the_invoices_whose_spans_were_written_around_the_operations(business):
    changed = _history()
    count = OutstandingSpan.objects.count()
    OutstandingSpan.objects.filter(invoice=changed, month=OPEN_MONTH).update(balance=D("1.00"))
    with pytest.raises(
        CommandError, match=rf"1 invoice's outstanding spans differ .*ids: {changed.pk}\)"
    ):
        call_command("rebuild_outstanding", "--check")

    out = StringIO()
    call_command("rebuild_outstanding", stdout=out)
    assert f"Wrote {count} outstanding spans." in out.getvalue()
    out = StringIO()
    call_command("rebuild_outstanding", "--check", stdout=out)
    assert "OK" in out.getvalue()


def test_a_new_time_zone_moves_the_day_of_a_late_reversal(business):
    with at_noon(JAN_15):
        invoice = issued(issue_date=datetime.date(2026, 1, 10))
        payment = pay(invoice, "113.00", when=datetime.date(2026, 1, 12))
    # 23:30 in Toronto on January 20 is 04:30 on the 21st in UTC.
    with time_machine.travel(datetime.datetime(2026, 1, 21, 4, 30, tzinfo=datetime.UTC)):
        services.reverse_payment(payment=payment, reason="Charge-back", acting_user=None)
    assert spans_of(invoice)[-1] == (OPEN_MONTH, datetime.date(2026, 1, 20), None, D("113.00"))

    update_business_settings(acting_user=None, time_zone="UTC")
    assert spans_of(invoice)[-1] == (OPEN_MONTH, datetime.date(2026, 1, 21), None, D("113.00"))
    assert outstanding.stale() == []


@pytest.mark.django_db(transaction=True)
def test_the_migration_derives_the_spans_and_currencies_of_existing_books(migration_rows, business):
    """Back to before the spans and the ledger's currency, and forward again: the migrations
    give every invoice the spans its operations wrote, and every entry its currency."""
    _history()
    spans = all_spans()
    currencies = sorted(LedgerEntry.objects.values_list("pk", "currency"))
    assert {currency for _pk, currency in currencies} == {"CAD"}

    executor = MigrationExecutor(connection)
    executor.migrate([("billing", "0006_client_balance"), ("ledger", "0002_indexes_for_volume")])
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert all_spans() == spans
    assert sorted(LedgerEntry.objects.values_list("pk", "currency")) == currencies
