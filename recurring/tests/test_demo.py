"""The demo's schedules (``recurring/demo.py``): the seed makes them and bills nothing; the
quick start's ``run_recurring`` then makes their invoices, each once (issue 20's "done
when"), and shows every kind of schedule."""

import datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from billing.models import Invoice, InvoiceStatus
from recurring.models import Occurrence, Outcome, Schedule, ScheduleState

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 3, 10)


@pytest.fixture(autouse=True)
def site_address(settings):
    """As the quick start sets it: the demo's retainer is e-mailed, with links."""
    settings.OTB_BASE_URL = "http://127.0.0.1:5050"


@pytest.fixture(autouse=True)
def noon_in_toronto(business):
    at = datetime.datetime.combine(TODAY, datetime.time(17, 0), datetime.UTC)
    with time_machine.travel(at):
        yield


def run(command: str) -> str:
    out = StringIO()
    call_command(command, stdout=out)
    return out.getvalue()


def occurrences(client_code: str):
    return Occurrence.objects.filter(schedule__client__code=client_code).order_by("index")


def test_the_seed_makes_the_schedules_and_bills_nothing_yet():
    summary = run("seed_demo")

    assert "5 recurring schedules." in summary
    assert Schedule.objects.count() == 5
    assert not Occurrence.objects.exists()


def test_the_quick_starts_run_makes_the_retainers_invoices_once_each_gapless():
    run("seed_demo")

    first = run("run_recurring")
    invoices_after_first = set(Invoice.objects.values_list("pk", "number"))
    second = run("run_recurring")

    retainer = list(occurrences("MAPLE").select_related("invoice"))
    assert [(o.date, o.outcome) for o in retainer] == [
        (datetime.date(2025, 12, 1), Outcome.MADE),
        (datetime.date(2026, 1, 1), Outcome.MADE),
        (datetime.date(2026, 2, 1), Outcome.MADE),
        (datetime.date(2026, 3, 1), Outcome.MADE),
    ]
    for occurrence in retainer:
        assert occurrence.invoice.issue_date == occurrence.date
        assert occurrence.invoice.status != InvoiceStatus.DRAFT
    assert [o.invoice.lines.order_by("position")[0].description for o in retainer] == [
        "On-call maintenance retainer, December 2025",
        "On-call maintenance retainer, January 2026",
        "On-call maintenance retainer, February 2026",
        "On-call maintenance retainer, March 2026",
    ]
    assert all(o.invoice.number in first for o in retainer)
    # E-mailed to Maple, each with its own link (the quick start's mail sink keeps them).
    from outbox.models import Message, MessageKind

    sent = Message.objects.filter(kind=MessageKind.INVOICE, invoice__client__code="MAPLE")
    assert sorted(m.invoice_id for m in sent) == sorted(o.invoice_id for o in retainer)
    assert all("http://127.0.0.1:5050/i/" in m.secret_link for m in sent)
    # Every issued invoice, the demo's and the schedules', numbered without a gap.
    sequences = sorted(Invoice.objects.exclude(sequence=None).values_list("sequence", flat=True))
    assert sequences == list(range(1, len(sequences) + 1))
    # The second run makes nothing.
    assert "Nothing was due." in second
    assert set(Invoice.objects.values_list("pk", "number")) == invoices_after_first


def test_the_demo_shows_drafts_to_review_a_pause_an_end_and_a_foreign_currency():
    run("seed_demo")

    run("run_recurring")

    [quarterly] = occurrences("HARBOUR")
    assert quarterly.outcome == Outcome.MADE
    assert quarterly.invoice.status == InvoiceStatus.DRAFT
    assert quarterly.invoice.issue_date == datetime.date(2026, 2, 1)
    description = quarterly.invoice.lines.order_by("position")[0].description
    assert description == "Quarterly inspection, Feb 1, 2026 – Apr 30, 2026"
    paused = occurrences("SUMMIT")
    assert paused[0].schedule.state == ScheduleState.PAUSED
    assert [o.outcome for o in paused] == [
        Outcome.MADE,
        Outcome.MADE,
        Outcome.SKIPPED_PAUSED,
        Outcome.SKIPPED_PAUSED,
    ]
    instalments = occurrences("CEDARLANE")
    assert [o.outcome for o in instalments] == [Outcome.MADE] * 3
    assert instalments[0].schedule.state == ScheduleState.ENDED
    [euros] = occurrences("RHEINWERK")
    assert euros.invoice.currency == "EUR" and euros.invoice.number
    assert euros.invoice.exchange_rate > 0 and euros.invoice.tax_total == 0
