"""The recurring schedule pages: the list and its filters, the form (the invoice form,
reused, with live totals) and each refusal shown on the field it names, the fixed fields of
a schedule that has begun, the detail page's next 12 dates and the invoices made, every
button and its refusals, the viewer's read-only pages, and the schedules on a client's page
and an invoice's."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from billing.services import delete_draft
from rates.models import ExchangeRate
from recurring import services
from recurring.models import Outcome, Pause, Schedule, ScheduleState
from recurring.run import run_recurring
from tests.factories import ClientFactory, line

from .conftest import day, schedule_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def office(client, bookkeeper, business):
    client.force_login(bookkeeper)
    return client


@pytest.fixture
def reader(client, viewer, business):
    client.force_login(viewer)
    return client


def schedule_post(client_code, *lines, **fields):
    data = {
        "name": "Monthly hosting",
        "client": client_code,
        "currency": "",
        "discount_kind": "",
        "discount_value": "",
        "notes": "",
        "terms": "Net 30",
        "start_date": "2027-01-31",
        "interval_count": "1",
        "interval_unit": "month",
        "day_rule": "start_day",
        "end_kind": "never",
        "end_after": "",
        "end_date": "",
        "issue_mode": "issue",
        "lines-TOTAL_FORMS": str(len(lines)),
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
    }
    for index, values in enumerate(lines):
        for key, value in values.items():
            data[f"lines-{index}-{key}"] = value
    data.update(fields)
    return data


HOSTING = {
    "description": "Hosting, {month} {year}",
    "quantity": "1",
    "unit_price": "500",
    "taxable": "on",
}


def text(response) -> str:
    return response.content.decode()


# --- List ---------------------------------------------------------------------------------
def test_the_list_shows_each_schedule_in_words(office, maple):
    schedule_for(maple, "2027-01-31", name="Monthly hosting")
    schedule_for(maple, "2027-01-04", name="Cleaning", interval_count=2, interval_unit="week")

    page = text(office.get(reverse("recurring:list")))

    assert "Monthly hosting" in page and "Cleaning" in page
    assert maple.code in page
    assert "every month" in page and "every 2 weeks" in page
    assert "Jan 31, 2027" in page
    assert "565.00 CAD" in page  # 500.00 and HST 13 %, as an invoice made today
    assert "Active" in page


def test_the_list_filters_by_state_and_client(office, maple):
    other = ClientFactory(code="BIRCH")
    schedule_for(maple, "2027-01-31", name="Maple hosting")
    ended = schedule_for(other, "2027-01-31", name="Birch hosting")
    services.end_schedule(schedule=ended, acting_user=None)

    by_state = text(office.get(reverse("recurring:list"), {"state": "ended"}))
    by_client = text(office.get(reverse("recurring:list"), {"client": maple.code.lower()}))

    assert "Birch hosting" in by_state and "Maple hosting" not in by_state
    assert "Maple hosting" in by_client and "Birch hosting" not in by_client


def test_an_unknown_state_lists_nothing_and_says_why(office, maple):
    schedule_for(maple, "2027-01-31", name="Maple hosting")

    page = text(office.get(reverse("recurring:list"), {"state": "sleeping"}))

    assert "Maple hosting" not in page
    assert "State: Select a valid choice." in page


def test_the_list_pages_like_the_other_lists(office, maple, monkeypatch):
    monkeypatch.setattr("recurring.views.PAGE_SIZE", 2)
    for number in range(3):
        schedule_for(maple, "2027-01-31", name=f"Schedule {number}")

    first = office.get(reverse("recurring:list"))
    older = first.context["page"].older
    second = text(office.get(reverse("recurring:list"), {"older": older}))

    assert len(first.context["page"]) == 2 and older
    assert "Schedule 0" in second and "Schedule 2" not in second


# --- The form -----------------------------------------------------------------------------
def test_a_schedule_is_made_from_the_form(office, maple):
    response = office.post(
        reverse("recurring:create"),
        schedule_post(
            maple.code,
            HOSTING,
            interval_count="2",
            end_kind="after",
            end_after="6",
            issue_mode="draft",
            email_invoices="on",
        ),
    )

    schedule = Schedule.objects.get()
    assert response.status_code == 302 and response.url == schedule.get_absolute_url()
    assert schedule.name == "Monthly hosting" and schedule.client == maple
    assert schedule.start_date == day("2027-01-31") and schedule.interval_count == 2
    assert schedule.end_after == 6 and schedule.issue_mode == "draft"
    assert schedule.email_invoices is True and schedule.currency == "CAD"
    assert schedule.lines.get().description == "Hosting, {month} {year}"


def test_the_new_form_names_the_placeholders_and_takes_the_client_from_the_query(office, maple):
    page = text(office.get(reverse("recurring:create"), {"client": maple.code.lower()}))

    assert "{period}" in page and "{month}" in page and "{year}" in page
    assert f'value="{maple.code}"' in page
    assert 'id="invoice-form"' in page and reverse("recurring:preview") in page


@pytest.mark.parametrize(
    ("fields", "lines", "message"),
    [
        ({"name": ""}, [HOSTING], "Name: This field is required."),
        ({"client": "NOSUCH"}, [HOSTING], "Client: no client has the code"),
        ({"start_date": ""}, [HOSTING], "Start date: This field is required."),
        ({"start_date": "31/01/2027"}, [HOSTING], "Start date: Enter a valid date."),
        ({"interval_count": "0"}, [HOSTING], "Every: "),
        ({"interval_unit": "fortnight"}, [HOSTING], "Interval: Select a valid choice."),
        (
            {"day_rule": "last_day", "start_date": "2027-01-15"},
            [HOSTING],
            "Start date: with “always the month",
        ),
        (
            {"day_rule": "last_day", "interval_unit": "week"},
            [HOSTING],
            "Day of the month: a schedule every few weeks",
        ),
        ({"end_kind": "after"}, [HOSTING], "Number of invoices: give how many"),
        ({"end_kind": "on_date"}, [HOSTING], "End date: give the date"),
        (
            {"end_kind": "on_date", "end_date": "2026-12-31"},
            [HOSTING],
            "End date: cannot be before the start date",
        ),
        ({"discount_kind": "percent", "discount_value": "120"}, [HOSTING], "iscount"),
        ({}, [{**HOSTING, "quantity": "abc"}], "Quantity: "),
        ({}, [{**HOSTING, "unit_price": ""}], "Enter a unit price or choose a service."),
    ],
)
def test_bad_input_is_named_on_its_field_and_makes_no_schedule(
    office, maple, fields, lines, message
):
    response = office.post(reverse("recurring:create"), schedule_post(maple.code, *lines, **fields))

    assert response.status_code == 200
    assert message in text(response)
    assert not Schedule.objects.exists()


def test_a_line_refused_by_the_operation_shows_on_its_row(office, maple):
    """A tax the client's set does not have is the operation's refusal ("lines.0.taxes"),
    put back on the first line's box."""
    response = office.post(
        reverse("recurring:create"), schedule_post(maple.code, {**HOSTING, "taxes": "VAT"})
    )

    assert response.status_code == 200
    line_form = response.context["formset"].forms[0]
    assert "VAT" in " ".join(line_form.errors["taxes"])
    assert not Schedule.objects.exists()


def test_an_inactive_client_is_refused_on_the_client_field(office, maple):
    maple.is_active = False
    maple.save()

    response = office.post(reverse("recurring:create"), schedule_post(maple.code, HOSTING))

    assert "Client: " in " ".join(response.context["form"].errors["client"])
    assert not Schedule.objects.exists()


def test_the_live_totals_are_those_of_an_invoice_made_today(office, maple):
    response = office.post(
        reverse("recurring:preview"),
        schedule_post(maple.code, {**HOSTING, "quantity": "2"}),
    )

    figures = response.json()
    assert figures["ok"] is True
    assert figures["subtotal"] == "1,000.00 CAD" and figures["total"] == "1,130.00 CAD"


# --- Edit ---------------------------------------------------------------------------------
def edit_post(schedule, *lines, **fields):
    data = schedule_post(schedule.client.code, *lines, **fields)
    data["name"] = fields.get("name", schedule.name)
    return data


def test_a_schedule_not_begun_changes_everything(office, maple):
    schedule = schedule_for(maple, "2027-01-31")
    page = text(office.get(reverse("recurring:edit", args=[schedule.pk])))
    assert "Hosting, {month} {year}" in page and "disabled" not in page.split("start_date")[1][:200]

    response = office.post(
        reverse("recurring:edit", args=[schedule.pk]),
        edit_post(
            schedule,
            {"description": "Support", "quantity": "3", "unit_price": "80"},
            start_date="2027-02-28",
            day_rule="last_day",
            name="Support",
        ),
    )

    assert response.status_code == 302
    schedule.refresh_from_db()
    assert schedule.name == "Support" and schedule.start_date == day("2027-02-28")
    assert schedule.day_rule == "last_day" and schedule.next_date == day("2027-02-28")
    assert schedule.lines.get().amount == Decimal("240.00")


def test_after_the_first_invoice_the_fixed_fields_are_shown_disabled_and_kept(office, maple):
    schedule = schedule_for(maple, "2027-01-31")
    run_recurring(today=day("2027-01-31"))
    response = office.get(reverse("recurring:edit", args=[schedule.pk]))
    form = response.context["form"]
    for name in ("start_date", "interval_count", "interval_unit", "day_rule", "client", "currency"):
        assert form.fields[name].disabled, name
    assert "has begun billing" in str(form.fields["start_date"].help_text)
    assert "has begun billing" in text(response)

    # As a browser posts it: without the disabled fields.
    data = edit_post(schedule, {"description": "Hosting", "quantity": "1", "unit_price": "600"})
    for name in ("start_date", "interval_count", "interval_unit", "day_rule", "client", "currency"):
        del data[name]
    response = office.post(reverse("recurring:edit", args=[schedule.pk]), data)

    assert response.status_code == 302
    schedule.refresh_from_db()
    assert schedule.start_date == day("2027-01-31") and schedule.interval_count == 1
    assert schedule.client == maple and schedule.currency == "CAD"
    assert schedule.lines.get().unit_price == Decimal("600")  # the template did change


@pytest.mark.parametrize(
    ("field", "value", "label"),
    [
        ("interval_count", "3", "Every"),
        ("interval_unit", "week", "Interval"),
        ("day_rule", "last_day", "Day of the month"),
        ("currency", "USD", "Currency"),
        ("client", "BIRCH", "Client"),
    ],
)
def test_a_fixed_field_posted_changed_is_refused_naming_it(office, maple, field, value, label):
    ClientFactory(code="BIRCH")
    schedule = schedule_for(maple, "2027-01-31")
    run_recurring(today=day("2027-01-31"))

    response = office.post(
        reverse("recurring:edit", args=[schedule.pk]),
        edit_post(schedule, HOSTING, **{field: value}),
    )

    assert response.status_code == 200
    assert f"{label}: schedule “Hosting” has begun billing" in text(response)
    assert Schedule.objects.get().lines.get().unit_price == Decimal("500")


def test_a_page_shown_before_the_first_invoice_cannot_change_a_fixed_field(office, maple):
    """Begun between the page's GET and its POST: the new start date is refused, with
    why, not dropped without a word."""
    schedule = schedule_for(maple, "2027-01-31")
    assert not office.get(reverse("recurring:edit", args=[schedule.pk])).context["form"].begun
    run_recurring(today=day("2027-01-31"))

    response = office.post(
        reverse("recurring:edit", args=[schedule.pk]),
        edit_post(schedule, HOSTING, start_date="2027-03-01"),
    )

    assert response.status_code == 200
    assert "Start date: schedule “Hosting” has begun billing" in text(response)
    assert Schedule.objects.get().start_date == day("2027-01-31")


def test_the_same_values_of_the_fixed_fields_are_no_change(office, maple):
    schedule = schedule_for(maple, "2027-01-31")
    run_recurring(today=day("2027-01-31"))

    response = office.post(
        reverse("recurring:edit", args=[schedule.pk]),
        edit_post(schedule, HOSTING, name="Renamed", currency="CAD"),
    )

    assert response.status_code == 302
    assert Schedule.objects.get().name == "Renamed"


def test_an_ended_schedule_has_no_form(office, maple):
    schedule = services.end_schedule(schedule=schedule_for(maple, "2027-01-31"), acting_user=None)

    response = office.get(reverse("recurring:edit", args=[schedule.pk]), follow=True)

    assert response.redirect_chain[-1][0] == schedule.get_absolute_url()
    assert "has ended and no longer changes" in text(response)


# --- The detail page ----------------------------------------------------------------------
def test_the_page_shows_the_next_12_dates_and_the_invoices_made(office, maple):
    schedule = schedule_for(maple, "2027-01-31")
    run_recurring(today=day("2027-03-31"))

    response = office.get(schedule.get_absolute_url())
    page = text(response)

    dates = response.context["next_dates"]
    assert len(dates) == 12
    assert dates[0] == (day("2027-04-30"), "invoice")
    assert dates[-1] == (day("2028-03-31"), "invoice")
    assert "Apr 30, 2027" in page and "Mar 31, 2028" in page
    for number in ("INV-0001", "INV-0002", "INV-0003"):
        assert number in page
    assert page.count("565.00 CAD") >= 3
    assert "every month" in page
    # The line as the next invoice will read it, with its template.
    assert "Hosting, April 2027" in page and "Hosting, {month} {year}" in page


def test_the_page_marks_paused_dates_and_every_outcome(office, maple):
    schedule = schedule_for(maple, "2027-01-31", issue_mode="draft")
    run_recurring(today=day("2027-02-28"))
    delete_draft(invoice=schedule.occurrences.get(index=1).invoice, acting_user=None)
    services.pause_schedule(schedule=schedule, acting_user=None, starts_on="2027-03-01")
    run_recurring(today=day("2027-03-31"))
    # Resumed on 1 May, that day: the pause covers 30 April too.
    with time_machine.travel(datetime.datetime(2027, 5, 1, 16, tzinfo=datetime.UTC), tick=False):
        services.resume_schedule(schedule=schedule, acting_user=None, ends_on="2027-05-01")

    response = office.get(schedule.get_absolute_url())
    page = text(response)

    outcomes = [o.outcome for o, _invoice in response.context["occurrences"]]
    assert outcomes == [Outcome.SKIPPED_PAUSED, Outcome.MADE, Outcome.MADE]
    assert "skipped: draft deleted" in page
    assert "skipped: paused" in page
    assert response.context["next_dates"][0] == (day("2027-04-30"), "paused")
    assert response.context["next_dates"][1] == (day("2027-05-31"), "invoice")
    assert "Mar 1, 2027" in page and "May 1, 2027" in page  # the pause


def test_a_held_invoice_shows_its_draft_and_why(office, maple):
    ExchangeRate.objects.filter(currency="USD").delete()  # issuing it is refused
    schedule = schedule_for(maple, "2027-01-31", currency="USD")
    run_recurring(today=day("2027-01-31"))
    occurrence = schedule.occurrences.get()
    assert occurrence.outcome == Outcome.HELD

    page = text(office.get(schedule.get_absolute_url()))

    assert "left as a draft" in page
    assert occurrence.invoice.get_absolute_url() in page
    assert occurrence.note.split(":")[0] in page


# --- The buttons --------------------------------------------------------------------------
def test_an_active_schedule_offers_edit_pause_end_and_delete(office, maple):
    schedule = schedule_for(maple, "2027-01-31")

    page = text(office.get(schedule.get_absolute_url()))

    for name in ("edit", "pause", "end", "delete"):
        assert reverse(f"recurring:{name}", args=[schedule.pk]) in page, name
    assert reverse("recurring:resume", args=[schedule.pk]) not in page


def test_pause_then_resume_from_the_page(office, maple):
    schedule = schedule_for(maple, "2027-01-31")

    office.post(reverse("recurring:pause", args=[schedule.pk]), {"starts_on": "2027-03-01"})
    schedule.refresh_from_db()
    assert schedule.state == ScheduleState.PAUSED
    page = text(office.get(schedule.get_absolute_url()))
    assert reverse("recurring:resume", args=[schedule.pk]) in page
    assert reverse("recurring:pause", args=[schedule.pk]) not in page

    # A resume on a day to come is refused: the schedule would show active and skip still.
    response = office.post(
        reverse("recurring:resume", args=[schedule.pk]), {"ends_on": "2099-06-01"}
    )
    assert "cannot be after today" in text(response)
    with time_machine.travel(datetime.datetime(2027, 6, 1, 16, tzinfo=datetime.UTC), tick=False):
        services.resume_schedule(schedule=schedule, acting_user=None, ends_on="2027-06-01")
    schedule.refresh_from_db()
    assert schedule.state == ScheduleState.ACTIVE
    assert Pause.objects.get().ends_on == day("2027-06-01")


def test_a_pause_over_a_recorded_date_is_refused_on_its_field(office, maple):
    schedule = schedule_for(maple, "2027-01-31")
    run_recurring(today=day("2027-01-31"))

    response = office.post(
        reverse("recurring:pause", args=[schedule.pk]), {"starts_on": "2027-01-15"}
    )

    assert response.status_code == 200
    assert "Paused from: the occurrence of Jan 31, 2027 is already recorded" in text(response)
    assert Schedule.objects.get().state == ScheduleState.ACTIVE


def test_resume_before_the_pause_began_is_refused_on_its_field(office, maple):
    schedule = schedule_for(maple, "2027-01-31")
    services.pause_schedule(schedule=schedule, acting_user=None, starts_on="2027-03-01")

    response = office.post(
        reverse("recurring:resume", args=[schedule.pk]), {"ends_on": "2027-02-01"}
    )

    assert "Resume on: cannot be before the pause began" in text(response)
    assert Schedule.objects.get().state == ScheduleState.PAUSED


def test_resuming_an_active_schedule_is_refused_on_its_page(office, maple):
    schedule = schedule_for(maple, "2027-01-31")

    response = office.post(reverse("recurring:resume", args=[schedule.pk]), {}, follow=True)

    assert "is not paused" in text(response)


def test_end_with_a_reason(office, maple):
    schedule = schedule_for(maple, "2027-01-31")
    assert office.get(reverse("recurring:end", args=[schedule.pk])).status_code == 200

    response = office.post(
        reverse("recurring:end", args=[schedule.pk]), {"reason": "Contract over"}, follow=True
    )

    schedule.refresh_from_db()
    assert schedule.state == ScheduleState.ENDED and schedule.end_reason == "Contract over"
    page = text(response)
    assert "Contract over" in page
    for name in ("edit", "pause", "end"):
        assert reverse(f"recurring:{name}", args=[schedule.pk]) not in page, name
    assert response.context["next_dates"] == []


def test_delete_a_schedule_that_made_nothing(office, maple):
    schedule = schedule_for(maple, "2027-01-31")

    response = office.post(reverse("recurring:delete", args=[schedule.pk]))

    assert response.status_code == 302 and response.url == reverse("recurring:list")
    assert not Schedule.objects.exists()


def test_a_schedule_that_made_an_invoice_offers_no_delete_and_refuses_one(office, maple):
    schedule = schedule_for(maple, "2027-01-31")
    run_recurring(today=day("2027-01-31"))
    assert reverse("recurring:delete", args=[schedule.pk]) not in text(
        office.get(schedule.get_absolute_url())
    )

    response = office.post(reverse("recurring:delete", args=[schedule.pk]), follow=True)

    assert "end it instead" in text(response)
    assert Schedule.objects.exists()


# --- Viewers ------------------------------------------------------------------------------
def test_a_viewer_reads_the_pages_without_buttons(reader, maple):
    schedule = schedule_for(maple, "2027-01-31")

    listing = text(reader.get(reverse("recurring:list")))
    page = text(reader.get(schedule.get_absolute_url()))

    assert "Hosting" in listing and reverse("recurring:create") not in listing
    for name in ("edit", "pause", "end", "delete"):
        assert reverse(f"recurring:{name}", args=[schedule.pk]) not in page, name


@pytest.mark.parametrize("name", ["edit", "pause", "resume", "end", "delete"])
def test_a_viewer_may_not_post(reader, maple, name):
    schedule = schedule_for(maple, "2027-01-31")

    response = reader.post(reverse(f"recurring:{name}", args=[schedule.pk]), {})

    assert response.status_code == 403
    assert Schedule.objects.get().state == ScheduleState.ACTIVE


def test_a_viewer_may_not_create(reader, maple):
    response = reader.post(reverse("recurring:create"), schedule_post(maple.code, HOSTING))

    assert response.status_code == 403 and not Schedule.objects.exists()


def test_an_unknown_schedule_is_not_found(office):
    assert office.get(reverse("recurring:detail", args=[999999])).status_code == 404
    assert office.get("/recurring/99999999999999999999/").status_code == 404


# --- Other pages --------------------------------------------------------------------------
def test_the_navigation_links_the_list(office):
    assert reverse("recurring:list") in text(office.get("/"))


def test_the_clients_page_lists_its_schedules(office, maple):
    schedule = schedule_for(maple, "2027-01-31", name="Monthly hosting")

    page = text(office.get(maple.get_absolute_url()))

    assert "Recurring schedules" in page
    assert schedule.get_absolute_url() in page
    assert f"{reverse('recurring:create')}?client={maple.code}" in page


def test_an_invoice_says_which_schedule_made_it(office, maple):
    schedule = schedule_for(maple, "2027-01-31", name="Monthly hosting")
    run_recurring(today=day("2027-01-31"))
    invoice = schedule.occurrences.get().invoice

    page = text(office.get(invoice.get_absolute_url()))

    assert "Made by recurring schedule" in page
    assert schedule.get_absolute_url() in page and "Jan 31, 2027" in page


def test_an_invoice_made_by_hand_says_nothing_of_schedules(office, maple):
    from tests.factories import issued

    invoice = issued(client=maple, lines=[line()])

    assert "Made by recurring schedule" not in text(office.get(invoice.get_absolute_url()))
