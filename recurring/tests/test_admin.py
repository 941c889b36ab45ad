"""Recurring schedules in the back office: made, changed, paused, resumed, ended and deleted
through recurring.services; every refusal shown on the page; what the run recorded
read-only; an ended schedule read-only; only a schedule that recorded nothing deleted."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from audit.models import AuditRecord
from billing.tests.admin_forms import form_data, line_fields
from recurring import services
from recurring.models import Pause, Schedule, ScheduleLine, ScheduleState
from recurring.run import run_recurring
from tests.factories import ClientFactory

from .conftest import day, schedule_for

D = Decimal
pytestmark = pytest.mark.django_db
ADD = "admin:recurring_schedule_add"
CHANGELIST = "admin:recurring_schedule_changelist"
# Noon in Toronto on 10 March 2026: the business's today.
NOON = datetime.datetime(2026, 3, 10, 17, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOON, tick=False):
        yield


@pytest.fixture
def office(client, bookkeeper, business):
    client.force_login(bookkeeper)
    return client


def change_url(schedule) -> str:
    return reverse("admin:recurring_schedule_change", args=[schedule.pk])


def action_url(name, schedule) -> str:
    return reverse(f"admin:recurring_schedule_{name}", args=[schedule.pk])


def begun(client, start="2026-01-31", **kwargs):
    """A schedule whose run has made its invoices up to 10 March 2026."""
    schedule = schedule_for(client, start, **kwargs)
    run_recurring(today=day("2026-03-10"))
    return Schedule.objects.get(pk=schedule.pk)


def add_data(office, client, *lines, **fields):
    data = form_data(office.get(reverse(ADD)))
    data.update({"name": "Hosting", "client": str(client.pk), **fields})
    for index, values in enumerate(lines):
        data.update(line_fields(index, **values))
    return data


GOOD_LINE = {"description": "Hosting, {month}", "quantity": "1", "unit_price": "500"}


def audited(schedule_pk, action) -> bool:
    return AuditRecord.objects.filter(
        object_type="recurring.schedule",
        object_id=str(schedule_pk),
        action=action,
        source="admin",
    ).exists()


# --- Pages render -------------------------------------------------------------------------
def test_every_schedule_page_renders(office, maple):
    fresh = schedule_for(maple, "2026-04-01", name="Fresh")
    made = begun(maple, name="Made")
    paused = services.pause_schedule(
        schedule=schedule_for(maple, "2026-04-01", name="Paused"), acting_user=None
    )
    ended = services.end_schedule(
        schedule=schedule_for(maple, "2026-04-01", name="Ended"), acting_user=None
    )
    pages = [
        reverse(CHANGELIST),
        reverse(CHANGELIST) + "?state=paused",
        reverse(CHANGELIST) + "?interval_unit=month",
        reverse(CHANGELIST) + f"?client={maple.code.lower()}",
        reverse(CHANGELIST) + "?q=maple",
        reverse(ADD),
        change_url(fresh),
        change_url(made),
        change_url(paused),
        change_url(ended),
        action_url("pause", fresh),
        action_url("resume", paused),
        action_url("end", made),
        reverse("admin:recurring_schedule_delete", args=[fresh.pk]),
    ]
    for url in pages:
        assert office.get(url).status_code == 200, url
    page = office.get(change_url(made)).content.decode()
    assert "INV-0001" in page and "2026-03-31" in page  # its occurrences and next dates


def test_the_list_filters_and_searches(office, maple):
    other = ClientFactory(code="WEST", name="Westside Dental")
    hosting = schedule_for(maple, "2026-04-01")
    weekly = schedule_for(other, "2026-04-01", name="Cleaning", interval_unit="week")
    ended = services.end_schedule(
        schedule=schedule_for(maple, "2026-04-01", name="Old"), acting_user=None
    )

    def listed(query):
        response = office.get(reverse(CHANGELIST) + query)
        assert response.status_code == 200
        return set(response.context["cl"].result_list)

    assert listed("?state=ended") == {ended}
    assert listed("?interval_unit=week") == {weekly}
    assert listed("?q=westside") == {weekly}
    assert listed("?q=hosting") == {hosting}
    assert listed("?client=west") == {weekly}


# --- Made, changed, deleted through the operations ----------------------------------------
def test_a_schedule_with_lines_is_made_through_the_operation(office, maple):
    data = add_data(
        office,
        maple,
        GOOD_LINE,
        {"description": "Backups", "quantity": "2", "unit_price": "25", "taxable": ""},
        start_date="2026-03-31",
        day_rule="last_day",
        interval_unit="quarter",
        end_kind="after",
        end_after="4",
    )
    response = office.post(reverse(ADD), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    schedule = Schedule.objects.get()
    assert (schedule.name, schedule.currency, schedule.state) == ("Hosting", "CAD", "active")
    assert (schedule.interval_unit, schedule.day_rule, schedule.end_after) == (
        "quarter",
        "last_day",
        4,
    )
    assert schedule.next_date == day("2026-03-31")
    assert [line.amount for line in schedule.lines.all()] == [D("500.00"), D("50.00")]
    assert schedule.created_by is not None
    assert audited(schedule.pk, "created")


@pytest.mark.parametrize(
    ("values", "fields", "message"),
    [
        ({"quantity": "abc"}, {}, "is not a number"),
        ({"description": ""}, {}, "Enter a description or choose a service"),
        ({}, {"name": " "}, "Name"),
        ({}, {"start_date": "2026-02-30"}, "Start date"),
        ({}, {"interval_count": "0"}, "Every: give a whole number from 1 to 120"),
        ({}, {"interval_count": "9" * 30}, "Every"),
        ({}, {"interval_count": "abc"}, "Every"),
        ({}, {"day_rule": "last_day", "start_date": "2026-03-15"}, "a month&#x27;s last day"),
        ({}, {"end_kind": "after", "end_after": ""}, "give how many invoices"),
        ({}, {"end_kind": "after", "end_after": "9" * 30}, "Number of invoices"),
        ({}, {"end_kind": "on_date", "end_date": "2026-01-01"}, "cannot be before the start"),
        ({}, {"discount_kind": "fixed", "discount_value": "5000"}, "cannot be more than"),
        ({}, {"discount_kind": "percent", "discount_value": "1e3"}, "discount"),
        ({}, {"interval_unit": "fortnight"}, "Select a valid choice"),
    ],
)
def test_a_refusal_is_shown_on_the_form_and_nothing_saved(office, maple, values, fields, message):
    data = add_data(office, maple, GOOD_LINE | values, **{"start_date": "2026-03-15", **fields})
    response = office.post(reverse(ADD), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert (Schedule.objects.count(), ScheduleLine.objects.count()) == (0, 0)


def test_a_change_goes_through_the_operation_and_is_audited(office, maple):
    schedule = schedule_for(maple, "2026-04-01")
    url = change_url(schedule)
    data = form_data(office.get(url))
    data.update({"name": "Hosting and backups", "start_date": "2026-04-15"})
    data["lines-0-quantity"] = "2"
    response = office.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    schedule.refresh_from_db()
    assert (schedule.name, schedule.start_date, schedule.next_date) == (
        "Hosting and backups",
        day("2026-04-15"),
        day("2026-04-15"),
    )
    assert [line.amount for line in schedule.lines.all()] == [D("1000.00")]
    assert audited(schedule.pk, "changed")


def test_once_begun_its_dates_client_and_currency_are_shown_not_edited(office, maple):
    schedule = begun(maple)
    url = change_url(schedule)
    page = office.get(url).content.decode()
    for name in ("start_date", "interval_count", "interval_unit", "day_rule", "client"):
        assert f'name="{name}"' not in page, name
    data = form_data(office.get(url))
    data.update({"notes": "Thanks", "start_date": "2026-02-01"})  # the latter is ignored
    assert office.post(url, data).status_code == 302
    schedule.refresh_from_db()
    assert (schedule.notes, schedule.start_date) == ("Thanks", day("2026-01-31"))


def test_a_change_refused_by_the_operation_is_shown_on_the_form(office, maple):
    schedule = begun(maple)
    url = change_url(schedule)
    data = form_data(office.get(url))
    data.update({"end_kind": "on_date", "end_date": "2026-01-01"})
    response = office.post(url, data)
    assert response.status_code == 200
    assert "cannot be before the start date" in response.content.decode()
    schedule.refresh_from_db()
    assert schedule.end_kind == "never"


def test_only_a_schedule_that_recorded_nothing_is_deleted(office, maple):
    fresh, made = schedule_for(maple, "2026-04-01"), begun(maple, name="Made")
    delete = reverse("admin:recurring_schedule_delete", args=[fresh.pk])
    assert office.post(delete, {"post": "yes"}).status_code == 302
    assert not Schedule.objects.filter(pk=fresh.pk).exists()
    assert audited(fresh.pk, "deleted")
    response = office.post(
        reverse("admin:recurring_schedule_delete", args=[made.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert Schedule.objects.filter(pk=made.pk).exists()


# --- Pause, resume, end --------------------------------------------------------------------
def test_pause_resume_and_end_go_through_the_operations(office, maple):
    schedule = begun(maple)
    response = office.post(action_url("pause", schedule), {"starts_on": "2026-02-28"})
    assert response.status_code == 200  # the occurrence of that day is recorded
    assert "already recorded" in response.content.decode()
    assert not Pause.objects.exists()

    assert (
        office.post(action_url("pause", schedule), {"starts_on": "2026-03-01"}).status_code == 302
    )
    schedule.refresh_from_db()
    assert schedule.state == ScheduleState.PAUSED
    response = office.post(action_url("resume", schedule), {"ends_on": "2026-02-27"})
    assert response.status_code == 200
    assert "cannot be before the pause began" in response.content.decode()
    response = office.post(action_url("resume", schedule), {"ends_on": "2026-04-30"})
    assert "cannot be after today" in response.content.decode()  # never planned ahead
    assert office.post(action_url("resume", schedule), {"ends_on": ""}).status_code == 302
    assert Pause.objects.get().ends_on == day("2026-03-10")  # today
    response = office.post(action_url("end", schedule), {"reason": "Client left"}, follow=True)
    assert "Schedule ended." in response.content.decode()
    schedule.refresh_from_db()
    assert (schedule.state, schedule.end_reason) == (ScheduleState.ENDED, "Client left")
    assert audited(schedule.pk, "changed")


def test_a_refused_action_is_told_as_a_message_and_changes_nothing(office, maple):
    schedule = services.end_schedule(schedule=schedule_for(maple, "2026-04-01"), acting_user=None)
    for name, body, message in [
        ("end", {"reason": "Again"}, "has already ended"),
        ("pause", {"starts_on": ""}, "only an active schedule is paused"),
        ("resume", {"ends_on": ""}, "is not paused"),
    ]:
        response = office.post(action_url(name, schedule), body, follow=True)
        assert response.status_code == 200
        assert message in response.content.decode(), name
    schedule.refresh_from_db()
    assert schedule.end_reason == "Ended by hand."


def test_an_ended_schedule_is_read_only(office, maple):
    schedule = services.end_schedule(schedule=schedule_for(maple, "2026-04-01"), acting_user=None)
    page = office.get(change_url(schedule)).content.decode()
    assert 'name="name"' not in page and 'name="lines-0-quantity"' not in page
    assert office.post(change_url(schedule), {"name": "Changed"}).status_code == 403
    assert Schedule.objects.get().name == "Hosting"


def test_the_list_actions_pause_resume_and_end_the_selected(office, maple):
    first = schedule_for(maple, "2026-04-01", name="First")
    second = schedule_for(maple, "2026-04-01", name="Second")
    ended = services.end_schedule(
        schedule=schedule_for(maple, "2026-04-01", name="Done"), acting_user=None
    )
    selected = [first.pk, second.pk, ended.pk]

    def act(action):
        return office.post(
            reverse(CHANGELIST), {"action": action, "_selected_action": selected}, follow=True
        ).content.decode()

    page = act("pause_selected")
    assert "2 schedule(s) paused." in page and "only an active schedule is paused" in page
    assert set(Schedule.objects.values_list("state", flat=True)) == {"paused", "ended"}
    assert "2 schedule(s) resumed." in act("resume_selected")
    assert "2 schedule(s) ended." in act("end_selected")
    assert set(Schedule.objects.values_list("state", flat=True)) == {"ended"}


# --- Roles ----------------------------------------------------------------------------------
def test_a_viewer_can_look_but_not_act(client, viewer, business, maple):
    schedule = schedule_for(maple, "2026-04-01")
    client.force_login(viewer)
    assert client.get(reverse(CHANGELIST)).status_code == 200
    assert client.get(change_url(schedule)).status_code == 200
    assert client.get(reverse(ADD)).status_code == 403
    for name in ("pause", "resume", "end"):
        assert client.get(action_url(name, schedule)).status_code == 403, name
        assert client.post(action_url(name, schedule), {}).status_code == 403, name
    assert client.post(change_url(schedule), {"name": "X"}).status_code == 403
    delete = reverse("admin:recurring_schedule_delete", args=[schedule.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert Schedule.objects.get().state == ScheduleState.ACTIVE
