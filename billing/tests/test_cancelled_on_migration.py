"""billing 0021 gives every cancelled invoice the day of its cancellation: the date of its
ledger entry, the business's day, which is not always the UTC date of ``cancelled_at``."""

import datetime
import zoneinfo

import pytest
import time_machine
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from billing import services
from billing.models import Invoice
from tests.factories import ClientFactory, issued, line

BEFORE = [("billing", "0020_client_contacts")]


def migrate(targets):
    MigrationExecutor(connection).migrate(targets)


def leaf():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_the_day_from_the_ledger_entry(migration_rows, business):
    # 23:30 in Toronto on 9 March is 10 March in UTC: the business's day is the 9th.
    late = datetime.datetime(2026, 3, 9, 23, 30, tzinfo=zoneinfo.ZoneInfo("America/Toronto"))
    with time_machine.travel(late, tick=False):
        invoice = issued(client=ClientFactory(), lines=[line()])
        services.cancel_invoice(invoice=invoice, acting_user=None, reason="Wrong client")
        kept = issued(client=ClientFactory(), lines=[line()])
    invoice.refresh_from_db()
    assert invoice.cancelled_at.astimezone(datetime.UTC).date() == datetime.date(2026, 3, 10)
    assert invoice.cancelled_on == datetime.date(2026, 3, 9)
    try:
        migrate(BEFORE)
        migrate(leaf())
        assert Invoice.objects.get(pk=invoice.pk).cancelled_on == datetime.date(2026, 3, 9)
        assert Invoice.objects.get(pk=kept.pk).cancelled_on is None
    finally:
        migrate(leaf())
