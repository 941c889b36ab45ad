"""/api/v1/credit-notes/ and /api/v1/refunds/ (SPEC: Credit notes, Payments): made, changed,
deleted and issued through the same operations as the pages; money as strings; every
refusal a JSON error naming its field."""

from decimal import Decimal

import pytest

from billing.models import CreditNote
from settings_app.selectors import business_today
from tests.factories import GST_NO, QST_NO, issued, line, pay, quebec_client
from tests.pdf import pdf_text

pytestmark = pytest.mark.django_db
D = Decimal
URL = "/api/v1/credit-notes/"


@pytest.fixture
def invoice(business):
    """GST + QST on 10 h × 85.00 and 250.00 less 10 %: subtotal 1,075.00; GST 53.75 and
    QST 107.23; total 1,235.98."""
    return issued(
        client=quebec_client(),
        lines=[
            line("10", "85.00", description="Shelving"),
            line("1", "250.00", description="Benches", discount_percent=D("10")),
        ],
    )


def shelving(invoice):
    return invoice.lines.get(description="Shelving").pk


def make(api, invoice, **fields):
    return api.post(URL, {"invoice": invoice.number} | fields, format="json")


def test_a_partial_credit_note_is_made_and_issued_with_every_tax(api, invoice):
    response = make(
        api,
        invoice,
        kind="lines",
        lines=[{"invoice_line": shelving(invoice), "quantity": "2"}],
        reason="Two hours not worked",
    )
    assert response.status_code == 201, response.json()
    draft = response.json()
    assert (draft["number"], draft["status"], draft["invoice"], draft["client"]) == (
        None,
        "draft",
        invoice.number,
        "LAURIER",
    )
    issued_note = api.post(f"{URL}{draft['id']}/issue/", {}, format="json")
    assert issued_note.status_code == 200, issued_note.json()
    body = issued_note.json()
    assert (body["number"], body["status"], body["issue_date"]) == (
        "CN-0001",
        "issued",
        business_today().isoformat(),
    )
    # 2 × 85.00 = 170.00: GST 8.50, QST 16.9575 -> 16.96, each with its registration number.
    assert body["taxes"] == [
        {
            "label": "GST",
            "rate": "5.0000",
            "number": GST_NO,
            "base": "170.00",
            "amount": "8.50",
            "amount_in_base": "8.50",
        },
        {
            "label": "QST",
            "rate": "9.9750",
            "number": QST_NO,
            "base": "170.00",
            "amount": "16.96",
            "amount_in_base": "16.96",
        },
    ]
    assert (body["subtotal"], body["tax_total"], body["total"]) == ("170.00", "25.46", "195.46")
    # In the base currency (CAD) at its invoice's rate, 1.
    assert (body["exchange_rate"], body["total_in_base"]) == ("1.0000000000", "195.46")
    note = CreditNote.objects.get()
    assert [(t.label, t.number, t.base, t.amount) for t in note.taxes.all()] == [
        ("GST", GST_NO, D("170.00"), D("8.50")),
        ("QST", QST_NO, D("170.00"), D("16.96")),
    ]
    assert body["lines"][0]["invoice_line"] == shelving(invoice)

    shown = api.get(f"/api/v1/invoices/{invoice.number}/").json()
    assert (shown["amount_credited"], shown["balance_due"], shown["status"]) == (
        "195.46",
        "1040.52",
        "pending",
    )
    assert api.get(URL, {"invoice": invoice.number}).json()["results"][0]["number"] == "CN-0001"

    pdf = api.get(f"{URL}{draft['id']}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert "CREDIT NOTE" in pdf_text(pdf.content)


def test_full_and_amount_credit_notes(api, invoice):
    amount = make(api, invoice, kind="amount", amount="100.00").json()
    api.post(f"{URL}{amount['id']}/issue/", {}, format="json")
    full = make(api, invoice, kind="full").json()
    assert full["total"] == "1135.98"
    api.post(f"{URL}{full['id']}/issue/", {}, format="json")
    shown = api.get(f"/api/v1/invoices/{invoice.number}/").json()
    assert (shown["status"], shown["balance_due"]) == ("credited", "0.00")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "amount", "amount": "5000.00"}, "amount"),
        ({"kind": "amount", "amount": "1e3"}, "amount"),
        ({"kind": "amount", "amount": 12.5}, "amount"),
        ({"kind": "halves"}, "kind"),
        ({"kind": "lines", "lines": [{"invoice_line": 999999, "quantity": "1"}]}, None),
        ({"kind": "lines", "lines": [{"invoice_line": "x", "quantity": "1"}]}, "lines"),
        ({"kind": "lines", "lines": "all"}, "lines"),
        ({"number": "INV-9999"}, "invoice"),
        ({"number": None}, "invoice"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api, invoice, fields, field):
    if "number" in fields:
        fields["invoice"] = fields.pop("number")
    response = api.post(URL, {"invoice": invoice.number} | fields, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid"
    if field is None:  # an invoice line not of this invoice: "lines.0.invoice_line"
        assert list(body["errors"]) == ["lines.0.invoice_line"]
    else:
        assert any(key.startswith(field) for key in body["errors"]), body
    assert not CreditNote.objects.exists()


def test_a_draft_is_changed_and_deleted_an_issued_one_never(api, invoice):
    draft = make(api, invoice, kind="amount", amount="50.00").json()
    changed = api.patch(f"{URL}{draft['id']}/", {"amount": "60.00"}, format="json")
    assert changed.status_code == 200 and changed.json()["total"] == "60.00"
    assert api.delete(f"{URL}{draft['id']}/").status_code == 204

    note = make(api, invoice, kind="amount", amount="50.00").json()
    api.post(f"{URL}{note['id']}/issue/", {}, format="json")
    refused = api.patch(f"{URL}{note['id']}/", {"amount": "60.00"}, format="json")
    assert refused.status_code == 409 and "never changes" in refused.json()["detail"]
    assert api.delete(f"{URL}{note['id']}/").status_code == 409
    assert api.get(f"{URL}null,null/").status_code == 404


def test_a_viewer_reads_but_cannot_write(viewer_api, api, invoice):
    note = make(api, invoice).json()
    assert viewer_api.get(f"{URL}{note['id']}/").status_code == 200
    assert make(viewer_api, invoice).status_code == 403
    assert viewer_api.post(f"{URL}{note['id']}/issue/", {}, format="json").status_code == 403


def test_a_refund_pays_credit_back_and_is_refused_beyond_it(api, invoice):
    pay(invoice, str(invoice.total))
    note = make(api, invoice, kind="amount", amount="100.00").json()
    api.post(f"{URL}{note['id']}/issue/", {}, format="json")
    body = {"client": "LAURIER", "amount": "100.01", "date": str(business_today())}
    refused = api.post("/api/v1/refunds/", {**body, "method": "cheque"}, format="json")
    assert refused.status_code == 409
    assert list(refused.json()["errors"]) == ["amount"]

    made = api.post(
        "/api/v1/refunds/", {**body, "amount": "100.00", "method": "cheque"}, format="json"
    )
    assert made.status_code == 201, made.json()
    assert (made.json()["amount"], made.json()["currency"]) == ("100.00", "CAD")
    reversed_ = api.post(
        f"/api/v1/refunds/{made.json()['id']}/reverse/", {"reason": "Returned"}, format="json"
    )
    assert reversed_.status_code == 200 and reversed_.json()["reversal_reason"] == "Returned"
    bad = api.post("/api/v1/refunds/", {**body, "method": "client_credit"}, format="json")
    assert bad.status_code == 400 and list(bad.json()["errors"]) == ["method"]
    assert api.get("/api/v1/refunds/null/").status_code == 404


def test_the_schema_describes_credit_notes_and_refunds(api):
    schema = api.get("/api/schema/", {"format": "json"}).json()
    for path in (
        "/api/v1/credit-notes/",
        "/api/v1/credit-notes/{id}/",
        "/api/v1/credit-notes/{id}/issue/",
        "/api/v1/credit-notes/{id}/pdf/",
        "/api/v1/refunds/",
        "/api/v1/refunds/{id}/reverse/",
    ):
        assert path in schema["paths"], path
    invoice_fields = schema["components"]["schemas"]["Invoice"]["properties"]
    assert "amount_credited" in invoice_fields


def test_a_tax_id_that_is_no_number_is_a_404(api):
    assert api.get("/api/v1/taxes/null,null/").status_code == 404
    assert api.patch("/api/v1/taxes/null,null/", {}, format="json").status_code in (403, 404)


def issue(api, note):
    response = api.post(f"{URL}{note['id']}/issue/", {}, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def test_an_issued_credit_note_is_read_by_its_number_a_draft_by_its_id(api, invoice):
    draft = make(api, invoice, kind="amount", amount="10.00").json()
    assert api.get(f"{URL}{draft['id']}/").json()["id"] == draft["id"]
    issue(api, draft)
    by_number = api.get(f"{URL}CN-0001/")
    assert by_number.status_code == 200 and by_number.json()["id"] == draft["id"]
    assert api.get(f"{URL}CN-0002/").status_code == 404
    pdf = api.get(f"{URL}CN-0001/pdf/", HTTP_ACCEPT="application/pdf")
    assert pdf.status_code == 200
    assert pdf["Content-Disposition"] == 'attachment; filename="CN-0001.pdf"'


def test_a_pdf_that_cannot_be_made_is_a_503_not_a_500(api, invoice, monkeypatch):
    note = make(api, invoice).json()

    def broken(*args, **kwargs):
        raise OSError("Pango is not there")

    monkeypatch.setattr("billing.pdf.credit_note_pdf", broken)
    response = api.get(f"{URL}{note['id']}/pdf/")
    assert response.status_code == 503
    assert response.json()["code"] == "pdf_failed" and "Pango" not in response.json()["detail"]


def test_balance_due_is_the_total_less_what_is_paid_and_credited(api, invoice):
    pay(invoice, "200.00")
    issue(api, make(api, invoice, kind="amount", amount="100.00").json())
    expected = ("200.00", "100.00", str(invoice.total - D("300.00")), "partial")
    shown = api.get(f"/api/v1/invoices/{invoice.number}/").json()
    assert (
        shown["amount_paid"],
        shown["amount_credited"],
        shown["balance_due"],
        shown["status"],
    ) == expected
    listed = api.get("/api/v1/invoices/", {"client": "laurier"}).json()["results"][0]
    assert (
        listed["amount_paid"],
        listed["amount_credited"],
        listed["balance_due"],
        listed["status"],
    ) == expected


def test_an_invoice_credited_in_full_is_listed_as_credited(api, invoice):
    issue(api, make(api, invoice, kind="full").json())
    listed = api.get("/api/v1/invoices/", {"status": "credited"}).json()["results"]
    assert [(row["number"], row["status"], row["balance_due"]) for row in listed] == [
        (invoice.number, "credited", "0.00")
    ]


def test_crediting_more_than_is_left_is_a_400_naming_the_field(api, invoice):
    issue(api, make(api, invoice, kind="amount", amount="1200.00").json())
    too_much = make(api, invoice, kind="amount", amount="36.00")
    assert too_much.status_code == 400
    assert list(too_much.json()["errors"]) == ["amount"]
    eleven = make(
        api, invoice, kind="lines", lines=[{"invoice_line": shelving(invoice), "quantity": "11"}]
    )
    assert eleven.status_code == 400
    assert list(eleven.json()["errors"]) == ["lines.0.quantity"]
    assert CreditNote.objects.count() == 1


def test_a_credit_note_sent_twice_with_one_idempotency_key_is_made_once(api, invoice):
    body = {"invoice": invoice.number, "kind": "amount", "amount": "10.00"}
    first = api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="cn-1")
    again = api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="cn-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert CreditNote.objects.count() == 1


def test_the_list_filters_by_client_invoice_and_status_newest_first(api, invoice):
    other = issued(client=quebec_client("BEAUPORT"), lines=[line("1", "50.00")])
    first = make(api, invoice, kind="amount", amount="10.00").json()
    second = make(api, invoice, kind="amount", amount="20.00").json()
    elsewhere = make(api, other, kind="full").json()
    issue(api, first)

    def ids(**params):
        response = api.get(URL, params)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert ids() == [elsewhere["id"], second["id"], first["id"]]
    assert ids(client="laurier") == [second["id"], first["id"]]
    assert ids(invoice=other.number.lower()) == [elsewhere["id"]]
    assert ids(status="issued") == [first["id"]]
    assert ids(status="draft", client="LAURIER") == [second["id"]]
    assert ids(page_size=1) == [elsewhere["id"]]
    refused = api.get(URL, {"status": "void"})
    assert refused.status_code == 400 and list(refused.json()["errors"]) == ["status"]


def test_a_viewer_can_change_nothing(viewer_api, api, invoice):
    pay(invoice, str(invoice.total))
    note = issue(api, make(api, invoice, kind="amount", amount="50.00").json())
    draft = make(api, invoice, kind="amount", amount="5.00").json()
    assert (
        viewer_api.patch(f"{URL}{draft['id']}/", {"reason": "x"}, format="json").status_code == 403
    )
    assert viewer_api.delete(f"{URL}{draft['id']}/").status_code == 403
    assert viewer_api.get(f"{URL}{note['number']}/pdf/").status_code == 200
    refund = {"client": "LAURIER", "amount": "5.00", "date": str(business_today())}
    refund["method"] = "cheque"
    assert viewer_api.post("/api/v1/refunds/", refund, format="json").status_code == 403
    made = api.post("/api/v1/refunds/", refund, format="json").json()
    reverse = viewer_api.post(
        f"/api/v1/refunds/{made['id']}/reverse/", {"reason": "x"}, format="json"
    )
    assert reverse.status_code == 403
    assert viewer_api.get("/api/v1/refunds/").json()["count"] == 1
    assert CreditNote.objects.count() == 2


def test_refunds_are_listed_by_client_and_made_once_per_idempotency_key(api, invoice):
    pay(invoice, str(invoice.total))
    issue(api, make(api, invoice, kind="amount", amount="100.00").json())
    other = quebec_client("BEAUPORT")
    body = {"client": "laurier", "amount": "30.00", "date": str(business_today())}
    body["method"] = "e_transfer"
    for _ in range(2):
        response = api.post("/api/v1/refunds/", body, format="json", HTTP_IDEMPOTENCY_KEY="r-1")
        assert response.status_code == 201, response.json()
    assert api.get("/api/v1/refunds/", {"client": "Laurier"}).json()["count"] == 1
    assert api.get("/api/v1/refunds/", {"client": other.code}).json()["count"] == 0
    refund = api.get("/api/v1/refunds/").json()["results"][0]
    assert (refund["client"], refund["amount"], refund["method"]) == (
        "LAURIER",
        "30.00",
        "e_transfer",
    )
    assert api.get(f"/api/v1/refunds/{refund['id']}/").json() == refund


def test_the_schema_says_a_credit_note_is_addressed_by_id_or_number(api):
    schema = api.get("/api/schema/", {"format": "json"}).json()
    for operation in schema["paths"]["/api/v1/credit-notes/{id}/"].values():
        (parameter,) = [p for p in operation["parameters"] if p["in"] == "path"]
        assert parameter["schema"]["type"] == "string" and "CN-0001" in parameter["description"]
    listing = schema["paths"]["/api/v1/invoices/"]["get"]["parameters"]
    (status_filter,) = [p for p in listing if p["name"] == "status"]
    assert "credited" in status_filter["schema"]["enum"]
