import pytest

from billing import services
from billing.models import Invoice, InvoiceStatus
from tests.factories import ClientFactory, ServiceFactory, draft, issued, pay

pytestmark = pytest.mark.django_db

LINE = {"description": "Design work", "quantity": "1", "unit_price": "100.00"}


@pytest.fixture
def acme(business):
    return ClientFactory(code="ACME")


def create(api, **fields):
    return api.post(
        "/api/v1/invoices/", {"client": "ACME", "lines": [LINE]} | fields, format="json"
    )


def test_creating_a_draft_with_its_lines_returns_its_figures_as_strings(api, acme):
    response = create(
        api, lines=[LINE, {"description": "Hours", "quantity": "1.5", "unit_price": "80"}]
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "draft"
    assert body["number"] is None
    assert body["ref"] == str(body["id"])
    assert [line["amount"] for line in body["lines"]] == ["100.00", "120.00"]
    assert body["subtotal"] == "220.00"
    assert body["taxes"] == [
        {
            "label": "HST",
            "rate": "13.0000",
            "number": "812345678 RT0001",
            "base": "220.00",
            "amount": "28.60",
            # A draft has no rate yet: it is frozen when the invoice is issued.
            "amount_in_base": None,
        }
    ]
    assert body["total"] == "248.60"
    assert body["amount_paid"] == "0.00"
    assert body["balance_due"] == "248.60"
    assert (body["exchange_rate"], body["total_in_base"]) == (None, None)


def test_a_line_can_take_its_price_from_a_service(api, acme):
    ServiceFactory(code="WEB", name="Web work", unit_price="85.0000")
    response = create(api, lines=[{"service": "web", "quantity": "2"}])
    assert response.status_code == 201, response.json()
    line = response.json()["lines"][0]
    assert (line["service"], line["description"], line["amount"]) == ("WEB", "Web work", "170.00")


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"description": "x", "quantity": "1", "unit_price": 100.0}, "lines.0.unit_price"),
        ({"description": "x", "quantity": 1.5, "unit_price": "1"}, "lines.0.quantity"),
        ({"description": "x", "quantity": "-1", "unit_price": "1"}, "lines.0.quantity"),
        ({"description": "x", "quantity": "1", "unit_price": "1.00001"}, "lines.0.unit_price"),
        ({"description": "x", "quantity": "abc", "unit_price": "1"}, "lines.0.quantity"),
        ({"description": "x", "quantity": "1", "unit_price": "1e4"}, "lines.0.unit_price"),
        ({"description": "x", "quantity": "1e0", "unit_price": "1"}, "lines.0.quantity"),
        (
            {"description": "x", "quantity": "1", "unit_price": "1", "service": "NO"},
            "lines.0.service",
        ),
        ({"description": "", "quantity": "1", "unit_price": "1"}, "lines.0.description"),
    ],
)
def test_bad_lines_are_refused_with_the_field_named(api, acme, line, field):
    response = create(api, lines=[line])
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert field in body["errors"], body
    assert Invoice.objects.count() == 0


def test_an_unknown_client_code_is_a_field_error(api, acme):
    response = create(api, client="NOBODY")
    assert response.status_code == 400
    assert "client" in response.json()["errors"]


def test_a_bad_date_is_a_field_error(api, acme):
    response = create(api, issue_date="2026-02-30")
    assert response.status_code == 400
    assert "issue_date" in response.json()["errors"]


def test_a_draft_is_updated_and_deleted_by_its_id(api, acme):
    invoice = draft(client=acme)
    response = api.patch(
        f"/api/v1/invoices/{invoice.pk}/",
        {"lines": [LINE | {"unit_price": "200.00"}], "notes": "Thanks"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["subtotal"] == "200.00"
    assert response.json()["notes"] == "Thanks"
    assert api.delete(f"/api/v1/invoices/{invoice.pk}/").status_code == 204
    assert not Invoice.objects.exists()


def test_issuing_gives_the_number_and_the_invoice_is_then_read_by_number(api, acme):
    invoice = draft(client=acme)
    response = api.post(f"/api/v1/invoices/{invoice.pk}/issue/", {}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["number"] == "INV-0001"
    assert response.json()["status"] == "pending"
    assert api.get("/api/v1/invoices/INV-0001/").json()["id"] == invoice.pk


def test_issuing_twice_is_a_409(api, acme):
    invoice = issued(client=acme)
    response = api.post(f"/api/v1/invoices/{invoice.number}/issue/", {}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"


def test_an_issued_invoice_is_not_deleted_but_cancelled(api, acme):
    invoice = issued(client=acme)
    assert api.delete(f"/api/v1/invoices/{invoice.number}/").status_code == 409
    response = api.post(
        f"/api/v1/invoices/{invoice.number}/cancel/", {"reason": "Mistake"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"


def test_editing_a_paid_invoice_is_refused_as_locked(api, acme):
    invoice = issued(client=acme)
    pay(invoice, "10.00")
    response = api.patch(
        f"/api/v1/invoices/{invoice.number}/", {"lines": [LINE | {"quantity": "2"}]}, format="json"
    )
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "invoice_locked"
    assert body["errors"] == {"lines": [body["detail"]]}


def test_cancelling_a_paid_invoice_is_refused_as_locked(api, acme):
    invoice = issued(client=acme)
    pay(invoice, "10.00")
    response = api.post(f"/api/v1/invoices/{invoice.number}/cancel/", {}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "invoice_locked"


def test_a_viewer_cannot_issue(viewer_api, acme):
    invoice = draft(client=acme)
    assert viewer_api.post(f"/api/v1/invoices/{invoice.pk}/issue/", {}).status_code == 403
    assert Invoice.objects.get().status == InvoiceStatus.DRAFT


def test_unknown_invoices_are_404(api, acme):
    assert api.get("/api/v1/invoices/INV-9999/").status_code == 404
    assert api.get("/api/v1/invoices/99999999999999999999999/").status_code == 404


def test_the_list_filters_by_status_client_and_issue_dates(
    api, acme, django_assert_max_num_queries
):
    other = ClientFactory(code="OTHER")
    issued(client=acme, issue_date="2026-01-10")
    issued(client=other, issue_date="2026-03-10")
    draft(client=acme)
    with django_assert_max_num_queries(11):  # 1: is the address locked?
        body = api.get("/api/v1/invoices/").json()
    assert body["count"] == 3
    assert api.get("/api/v1/invoices/?status=draft").json()["count"] == 1
    assert api.get("/api/v1/invoices/?client=other").json()["count"] == 1
    query = "?issued_from=2026-02-01&issued_to=2026-12-31"
    assert [i["client"] for i in api.get(f"/api/v1/invoices/{query}").json()["results"]] == [
        "OTHER"
    ]
    response = api.get("/api/v1/invoices/?issued_from=yesterday")
    assert response.status_code == 400
    assert "issued_from" in response.json()["errors"]
    assert api.get("/api/v1/invoices/?status=nope").status_code == 400


def test_the_list_makes_the_same_number_of_queries_for_many_invoices(
    api, acme, django_assert_max_num_queries
):
    for _ in range(15):
        services.issue_invoice(invoice=draft(client=acme), acting_user=None)
    with django_assert_max_num_queries(11):  # 1: is the address locked?
        assert len(api.get("/api/v1/invoices/").json()["results"]) == 15


def test_the_pdf_is_downloaded_with_its_file_name(api, acme):
    invoice = issued(client=acme)
    response = api.get(f"/api/v1/invoices/{invoice.number}/pdf/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="INV-0001.pdf"'
    assert response.content.startswith(b"%PDF")
    response = api.get(f"/api/v1/invoices/{invoice.number}/pdf/", HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200


def test_a_usd_invoice_of_a_cad_client_is_issued_and_paid_with_a_gain(api, acme):
    """SPEC: Currencies and exchange rates, through the API: the draft's own currency, the
    rate typed in at issue, the payment at its own rate, what it settles and the gain."""
    response = create(api, currency="USD")  # 100.00 USD + HST 13.00
    assert response.status_code == 201, response.json()
    assert response.json()["currency"] == "USD"
    ref = response.json()["id"]
    issued_body = api.post(
        f"/api/v1/invoices/{ref}/issue/",
        {"issue_date": "2026-03-04", "exchange_rate": "1.30", "rate_source": "Bank"},
        format="json",
    ).json()
    # 100.00 × 1.30 = 130.00, 13.00 × 1.30 = 16.90: 146.90 CAD.
    assert (issued_body["exchange_rate"], issued_body["rate_source"]) == ("1.3000000000", "Bank")
    assert issued_body["total_in_base"] == "146.90"
    paid = api.post(
        "/api/v1/payments/",
        {
            "invoice": issued_body["number"],
            "amount": "113.00",
            "date": "2026-03-20",
            "method": "bank_transfer",
            "exchange_rate": "1.40",
        },
        format="json",
    )
    assert paid.status_code == 201, paid.json()
    body = paid.json()
    # 113.00 × 1.40 = 158.20 received for 146.90 owed: a gain of 11.30.
    assert (body["currency"], body["amount_in_base"], body["settled_in_base"]) == (
        "USD",
        "158.20",
        "146.90",
    )
    assert body["exchange_difference"] == "11.30"
    wrong = api.post(
        "/api/v1/payments/",
        {
            "client": "ACME",
            "amount": "1.00",
            "date": "2026-03-20",
            "method": "cash",
            "currency": "XBT",
        },
        format="json",
    )
    assert wrong.status_code == 400 and "currency" in wrong.json()["errors"]
