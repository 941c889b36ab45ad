"""The run (SPEC: Recurring invoices): each occurrence exactly once, counted from the start,
caught up after downtime, pauses skipped, ends kept, template changes reaching only the
invoices not yet made."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.management import CommandError, call_command

from billing.models import Invoice, InvoiceNumberCounter
from billing.services import delete_draft
from otb.operations import InvalidInput
from rates.models import ExchangeRate
from recurring import services
from recurring.models import IntervalUnit, IssueMode, Occurrence, Outcome, ScheduleState
from recurring.run import run_recurring
from tests.factories import ClientFactory, line

from .conftest import day, schedule_for

pytestmark = pytest.mark.django_db


def on_day(text):
    """The clock at noon in Toronto (the business's time zone) on ``text``."""
    noon = datetime.datetime.combine(day(text), datetime.time(17), tzinfo=datetime.UTC)
    return time_machine.travel(noon, tick=False)


def invoices_of(schedule):
    return list(
        Invoice.objects.filter(recurring_occurrence__schedule=schedule).order_by("issue_date")
    )


def test_the_run_makes_each_due_date_once_counted_from_the_start(maple, migration_rows):
    schedule = schedule_for(maple, "2027-01-31")

    report = run_recurring(today=day("2027-05-01"))

    invoices = invoices_of(schedule)
    assert [invoice.issue_date for invoice in invoices] == [
        day("2027-01-31"),
        day("2027-02-28"),
        day("2027-03-31"),
        day("2027-04-30"),
    ]
    assert [invoice.number for invoice in invoices] == [f"INV-{n:04d}" for n in range(1, 5)]
    assert [invoice.lines.get().description for invoice in invoices] == [
        "Hosting, January 2027",
        "Hosting, February 2027",
        "Hosting, March 2027",
        "Hosting, April 2027",
    ]
    assert {invoice.total for invoice in invoices} == {Decimal("565.00")}  # HST 13 %
    assert len(report.made) == 4 and not report.problems
    # Again, the same day and the day after: nothing more.
    assert run_recurring(today=day("2027-05-01")).made == []
    assert run_recurring(today=day("2027-05-30")).made == []
    assert len(invoices_of(schedule)) == 4
    schedule.refresh_from_db()
    assert schedule.next_date == day("2027-05-31") and schedule.next_index == 4


def test_a_pause_from_day_3_to_day_20_with_no_run_between_bills_none_of_its_dates(maple):
    schedule = schedule_for(
        maple, "2027-03-01", interval_unit=IntervalUnit.WEEK, lines=[line("1", "100.00")]
    )
    run_recurring(today=day("2027-03-01"))
    with on_day("2027-03-03"):
        services.pause_schedule(schedule=schedule, acting_user=None)
    with on_day("2027-03-20"):
        services.resume_schedule(schedule=schedule, acting_user=None)

    report = run_recurring(today=day("2027-03-22"))

    pauses = list(schedule.pauses.values_list("starts_on", "ends_on"))
    assert pauses == [(day("2027-03-03"), day("2027-03-20"))]
    outcomes = list(schedule.occurrences.values_list("date", "outcome", "invoice__issue_date"))
    assert outcomes == [
        (day("2027-03-01"), Outcome.MADE, day("2027-03-01")),
        (day("2027-03-08"), Outcome.SKIPPED_PAUSED, None),
        (day("2027-03-15"), Outcome.SKIPPED_PAUSED, None),
        (day("2027-03-22"), Outcome.MADE, day("2027-03-22")),
    ]
    assert len(report.skipped) == 2 and len(report.made) == 1


def test_dates_in_a_pause_are_skipped_while_it_lasts_and_never_billed_later(maple):
    schedule = schedule_for(maple, "2027-01-15")
    services.pause_schedule(schedule=schedule, acting_user=None, starts_on="2027-02-01")
    run_recurring(today=day("2027-04-20"))
    assert list(schedule.occurrences.values_list("outcome", flat=True)) == [
        Outcome.MADE,
        Outcome.SKIPPED_PAUSED,
        Outcome.SKIPPED_PAUSED,
        Outcome.SKIPPED_PAUSED,
    ]
    with on_day("2027-04-21"):
        services.resume_schedule(schedule=schedule, acting_user=None)
    run_recurring(today=day("2027-05-15"))
    assert [invoice.issue_date for invoice in invoices_of(schedule)] == [
        day("2027-01-15"),
        day("2027-05-15"),
    ]


def test_start_interval_and_day_rule_are_fixed_once_a_date_is_recorded(maple):
    schedule = schedule_for(maple, "2027-01-10")
    # Before: they may change, and the dates follow.
    services.update_schedule(schedule=schedule, acting_user=None, start_date="2027-01-12")
    schedule.refresh_from_db()
    assert schedule.next_date == day("2027-01-12")
    run_recurring(today=day("2027-01-12"))
    for field, value in [
        ("start_date", "2027-01-20"),
        ("interval_count", 2),
        ("interval_unit", IntervalUnit.WEEK),
        ("day_rule", "last_day"),
    ]:
        with pytest.raises(InvalidInput) as refused:
            services.update_schedule(schedule=schedule, acting_user=None, **{field: value})
        assert refused.value.field == field
        assert "end it and start a new one" in refused.value.message
    # What is not fixed still changes.
    services.update_schedule(schedule=schedule, acting_user=None, name="Hosting, gold")


def test_after_a_gap_of_months_the_run_catches_up_a_set_number_at_a_time(maple):
    schedule = schedule_for(maple, "2027-01-05")

    first = run_recurring(today=day("2027-09-06"), catch_up=3)

    assert len(invoices_of(schedule)) == 3
    assert len(first.warnings) == 1 and "6 more date(s) are due" in first.warnings[0]
    run_recurring(today=day("2027-09-06"), catch_up=3)
    last = run_recurring(today=day("2027-09-06"), catch_up=3)
    assert not last.warnings
    assert [invoice.issue_date.month for invoice in invoices_of(schedule)] == list(range(1, 10))
    assert InvoiceNumberCounter.objects.get(name="invoice").last_number == 9


def test_a_schedule_ends_after_n_invoices(maple):
    schedule = schedule_for(maple, "2027-01-01", end_kind="after", end_after=3)
    report = run_recurring(today=day("2027-12-31"))
    assert len(invoices_of(schedule)) == 3
    schedule.refresh_from_db()
    assert schedule.state == ScheduleState.ENDED
    assert "3 invoices" in schedule.end_reason and report.ended


def test_a_schedule_ends_on_its_date(maple):
    schedule = schedule_for(maple, "2027-01-31", end_kind="on_date", end_date="2027-03-31")
    run_recurring(today=day("2027-06-30"))
    assert len(invoices_of(schedule)) == 3
    schedule.refresh_from_db()
    assert schedule.state == ScheduleState.ENDED


def test_changing_the_template_changes_only_invoices_not_yet_made(maple):
    schedule = schedule_for(maple, "2027-01-01")
    run_recurring(today=day("2027-01-01"))
    services.update_schedule(
        schedule=schedule, acting_user=None, lines=[line("2", "300.00", description="Support")]
    )
    run_recurring(today=day("2027-02-01"))
    january, february = invoices_of(schedule)
    assert january.subtotal == Decimal("500.00")
    assert list(january.lines.values_list("description", flat=True)) == ["Hosting, January 2027"]
    assert february.subtotal == Decimal("600.00")


def test_a_review_draft_that_was_deleted_is_not_made_again(maple):
    schedule = schedule_for(maple, "2027-01-01", issue_mode=IssueMode.DRAFT)
    run_recurring(today=day("2027-01-01"))
    (draft,) = invoices_of(schedule)
    assert draft.is_draft and draft.issue_date == day("2027-01-01")
    delete_draft(invoice=draft, acting_user=None)

    run_recurring(today=day("2027-01-20"))

    occurrence = Occurrence.objects.get(schedule=schedule)
    assert occurrence.draft_deleted
    assert not Invoice.objects.exists()


def test_no_rate_for_its_date_leaves_a_draft_and_the_run_goes_on(maple):
    ExchangeRate.objects.filter(currency="USD").delete()
    dollars = schedule_for(maple, "2027-01-01", currency="USD", name="US hosting")
    other = schedule_for(ClientFactory(), "2027-01-01")

    report = run_recurring(today=day("2027-01-01"))

    occurrence = Occurrence.objects.get(schedule=dollars)
    assert occurrence.outcome == Outcome.HELD and occurrence.invoice.is_draft
    assert "USD" in occurrence.note and report.held
    assert invoices_of(other)[0].number == "INV-0001"
    # The draft stays to be issued by hand once the rate is in; the run never makes another.
    run_recurring(today=day("2027-01-15"))
    assert Occurrence.objects.filter(schedule=dollars).count() == 1


def test_a_crash_between_two_invoices_leaves_no_half_made_one(maple, monkeypatch):
    """The run records a batch of schedules in one transaction: a crash in it (the process
    killed after an invoice took its number) leaves nothing of that batch, the batches
    before it whole, and the next run finishes the job with gapless numbers."""
    from recurring import run

    monkeypatch.setattr(run, "BATCH_SCHEDULES", 1)
    first = schedule_for(maple, "2027-01-01", name="First")
    second = schedule_for(ClientFactory(), "2027-01-01", name="Second")
    from billing import accounting

    real_issue = accounting.issue_in_bulk
    calls = []

    def crash_on_second_batch(invoices, **kwargs):
        calls.append(invoices)
        real_issue(invoices, **kwargs)
        if len(calls) == 2:
            raise SystemExit("killed")  # the process dies after the numbers were taken

    monkeypatch.setattr(accounting, "issue_in_bulk", crash_on_second_batch)
    with pytest.raises(SystemExit):
        run_recurring(today=day("2027-03-01"))

    # The first schedule's batch (three invoices) committed; the second's left nothing.
    assert [invoice.number for invoice in invoices_of(first)] == [
        "INV-0001",
        "INV-0002",
        "INV-0003",
    ]
    assert [invoice.number for invoice in calls[1]] == ["INV-0004", "INV-0005", "INV-0006"]
    assert not invoices_of(second) and not second.occurrences.exists()
    assert Invoice.objects.count() == 3
    assert InvoiceNumberCounter.objects.get(name="invoice").last_number == 3
    monkeypatch.setattr(accounting, "issue_in_bulk", real_issue)

    run_recurring(today=day("2027-03-01"))
    assert [invoice.number for invoice in invoices_of(second)] == [
        "INV-0004",
        "INV-0005",
        "INV-0006",
    ]
    assert len(invoices_of(first)) == 3


def test_the_command_prints_what_it_made_and_a_dry_run_makes_nothing(maple, capsys):
    schedule_for(maple, "2025-01-31")
    call_command("run_recurring", "--date", "2025-03-01", "--dry-run")
    out = capsys.readouterr().out
    assert "dry run" in out
    assert "would issue an invoice dated 2025-01-31" in out
    assert "would issue an invoice dated 2025-02-28" in out
    assert not Invoice.objects.exists()

    call_command("run_recurring", "--date", "2025-03-01")
    out = capsys.readouterr().out
    assert "INV-0001 dated 2025-01-31" in out and "INV-0002 dated 2025-02-28" in out
    call_command("run_recurring", "--date", "2025-03-01")
    assert "Nothing was due." in capsys.readouterr().out


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--date", "31/01/2027"], "--date: “31/01/2027” is not a date"),
        (["--date", "2999-01-01"], "is after today"),
        (["--catch-up", "0"], "--catch-up"),
    ],
)
def test_the_command_refuses_bad_arguments_by_name(business, arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("run_recurring", *arguments)


def test_a_batch_that_made_its_budget_leaves_the_rest_to_the_next_batch(maple, monkeypatch):
    """A transaction makes at most BATCH_INVOICES invoices (the counter is held for it); the
    run goes on with what is left, in the same run, within each schedule's catch-up."""
    from recurring import run

    monkeypatch.setattr(run, "BATCH_INVOICES", 2)
    first = schedule_for(maple, "2027-01-01", name="First")
    second = schedule_for(ClientFactory(), "2027-01-01", name="Second")

    report = run_recurring(today=day("2027-05-01"), catch_up=4)

    assert len(invoices_of(first)) == 4 and len(invoices_of(second)) == 4
    assert len(report.warnings) == 2  # each has May still due: its catch-up of 4 is spent
    sequences = sorted(Invoice.objects.values_list("sequence", flat=True))
    assert sequences == list(range(1, 9))


def test_a_dry_run_warns_of_a_schedule_behind_counting_only_invoices(maple):
    schedule = schedule_for(maple, "2027-01-05")
    services.pause_schedule(schedule=schedule, acting_user=None, starts_on="2027-04-01")

    report = run_recurring(today=day("2027-06-06"), dry_run=True, catch_up=2)

    # January to March billed (two now, one behind), April to June skipped, never counted.
    assert len(report.made) == 2 and not Invoice.objects.exists()
    assert report.warnings == [
        f"“Hosting” ({maple.code}) is behind: 1 more date(s) are due; each run makes up to 2 "
        "(OTB_RECURRING_CATCH_UP, or --catch-up)."
    ]
