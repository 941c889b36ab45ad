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
        {"label": "GST", "rate": "5.0000", "number": GST_NO, "base": "170.00", "amount": "8.50"},
        {
            "label": "QST",
            "rate": "9.9750",
            "number": QST_NO,
            "base": "170.00",
            "amount": "16.96",
        },
    ]
    assert (body["subtotal"], body["tax_total"], body["total"]) == ("170.00", "25.46", "195.46")
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
