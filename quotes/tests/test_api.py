"""/api/v1/quotes/ (SPEC: Quotes): made, changed, sent, withdrawn, answered on the client's
behalf, converted and duplicated through the same operations as the pages; money as
strings; every refusal a JSON error naming its field, never a server error."""

import datetime
from decimal import Decimal

import pytest
import time_machine

from billing.models import Invoice, InvoiceStatus
from quotes.models import Channel, Quote, QuoteChange, QuoteStatus
from tests.api import refused, token_client
from tests.factories import GST_NO, QST_NO, ClientFactory, ServiceFactory, quebec_client
from tests.pdf import pdf_text

pytestmark = pytest.mark.django_db
D = Decimal
URL = "/api/v1/quotes/"
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


KITCHEN = {
    "client": "acme",
    "lines": [
        {"description": "Kitchen cabinets", "quantity": "10", "unit_price": "85.00"},
        {"description": "Countertop", "quantity": "1", "unit_price": "250.00"},
    ],
    "discount_kind": "percent",
    "discount_value": "10",
    "notes": "Kitchen, 12 Elm St",
}


def make(api, body=None, **headers):
    response = api.post(URL, body or KITCHEN, format="json", **headers)
    assert response.status_code == 201, response.json()
    return response.json()


def sent(api, body=None, **fields):
    draft = make(api, body)
    response = api.post(f"{URL}{draft['id']}/mark-sent/", fields, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


# --- Made, read and sent --------------------------------------------------------------------
def test_a_draft_is_made_with_its_figures_as_strings(api, acme):
    body = make(api)
    # 850.00 + 250.00 = 1,100.00; less 10 % = 990.00; HST 13 % = 128.70; total 1,118.70.
    assert (body["subtotal"], body["discount_total"], body["tax_total"], body["total"]) == (
        "1100.00",
        "110.00",
        "128.70",
        "1118.70",
    )
    assert (body["number"], body["status"], body["state"], body["ref"]) == (
        None,
        "draft",
        "draft",
        str(body["id"]),
    )
    assert (body["client"], body["currency"], body["invoice"], body["answer"]) == (
        "ACME",
        "CAD",
        None,
        None,
    )
    assert body["taxes"] == [
        {
            "label": "HST",
            "rate": "13.0000",
            "number": "812345678 RT0001",
            "base": "990.00",
            "amount": "128.70",
        }
    ]
    assert [line["amount"] for line in body["lines"]] == ["850.00", "250.00"]
    assert body["terms"]  # the settings' quote terms
    assert api.get(f"{URL}{body['id']}/").json() == body


def test_a_line_names_its_service_by_code_and_a_quote_its_own_taxes(api, business):
    quebec_client()
    ServiceFactory(code="CARPENTRY", name="Carpentry", unit_price=D("85.0000"))
    body = make(
        api,
        {
            "client": "LAURIER",
            "lines": [{"service": "carpentry", "quantity": "2"}],
        },
    )
    assert body["lines"][0]["service"] == "CARPENTRY"
    assert body["lines"][0]["description"] == "Carpentry"
    # 170.00: GST 8.50 and QST 16.9575 -> 16.96, each with its registration number.
    assert [(t["label"], t["number"], t["amount"]) for t in body["taxes"]] == [
        ("GST", GST_NO, "8.50"),
        ("QST", QST_NO, "16.96"),
    ]
    assert body["total"] == "195.46"


def test_the_same_idempotency_key_gives_the_first_quote_again(api, acme):
    first = api.post(URL, KITCHEN, format="json", HTTP_IDEMPOTENCY_KEY="q-1")
    again = api.post(URL, KITCHEN, format="json", HTTP_IDEMPOTENCY_KEY="q-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["id"] == first.json()["id"]
    assert again["Idempotent-Replayed"] == "true"
    assert Quote.objects.count() == 1


def test_marked_sent_it_takes_its_number_and_dates_and_is_addressed_by_number(api, acme):
    body = sent(api)
    assert (body["number"], body["status"], body["state"], body["ref"]) == (
        "Q-0001",
        "sent",
        "sent",
        "Q-0001",
    )
    assert (body["issue_date"], body["valid_until"]) == ("2026-03-10", "2026-04-09")
    assert body["sent_at"]
    assert api.get(f"{URL}Q-0001/").json()["id"] == body["id"]
    again = sent(api, issue_date="2026-03-01", valid_until="2026-03-15")
    assert (again["number"], again["valid_until"]) == ("Q-0002", "2026-03-15")


# --- The list and its filters ---------------------------------------------------------------
def test_the_list_filters_by_state_expired_included_client_and_currency(api, acme):
    ClientFactory(code="WEST", default_currency="USD")
    draft = make(api)
    old = sent(api, issue_date="2026-02-01", valid_until="2026-03-09")  # expired yesterday
    fresh = sent(api, issue_date="2026-03-01", valid_until="2026-03-10")  # valid today
    usd = make(api, {**KITCHEN, "client": "WEST"})

    def refs(**params):
        return {row["ref"] for row in api.get(URL, params).json()["results"]}

    assert refs(state="expired") == {old["ref"]}
    assert refs(state="sent") == {fresh["ref"]}
    assert refs(state="draft") == {draft["ref"], usd["ref"]}
    assert refs(client=" west ") == {usd["ref"]}
    assert refs(currency="usd") == {usd["ref"]}
    assert refs(currency="CAD", state="draft") == {draft["ref"]}
    assert api.get(f"{URL}{old['ref']}/").json()["state"] == "expired"
    assert api.get(f"{URL}{old['ref']}/").json()["status"] == "sent"


@pytest.mark.parametrize(
    ("params", "field"), [({"state": "lost"}, "state"), ({"currency": "XXX"}, "currency")]
)
def test_an_unknown_filter_value_is_a_400_naming_it(api, acme, params, field):
    assert "use one of" in refused(api.get(URL, params), 400, field)


# --- Changes --------------------------------------------------------------------------------
def test_a_change_to_a_sent_quote_is_recorded_and_its_client_kept(api, acme):
    body = sent(api)
    changed = api.patch(
        f"{URL}Q-0001/",
        {"lines": [{"description": "Cabinets", "quantity": "2", "unit_price": "100.00"}]},
        format="json",
    )
    assert changed.status_code == 200, changed.json()
    assert changed.json()["total"] == "203.40"  # 200 less 10 % = 180, HST 23.40
    assert QuoteChange.objects.filter(quote_id=body["id"]).count() == 1
    ClientFactory(code="OTHER")
    message = refused(api.patch(f"{URL}Q-0001/", {"client": "OTHER"}, format="json"), 400, "client")
    assert "keeps its client" in message


def test_only_a_draft_is_deleted(api, acme):
    draft = make(api)
    assert api.delete(f"{URL}{draft['id']}/").status_code == 204
    assert not Quote.objects.filter(pk=draft["id"]).exists()
    sent(api)
    message = refused(api.delete(f"{URL}Q-0001/"), 409, "__all__")
    assert "withdraw it instead" in message
    assert Quote.objects.filter(number="Q-0001").exists()


def test_a_withdrawn_quote_can_no_longer_be_answered(api, acme):
    sent(api)
    withdrawn = api.post(f"{URL}Q-0001/withdraw/", {"reason": "Job cancelled"}, format="json")
    assert withdrawn.status_code == 200, withdrawn.json()
    assert (withdrawn.json()["status"], withdrawn.json()["withdraw_reason"]) == (
        "withdrawn",
        "Job cancelled",
    )
    answer = {"answer": "accepted", "name": "Ann", "channel": "phone"}
    message = refused(api.post(f"{URL}Q-0001/answer/", answer, format="json"), 409, "__all__")
    assert "was withdrawn" in message


# --- Answers and conversion -----------------------------------------------------------------
def test_an_acceptance_by_phone_is_recorded_and_the_quote_never_changes(api, acme, bookkeeper):
    sent(api)
    response = api.post(
        f"{URL}Q-0001/answer/",
        {"answer": "accepted", "name": "Ann Client", "channel": "phone"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    answer = body["answer"]
    assert (body["status"], body["state"]) == ("accepted", "accepted")
    assert (answer["answer"], answer["channel"], answer["name"], answer["recorded_by"]) == (
        "accepted",
        "phone",
        "Ann Client",
        bookkeeper.username,
    )
    assert len(answer["pdf_sha256"]) == 64 and answer["after_expiry"] is False
    assert answer["answered_at"] and answer["ip_address"] is None
    message = refused(api.patch(f"{URL}Q-0001/", {"notes": "x"}, format="json"), 409, "__all__")
    assert "was accepted and never changes" in message


def test_a_decline_keeps_its_reason(api, acme):
    sent(api)
    body = api.post(
        f"{URL}Q-0001/answer/",
        {"answer": "declined", "name": "Ann", "channel": "email", "reason": "Too dear"},
        format="json",
    ).json()
    assert (body["status"], body["answer"]["reason"], body["answer"]["pdf_sha256"]) == (
        "declined",
        "Too dear",
        "",
    )


def test_converting_gives_one_draft_invoice_201_then_the_same_200(api, acme):
    body = sent(api)
    first = api.post(f"{URL}Q-0001/convert/", format="json")
    assert first.status_code == 201, first.json()
    invoice = first.json()
    assert (invoice["status"], invoice["client"], invoice["total"]) == ("draft", "ACME", "1118.70")
    assert first["Location"] == f"/api/v1/invoices/{invoice['id']}/"
    again = api.post(f"{URL}Q-0001/convert/", format="json")
    assert again.status_code == 200
    assert again.json()["id"] == invoice["id"]
    assert Invoice.objects.filter(status=InvoiceStatus.DRAFT).count() == 1
    quote = api.get(f"{URL}Q-0001/").json()
    # Converted while still sent: accepted on the client's behalf by the user, so it never
    # changes again.
    assert (quote["status"], quote["invoice"], quote["answer"]["channel"]) == (
        "accepted",
        str(invoice["id"]),
        Channel.CONVERSION,
    )
    assert quote["id"] == body["id"]


def test_converting_an_expired_quote_records_the_override(api, acme):
    sent(api, issue_date="2026-01-01", valid_until="2026-01-31")
    assert api.post(f"{URL}Q-0001/convert/", format="json").status_code == 201
    assert api.get(f"{URL}Q-0001/").json()["answer"]["after_expiry"] is True


def test_a_draft_is_neither_answered_nor_converted(api, acme):
    draft = make(api)
    message = refused(api.post(f"{URL}{draft['id']}/convert/", format="json"), 409, "__all__")
    assert "send it before converting" in message
    answer = {"answer": "declined", "name": "Ann", "channel": "email"}
    message = refused(
        api.post(f"{URL}{draft['id']}/answer/", answer, format="json"), 409, "__all__"
    )
    assert "send it (or mark it sent)" in message


def test_duplicate_makes_a_new_draft_of_a_declined_quote(api, acme):
    sent(api)
    api.post(
        f"{URL}Q-0001/answer/",
        {"answer": "declined", "name": "Ann", "channel": "email"},
        format="json",
    )
    copy = api.post(f"{URL}Q-0001/duplicate/", format="json")
    assert copy.status_code == 201
    body = copy.json()
    assert (body["status"], body["number"], body["total"], body["notes"]) == (
        "draft",
        None,
        "1118.70",
        "Kitchen, 12 Elm St",
    )


def test_the_pdf_is_the_quote_document(api, acme):
    sent(api)
    response = api.get(f"{URL}Q-0001/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert 'filename="Q-0001.pdf"' in response["Content-Disposition"]
    text = pdf_text(response.content)
    assert "QUOTE" in text.upper() and "Q-0001" in text


# --- Permissions and bad input --------------------------------------------------------------
def test_a_viewer_reads_but_writes_nothing(api, viewer_api, acme):
    body = sent(api)
    assert viewer_api.get(URL).status_code == 200
    assert viewer_api.get(f"{URL}Q-0001/").status_code == 200
    for method, path in [
        ("post", URL),
        ("patch", f"{URL}Q-0001/"),
        ("delete", f"{URL}Q-0001/"),
        ("post", f"{URL}Q-0001/mark-sent/"),
        ("post", f"{URL}Q-0001/withdraw/"),
        ("post", f"{URL}Q-0001/answer/"),
        ("post", f"{URL}Q-0001/convert/"),
        ("post", f"{URL}Q-0001/duplicate/"),
    ]:
        response = getattr(viewer_api, method)(path, {}, format="json")
        assert response.status_code == 403, (method, path)
        assert response.json()["code"] == "permission_denied"
    assert Quote.objects.get().status == QuoteStatus.SENT
    assert Quote.objects.count() == 1 and body["id"] == Quote.objects.get().pk


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("post", "", {**KITCHEN, "client": "NOBODY"}, "client"),
        ("post", "", {**KITCHEN, "lines": "nope"}, "lines.__all__"),
        (
            "post",
            "",
            {**KITCHEN, "lines": [{"quantity": "1e3", "unit_price": "1"}]},
            "lines.0.quantity",
        ),
        ("post", "", {**KITCHEN, "lines": [{"quantity": 1.5}]}, "lines.0.quantity"),
        (
            "post",
            "",
            {**KITCHEN, "lines": [{"service": "NONE", "quantity": "1"}]},
            "lines.0.service",
        ),
        (
            "post",
            "",
            {**KITCHEN, "discount_kind": "fixed", "discount_value": "5000"},
            "discount_value",
        ),
        ("post", "", {**KITCHEN, "currency": "ZZZ"}, "currency"),
        (
            "post",
            "",
            {**KITCHEN, "issue_date": "2026-03-10", "valid_until": "2026-03-01"},
            "valid_until",
        ),
        ("post", "", {**KITCHEN, "valid_until": "2026-02-30"}, "valid_until"),
        ("post", "", {**KITCHEN, "notes": ["x"]}, "notes"),
        ("patch", "{ref}/", {"discount_value": "-1"}, "discount_value"),
        ("post", "{ref}/mark-sent/", {"issue_date": "yesterday"}, "issue_date"),
        (
            "post",
            "{ref}/mark-sent/",
            {"issue_date": "2026-03-10", "valid_until": "2026-03-01"},
            "valid_until",
        ),
        ("post", "{ref}/answer/", {"answer": "maybe", "name": "Ann", "channel": "phone"}, "answer"),
        ("post", "{ref}/answer/", {"answer": "accepted", "name": " ", "channel": "phone"}, "name"),
        (
            "post",
            "{ref}/answer/",
            {"answer": "accepted", "name": "Ann", "channel": "link"},
            "channel",
        ),
        (
            "post",
            "{ref}/answer/",
            {"answer": "accepted", "name": "A" * 201, "channel": "phone"},
            "name",
        ),
        ("post", "{ref}/withdraw/", {"reason": {"a": 1}}, "reason"),
    ],
)
def test_bad_input_is_a_400_naming_its_field_and_changes_nothing(
    api, acme, method, path, body, field
):
    draft = make(api)
    before = (Quote.objects.count(), list(Quote.objects.values_list("status", "total")))
    response = getattr(api, method)(URL + path.format(ref=draft["id"]), body, format="json")
    refused(response, 400, field)
    assert (Quote.objects.count(), list(Quote.objects.values_list("status", "total"))) == before


@pytest.mark.parametrize("ref", ["Q-9999", "999999", "%C2%B2", "null,null", "1" * 30])
def test_an_unknown_quote_is_a_json_404(api, acme, ref):
    for response in (
        api.get(f"{URL}{ref}/"),
        api.post(f"{URL}{ref}/convert/", format="json"),
        api.get(f"{URL}{ref}/pdf/"),
    ):
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


def test_the_schema_describes_quotes_and_their_actions(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for path in (
        "/api/v1/quotes/",
        "/api/v1/quotes/{ref}/",
        "/api/v1/quotes/{ref}/mark-sent/",
        "/api/v1/quotes/{ref}/withdraw/",
        "/api/v1/quotes/{ref}/answer/",
        "/api/v1/quotes/{ref}/convert/",
        "/api/v1/quotes/{ref}/duplicate/",
        "/api/v1/quotes/{ref}/pdf/",
    ):
        assert path in schema["paths"], path
    state = schema["components"]["schemas"]["Quote"]["properties"]["state"]
    assert "expired" in str(state) or "$ref" in str(state)
    assert "quotes" in schema["info"]["description"].lower()
