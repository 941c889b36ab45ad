"""/api/v1/recurring-invoices/ (SPEC: Recurring invoices): schedules made, read, changed,
paused, resumed, ended and deleted through recurring.services; what the run made shown with
each schedule; every refusal a JSON error naming its field, never a server error."""

import datetime

import pytest
import time_machine

from audit.models import AuditRecord
from billing.models import Invoice
from recurring.models import Occurrence, Schedule, ScheduleState
from recurring.run import run_recurring
from tests.api import refused, token_client
from tests.factories import ClientFactory, ServiceFactory

from .conftest import day

pytestmark = pytest.mark.django_db
URL = "/api/v1/recurring-invoices/"
# Noon in Toronto on 10 March 2026: the business's today.
NOON = datetime.datetime(2026, 3, 10, 17, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOON, tick=False):
        yield


@pytest.fixture
def api(bookkeeper, business):
    return token_client(bookkeeper)


@pytest.fixture
def viewer_api(viewer, business):
    return token_client(viewer)


@pytest.fixture
def acme(business):
    return ClientFactory(code="ACME", name="Acme Kitchens")


HOSTING = {
    "name": "Hosting",
    "client": "acme",
    "start_date": "2026-01-31",
    "lines": [
        {"description": "Hosting, {month} {year}", "quantity": "1", "unit_price": "500.00"},
    ],
}


def make(api, body=None, **headers):
    response = api.post(URL, body or HOSTING, format="json", **headers)
    assert response.status_code == 201, response.json()
    return response.json()


def begun(api):
    """A schedule from 31 January 2026 whose run has made its invoices up to 10 March."""
    body = make(api)
    run_recurring(today=day("2026-03-10"))
    return body


# --- Made and read ----------------------------------------------------------------------------
def test_a_schedule_is_made_with_its_template_and_next_dates(api, acme):
    body = make(api, {**HOSTING, "discount_kind": "percent", "discount_value": "10"})
    assert (body["name"], body["client"], body["currency"], body["state"]) == (
        "Hosting",
        "ACME",
        "CAD",
        "active",
    )
    assert (body["interval_count"], body["interval_unit"], body["day_rule"]) == (
        1,
        "month",
        "start_day",
    )
    assert (body["end_kind"], body["issue_mode"], body["email_invoices"]) == (
        "never",
        "issue",
        False,
    )
    assert body["discount_value"] == "10.000"
    assert [(line["description"], line["amount"]) for line in body["lines"]] == [
        ("Hosting, {month} {year}", "500.00")
    ]
    assert body["terms"]  # the settings' payment terms
    # Counted from the start, the month's last day when shorter (SPEC).
    assert [row["date"] for row in body["next_dates"][:4]] == [
        "2026-01-31",
        "2026-02-28",
        "2026-03-31",
        "2026-04-30",
    ]
    assert len(body["next_dates"]) == 12
    assert {row["kind"] for row in body["next_dates"]} == {"invoice"}
    assert (body["next_date"], body["invoices_made"], body["occurrences"]) == (
        "2026-01-31",
        0,
        [],
    )
    assert api.get(f"{URL}{body['id']}/").json() == body
    assert AuditRecord.objects.filter(
        object_type="recurring.schedule", object_id=str(body["id"]), action="created", source="api"
    ).exists()


def test_a_line_names_its_service_by_code(api, acme):
    ServiceFactory(code="HOSTING", name="Web hosting")
    body = make(api, {**HOSTING, "lines": [{"service": "hosting", "unit_price": "20"}]})
    assert (body["lines"][0]["service"], body["lines"][0]["description"]) == (
        "HOSTING",
        "Web hosting",
    )


def test_an_end_after_n_invoices_stops_the_next_dates(api, acme):
    body = make(
        api,
        {**HOSTING, "interval_unit": "quarter", "end_kind": "after", "end_after": 3},
    )
    assert [row["date"] for row in body["next_dates"]] == [
        "2026-01-31",
        "2026-04-30",
        "2026-07-31",
    ]


def test_the_same_idempotency_key_gives_the_first_schedule_again(api, acme):
    first = api.post(URL, HOSTING, format="json", HTTP_IDEMPOTENCY_KEY="r-1")
    again = api.post(URL, HOSTING, format="json", HTTP_IDEMPOTENCY_KEY="r-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["id"] == first.json()["id"]
    assert again["Idempotent-Replayed"] == "true"
    assert Schedule.objects.count() == 1


def test_what_the_run_made_is_shown_with_its_invoices(api, acme):
    body = begun(api)
    shown = api.get(f"{URL}{body['id']}/").json()
    invoices = list(Invoice.objects.order_by("issue_date"))
    assert [
        (o["index"], o["date"], o["outcome"], o["invoice"], o["invoice_number"])
        for o in shown["occurrences"]
    ] == [
        (0, "2026-01-31", "made", invoices[0].pk, "INV-0001"),
        (1, "2026-02-28", "made", invoices[1].pk, "INV-0002"),
    ]
    assert shown["invoices_made"] == 2
    assert shown["next_date"] == "2026-03-31"
    assert [row["date"] for row in shown["next_dates"][:2]] == ["2026-03-31", "2026-04-30"]
    assert len(shown["next_dates"]) == 12


def test_a_deleted_review_draft_shows_as_such(api, acme):
    body = make(api, {**HOSTING, "issue_mode": "draft", "start_date": "2026-03-01"})
    run_recurring(today=day("2026-03-10"))
    occurrence = Occurrence.objects.get()
    assert occurrence.invoice.number is None
    Invoice.objects.filter(pk=occurrence.invoice_id).delete()
    shown = api.get(f"{URL}{body['id']}/").json()["occurrences"]
    assert [
        (o["outcome"], o["invoice"], o["invoice_number"], o["draft_deleted"]) for o in shown
    ] == [("made", None, None, True)]


# --- The list ---------------------------------------------------------------------------------
def test_the_list_filters_by_state_and_client(api, acme):
    ClientFactory(code="WEST")
    hosting = make(api)
    west = make(api, {**HOSTING, "name": "Support", "client": "WEST"})
    ended = make(api, {**HOSTING, "name": "Backups"})
    assert api.post(f"{URL}{ended['id']}/end/", {}, format="json").status_code == 200

    def ids(**params):
        response = api.get(URL, params)
        assert response.status_code == 200, response.json()
        return {row["id"] for row in response.json()["results"]}

    assert ids() == {hosting["id"], west["id"], ended["id"]}
    assert ids(state="active") == {hosting["id"], west["id"]}
    assert ids(state="ended") == {ended["id"]}
    assert ids(client=" west ") == {west["id"]}
    assert ids(client="acme", state="active") == {hosting["id"]}
    assert ids(client="NOBODY") == set()


def test_an_unknown_state_filter_is_a_400_naming_it(api, acme):
    assert "use one of" in refused(api.get(URL, {"state": "asleep"}), 400, "state")


# --- Changes ----------------------------------------------------------------------------------
def test_a_change_reaches_the_template_and_is_audited(api, acme):
    body = make(api)
    changed = api.patch(
        f"{URL}{body['id']}/",
        {
            "name": "Hosting and backups",
            "lines": [{"description": "Hosting", "quantity": "2", "unit_price": "300"}],
            "start_date": "2026-02-15",
        },
        format="json",
    )
    assert changed.status_code == 200, changed.json()
    assert changed.json()["name"] == "Hosting and backups"
    assert [line["amount"] for line in changed.json()["lines"]] == ["600.00"]
    assert changed.json()["next_dates"][0]["date"] == "2026-02-15"
    assert AuditRecord.objects.filter(
        object_type="recurring.schedule", object_id=str(body["id"]), action="changed"
    ).exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"start_date": "2026-02-01"}, "start_date"),
        ({"interval_count": 2}, "interval_count"),
        ({"interval_unit": "year"}, "interval_unit"),
        ({"day_rule": "last_day"}, "day_rule"),
        ({"client": "WEST"}, "client"),
        ({"currency": "USD"}, "currency"),
    ],
)
def test_what_is_fixed_once_begun_is_refused_naming_the_field(api, acme, change, field):
    ClientFactory(code="WEST")
    body = begun(api)
    message = refused(api.patch(f"{URL}{body['id']}/", change, format="json"), 400, field)
    assert "end it and start a new one" in message
    schedule = Schedule.objects.get()
    assert (schedule.start_date, schedule.interval_count, schedule.client.code) == (
        day("2026-01-31"),
        1,
        "ACME",
    )


def test_a_begun_schedule_still_takes_a_new_template_and_end(api, acme):
    body = begun(api)
    changed = api.patch(
        f"{URL}{body['id']}/",
        {"notes": "Thanks", "end_kind": "after", "end_after": 4},
        format="json",
    )
    assert changed.status_code == 200, changed.json()
    # Two made, two to go.
    assert [row["date"] for row in changed.json()["next_dates"]] == ["2026-03-31", "2026-04-30"]


def test_an_ended_schedule_no_longer_changes(api, acme):
    body = make(api)
    api.post(f"{URL}{body['id']}/end/", {"reason": "Client left"}, format="json")
    message = refused(
        api.patch(f"{URL}{body['id']}/", {"name": "X"}, format="json"), 409, "__all__"
    )
    assert "has ended" in message


# --- Deleting ---------------------------------------------------------------------------------
def test_only_a_schedule_that_recorded_nothing_is_deleted(api, acme):
    fresh = make(api)
    assert api.delete(f"{URL}{fresh['id']}/").status_code == 204
    assert not Schedule.objects.filter(pk=fresh["id"]).exists()
    assert AuditRecord.objects.filter(
        object_type="recurring.schedule", object_id=str(fresh["id"]), action="deleted"
    ).exists()
    body = begun(api)
    message = refused(api.delete(f"{URL}{body['id']}/"), 409, "__all__")
    assert "end it instead" in message
    assert Schedule.objects.filter(pk=body["id"]).exists()


# --- Pause, resume, end -----------------------------------------------------------------------
def test_a_pause_skips_its_dates_and_resume_bills_again(api, acme):
    body = begun(api)
    paused = api.post(f"{URL}{body['id']}/pause/", {"starts_on": "2026-03-15"}, format="json")
    assert paused.status_code == 200, paused.json()
    assert paused.json()["state"] == "paused"
    assert paused.json()["pauses"] == [
        {
            "starts_on": "2026-03-15",
            "ends_on": None,
            "created_at": paused.json()["pauses"][0]["created_at"],
        }
    ]
    assert {row["kind"] for row in paused.json()["next_dates"]} == {"paused"}

    # Resumed on 30 April, that day (a resume is never planned ahead).
    with time_machine.travel(NOON + datetime.timedelta(days=51), tick=False):
        resumed = api.post(f"{URL}{body['id']}/resume/", {"ends_on": "2026-04-30"}, format="json")
    assert resumed.status_code == 200, resumed.json()
    assert resumed.json()["state"] == "active"
    assert [(row["date"], row["kind"]) for row in resumed.json()["next_dates"][:3]] == [
        ("2026-03-31", "paused"),
        ("2026-04-30", "invoice"),
        ("2026-05-31", "invoice"),
    ]
    run_recurring(today=day("2026-04-30"))
    shown = api.get(f"{URL}{body['id']}/").json()["occurrences"]
    assert [(o["date"], o["outcome"], o["invoice_number"]) for o in shown[2:]] == [
        ("2026-03-31", "paused", None),
        ("2026-04-30", "made", "INV-0003"),
    ]
    assert "Paused from" in shown[2]["note"]


def test_pause_and_resume_default_to_today(api, acme):
    body = make(api, {**HOSTING, "start_date": "2026-04-01"})
    paused = api.post(f"{URL}{body['id']}/pause/", format="json").json()
    assert paused["pauses"][0]["starts_on"] == "2026-03-10"
    resumed = api.post(f"{URL}{body['id']}/resume/", {}, format="json").json()
    assert resumed["pauses"][0]["ends_on"] == "2026-03-10"


def test_ending_keeps_the_reason_and_cannot_happen_twice(api, acme):
    body = make(api)
    ended = api.post(f"{URL}{body['id']}/end/", {"reason": "Client left"}, format="json")
    assert ended.status_code == 200, ended.json()
    assert (ended.json()["state"], ended.json()["end_reason"]) == ("ended", "Client left")
    assert ended.json()["ended_at"] and ended.json()["next_dates"] == []
    assert "already ended" in refused(
        api.post(f"{URL}{body['id']}/end/", {}, format="json"), 409, "__all__"
    )
    for path in ("pause", "resume"):
        refused(api.post(f"{URL}{body['id']}/{path}/", {}, format="json"), 409, "__all__")


# --- Permissions and bad input ----------------------------------------------------------------
def test_a_viewer_reads_but_writes_nothing(api, viewer_api, acme):
    body = make(api)
    assert viewer_api.get(URL).status_code == 200
    assert viewer_api.get(f"{URL}{body['id']}/").status_code == 200
    for method, path in [
        ("post", URL),
        ("patch", f"{URL}{body['id']}/"),
        ("delete", f"{URL}{body['id']}/"),
        ("post", f"{URL}{body['id']}/pause/"),
        ("post", f"{URL}{body['id']}/resume/"),
        ("post", f"{URL}{body['id']}/end/"),
    ]:
        response = getattr(viewer_api, method)(path, HOSTING, format="json")
        assert response.status_code == 403, (method, path)
        assert response.json()["code"] == "permission_denied"
    schedule = Schedule.objects.get()
    assert (schedule.state, schedule.name) == (ScheduleState.ACTIVE, "Hosting")


def test_without_a_token_nothing_is_answered(business):
    from rest_framework.test import APIClient

    assert APIClient().get(URL).status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"client": "NOBODY"}, "client"),
        ({"client": None}, "client"),
        ({"name": ""}, "name"),
        ({"name": " "}, "name"),
        ({"name": None}, "name"),
        ({"name": "A" * 201}, "name"),
        ({"name": ["Hosting"]}, "name"),
        ({"lines": "nope"}, "lines.__all__"),
        ({"lines": [{"quantity": "1e3", "unit_price": "1"}]}, "lines.0.quantity"),
        ({"lines": [{"quantity": 1.5}]}, "lines.0.quantity"),
        (
            {"lines": [{"description": "X", "quantity": "1", "unit_price": "1" * 20}]},
            "lines.0.unit_price",
        ),
        ({"lines": [{"service": "NONE", "quantity": "1"}]}, "lines.0.service"),
        ({"currency": "ZZZ"}, "currency"),
        ({"currency": None}, "currency"),
        ({"discount_kind": "fixed", "discount_value": "5000"}, "discount_value"),
        ({"discount_kind": "most"}, "discount_kind"),
        ({"discount_value": 10**30}, "discount_value"),
        ({"notes": ["x"]}, "notes"),
        ({"start_date": "2026-02-30"}, "start_date"),
        ({"start_date": "soon"}, "start_date"),
        ({"start_date": None}, "start_date"),
        ({"start_date": 20260131}, "start_date"),
        ({"interval_count": "abc"}, "interval_count"),
        ({"interval_count": "2.5"}, "interval_count"),
        ({"interval_count": 0}, "interval_count"),
        ({"interval_count": 121}, "interval_count"),
        ({"interval_count": 10**40}, "interval_count"),
        ({"interval_count": None}, "interval_count"),
        ({"interval_count": True}, "interval_count"),
        ({"interval_unit": "fortnight"}, "interval_unit"),
        ({"interval_unit": None}, "interval_unit"),
        ({"day_rule": "first_day"}, "day_rule"),
        ({"day_rule": "last_day", "start_date": "2026-01-15"}, "start_date"),
        ({"day_rule": "last_day", "interval_unit": "week"}, "day_rule"),
        ({"end_kind": "sometime"}, "end_kind"),
        ({"end_kind": "after"}, "end_after"),
        ({"end_kind": "after", "end_after": 0}, "end_after"),
        ({"end_kind": "after", "end_after": "many"}, "end_after"),
        ({"end_kind": "after", "end_after": 10**20}, "end_after"),
        ({"end_kind": "on_date"}, "end_date"),
        ({"end_kind": "on_date", "end_date": "2026-01-01"}, "end_date"),
        ({"end_kind": "on_date", "end_date": "2026-13-01"}, "end_date"),
        ({"issue_mode": "later"}, "issue_mode"),
        ({"email_invoices": "perhaps"}, "email_invoices"),
        ({"email_invoices": None}, "email_invoices"),
    ],
)
def test_bad_input_to_create_is_a_400_naming_its_field(api, acme, body, field):
    refused(api.post(URL, {**HOSTING, **body}, format="json"), 400, field)
    assert not Schedule.objects.exists()


@pytest.mark.parametrize("missing", ["name", "client", "start_date", "lines"])
def test_a_missing_field_is_named(api, acme, missing):
    body = {key: value for key, value in HOSTING.items() if key != missing}
    refused(api.post(URL, body, format="json"), 400, missing)


def test_an_inactive_client_is_refused(api, business):
    ClientFactory(code="GONE", is_active=False)
    assert "inactive" in refused(
        api.post(URL, {**HOSTING, "client": "GONE"}, format="json"), 400, "client"
    )


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("", {"discount_kind": "percent", "discount_value": "-1"}, "discount_value"),
        ("", {"interval_count": "many"}, "interval_count"),
        ("", {"end_date": "31/12/2026"}, "end_date"),
        ("", {"name": None}, "name"),
        (
            "",
            {"lines": [{"quantity": "-1", "unit_price": "1", "description": "X"}]},
            "lines.0.quantity",
        ),
        ("pause/", {"starts_on": "tomorrow"}, "starts_on"),
        ("pause/", {"starts_on": "2026-02-28"}, "starts_on"),  # already recorded
        ("resume/", {"ends_on": 5}, "ends_on"),
        ("end/", {"reason": {"a": 1}}, "reason"),
    ],
)
def test_bad_input_to_a_schedule_is_a_400_naming_its_field_and_changes_nothing(
    api, acme, path, body, field
):
    schedule = begun(api)
    if path == "resume/":
        api.post(f"{URL}{schedule['id']}/pause/", {"starts_on": "2026-03-15"}, format="json")
    before = api.get(f"{URL}{schedule['id']}/").json()
    refused(
        api.post(f"{URL}{schedule['id']}/{path}", body, format="json")
        if path
        else api.patch(f"{URL}{schedule['id']}/", body, format="json"),
        400,
        field,
    )
    assert api.get(f"{URL}{schedule['id']}/").json() == before


def test_a_resume_before_the_pause_began_is_refused(api, acme):
    body = make(api, {**HOSTING, "start_date": "2026-04-01"})
    api.post(f"{URL}{body['id']}/pause/", {"starts_on": "2026-03-20"}, format="json")
    refused(
        api.post(f"{URL}{body['id']}/resume/", {"ends_on": "2026-03-19"}, format="json"),
        400,
        "ends_on",
    )


@pytest.mark.parametrize("ref", ["999999", "abc", "%C2%B2", "null,null", "1" * 30, "-1"])
def test_an_unknown_schedule_is_a_json_404(api, acme, ref):
    for response in (
        api.get(f"{URL}{ref}/"),
        api.patch(f"{URL}{ref}/", {"name": "X"}, format="json"),
        api.delete(f"{URL}{ref}/"),
        api.post(f"{URL}{ref}/pause/", format="json"),
    ):
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


def test_the_schema_describes_recurring_invoices_and_their_actions(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for path in (
        "/api/v1/recurring-invoices/",
        "/api/v1/recurring-invoices/{id}/",
        "/api/v1/recurring-invoices/{id}/pause/",
        "/api/v1/recurring-invoices/{id}/resume/",
        "/api/v1/recurring-invoices/{id}/end/",
    ):
        assert path in schema["paths"], path
    components = schema["components"]["schemas"]
    assert components["ScheduleStateEnum"]["enum"] == ["active", "paused", "ended"]
    assert "recurring invoices" in schema["info"]["description"].lower()
