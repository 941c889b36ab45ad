"""Bad input to the schedule operations: each refusal names its field, and nothing is made
or changed (SPEC: Bad input)."""

import pytest

from billing.errors import InvalidTransition
from otb.operations import InvalidInput
from recurring import services
from recurring.models import Pause, Schedule, ScheduleState
from recurring.run import run_recurring
from tests.factories import ClientFactory, line

from .conftest import day, schedule_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"name": "  "}, "name", "give the schedule a name"),
        ({"name": "x" * 201}, "name", "at most 200"),
        ({"start_date": ""}, "start_date", "required"),
        ({"start_date": "2027-02-30"}, "start_date", "is not a date"),
        ({"interval_count": 0}, "interval_count", "from 1 to 120"),
        ({"interval_count": "often"}, "interval_count", "from 1 to 120"),
        ({"interval_count": 121}, "interval_count", "from 1 to 120"),
        ({"interval_unit": "day"}, "interval_unit", "is not one of"),
        ({"day_rule": "first"}, "day_rule", "is not one of"),
        ({"day_rule": "last_day", "interval_unit": "week"}, "day_rule", "weekday"),
        ({"day_rule": "last_day", "start_date": "2027-02-15"}, "start_date", "Feb 28, 2027"),
        ({"end_kind": "after"}, "end_after", "how many invoices"),
        ({"end_kind": "after", "end_after": -2}, "end_after", "whole number"),
        ({"end_kind": "on_date"}, "end_date", "give the date"),
        ({"end_kind": "on_date", "end_date": "2026-12-31"}, "end_date", "before the start"),
        ({"end_kind": "sometime"}, "end_kind", "is not one of"),
        ({"issue_mode": "maybe"}, "issue_mode", "is not one of"),
        ({"currency": "XYZ"}, "currency", "XYZ"),
        ({"lines": [line("-1", "10.00")]}, "lines.0.quantity", "Line 1"),
        ({"lines": []}, "lines", "at least one line"),
        ({"lines": [line("0", "10.00")]}, "lines", "at least one line"),
        ({"discount_kind": "fixed", "discount_value": "900.00"}, "discount_value", "subtotal"),
        ({"discount_kind": "percent", "discount_value": "140"}, "discount_value", "100"),
    ],
)
def test_a_bad_schedule_is_refused_by_field_and_nothing_is_made(maple, changes, field, words):
    with pytest.raises(InvalidInput) as refused:
        schedule_for(maple, changes.pop("start_date", "2027-01-31"), **changes)
    assert refused.value.field == field
    assert words in refused.value.message
    assert not Schedule.objects.exists()


def test_an_inactive_client_gets_no_schedule(business):
    client = ClientFactory(is_active=False)
    with pytest.raises(InvalidInput) as refused:
        schedule_for(client, "2027-01-01")
    assert refused.value.field == "client" and not Schedule.objects.exists()


def test_a_pause_cannot_reach_back_over_a_recorded_date(maple):
    schedule = schedule_for(maple, "2027-01-10")
    run_recurring(today=day("2027-02-10"))
    with pytest.raises(InvalidInput) as refused:
        services.pause_schedule(schedule=schedule, acting_user=None, starts_on="2027-02-10")
    assert refused.value.field == "starts_on"
    assert not Pause.objects.exists()
    services.pause_schedule(schedule=schedule, acting_user=None, starts_on="2027-02-11")
    with pytest.raises(InvalidTransition):
        services.pause_schedule(schedule=schedule, acting_user=None, starts_on="2027-03-01")
    with pytest.raises(InvalidInput) as refused:
        services.resume_schedule(schedule=schedule, acting_user=None, ends_on="2027-02-01")
    assert refused.value.field == "ends_on"
    schedule.refresh_from_db()
    assert schedule.state == ScheduleState.PAUSED


def test_an_active_schedule_is_not_resumed_and_an_ended_one_never_changes(maple):
    schedule = schedule_for(maple, "2027-01-10")
    with pytest.raises(InvalidTransition):
        services.resume_schedule(schedule=schedule, acting_user=None)
    services.end_schedule(schedule=schedule, acting_user=None, reason="Contract over")
    for operation, kwargs in [
        (services.update_schedule, {"name": "New"}),
        (services.pause_schedule, {}),
        (services.end_schedule, {}),
    ]:
        with pytest.raises(InvalidTransition):
            operation(schedule=schedule, acting_user=None, **kwargs)
    schedule.refresh_from_db()
    assert schedule.name == "Hosting" and schedule.end_reason == "Contract over"
    # Ended, it makes nothing.
    assert run_recurring(today=day("2027-06-01")).made == []


def test_a_schedule_with_a_history_is_ended_not_deleted(maple):
    schedule = schedule_for(maple, "2027-01-10")
    run_recurring(today=day("2027-01-10"))
    with pytest.raises(InvalidTransition, match="end it instead"):
        services.delete_schedule(schedule=schedule, acting_user=None)
    fresh = schedule_for(maple, "2027-05-10", name="Unused")
    services.delete_schedule(schedule=fresh, acting_user=None)
    assert list(Schedule.objects.values_list("name", flat=True)) == ["Hosting"]


def test_a_viewer_may_not_make_a_schedule(maple, viewer):
    from otb.operations import NotPermitted

    with pytest.raises(NotPermitted):
        services.create_schedule(
            client=maple, acting_user=viewer, name="Hosting", start_date="2027-01-01"
        )


def test_an_end_after_fewer_invoices_than_made_ends_the_schedule_at_once(maple):
    schedule = schedule_for(maple, "2027-01-10")
    run_recurring(today=day("2027-03-10"))
    services.update_schedule(schedule=schedule, acting_user=None, end_kind="after", end_after=2)
    schedule.refresh_from_db()
    assert schedule.state == ScheduleState.ENDED


def test_a_resume_cannot_undo_a_date_the_run_recorded_as_skipped(maple):
    """Whether the run came before the resume or not, a date in the pause is skipped: a
    resume dated before a skipped date already recorded would leave it skipped with no
    pause covering it, where without that run it would be billed."""
    schedule = schedule_for(maple, "2025-03-01", interval_unit="week", lines=[line("1", "100.00")])
    run_recurring(today=day("2025-03-01"))
    services.pause_schedule(schedule=schedule, acting_user=None, starts_on="2025-03-03")
    run_recurring(today=day("2025-03-16"))  # skips 8 and 15 March

    with pytest.raises(InvalidInput) as refused:
        services.resume_schedule(schedule=schedule, acting_user=None, ends_on="2025-03-05")
    assert (
        refused.value.field == "ends_on" and "already recorded as skipped" in refused.value.message
    )
    services.resume_schedule(schedule=schedule, acting_user=None, ends_on="2025-03-16")
    assert Pause.objects.get().ends_on == day("2025-03-16")


def test_a_resume_is_not_planned_ahead_and_pauses_never_overlap(maple):
    schedule = schedule_for(maple, "2025-01-10")
    services.pause_schedule(schedule=schedule, acting_user=None, starts_on="2025-03-03")
    with pytest.raises(InvalidInput) as refused:
        services.resume_schedule(schedule=schedule, acting_user=None, ends_on="2999-04-30")
    assert refused.value.field == "ends_on" and "after today" in refused.value.message
    services.resume_schedule(schedule=schedule, acting_user=None, ends_on="2025-04-30")
    with pytest.raises(InvalidInput) as refused:
        services.pause_schedule(schedule=schedule, acting_user=None, starts_on="2025-03-04")
    assert refused.value.field == "starts_on" and "last resumed on" in refused.value.message
    assert Pause.objects.count() == 1


def test_ending_a_paused_schedule_closes_its_pause(maple):
    schedule = schedule_for(maple, "2025-01-10", end_kind="after", end_after=2)
    run_recurring(today=day("2025-01-10"))
    services.pause_schedule(schedule=schedule, acting_user=None, starts_on="2025-01-20")
    services.update_schedule(schedule=schedule, acting_user=None, end_after=1)
    schedule.refresh_from_db()
    assert schedule.state == ScheduleState.ENDED
    assert Pause.objects.get().ends_on is not None
