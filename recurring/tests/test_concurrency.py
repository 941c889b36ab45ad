"""Four processes run ``run_recurring`` at once against the real database (SPEC: Recurring
invoices, Scale): each occurrence exists exactly once and the invoice numbers stay gapless.
On the Galera cluster of scripts/test_galera.sh each process writes through its own node,
where locks do not block each other and the unique (schedule, date) row decides."""

import datetime

import pytest
from django.core.management import call_command

from billing.models import Invoice, InvoiceNumberCounter
from recurring.models import IntervalUnit, Occurrence
from tests.factories import ClientFactory, line
from tests.processes import run_in_processes

from .conftest import schedule_for

PROCESSES = 4
SCHEDULES = 6
pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


def _run(as_of):
    # Twice each, as a timer and a hand started at the same moment would.
    for _ in range(2):
        call_command("run_recurring", "--date", as_of)
    return True


def test_runs_started_at_once_make_each_occurrence_once_with_gapless_numbers(
    business, migration_rows
):
    clients = ClientFactory.create_batch(3)
    for n in range(SCHEDULES):
        schedule_for(
            clients[n % 3],
            datetime.date(2025, 1, 1 + n),
            name=f"Retainer {n}",
            interval_unit=IntervalUnit.WEEK if n % 2 else IntervalUnit.MONTH,
            lines=[line("1", f"{100 + n}.00", description="{period}")],
        )

    run_in_processes(_run, ["2025-03-31"] * PROCESSES, timeout=240)

    # Monthly from 1, 3, 5 January: 3 dates each to 31 March; weekly from 2, 4, 6 January:
    # 13, 13 and 13 dates.
    occurrences = Occurrence.objects.count()
    assert occurrences == 3 * 3 + 3 * 13
    assert Invoice.objects.count() == occurrences
    pairs = list(Occurrence.objects.values_list("schedule_id", "date"))
    assert len(set(pairs)) == len(pairs)
    sequences = sorted(Invoice.objects.values_list("sequence", flat=True))
    assert sequences == list(range(1, occurrences + 1))
    assert InvoiceNumberCounter.objects.get(name="invoice").last_number == occurrences
