"""The list filters the office pages and the API share (billing.lists): for each parameter,
the same data gives the same rows on the page and in the API, and a value that cannot mean
anything is refused naming the parameter."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing import services
from billing.models import Invoice, InvoiceStatus, PaymentMethod, PaymentStatus
from settings_app.selectors import business_today
from tests.factories import ClientFactory, draft, issued, pay

pytestmark = pytest.mark.django_db


@pytest.fixture
def office(client, bookkeeper, business):
    client.force_login(bookkeeper)
    return client


@pytest.fixture
def books(business):
    """Invoices in every status (one shown overdue that the daily run has not marked yet),
    and payments of several statuses, methods, references and dates."""
    today = business_today()
    long_ago = today - datetime.timedelta(days=90)
    acme = ClientFactory(code="ACME", name="Acme Inc.", contact_person="Jane Roe")
    beta = ClientFactory(code="BETA", name="Beta Ltd", email="ap@beta.example")
    ClientFactory(code="GONE", name="Gone Away", is_active=False)
    late = issued(client=acme, issue_date=long_ago, due_date=long_ago)  # pending, shown overdue
    marked = issued(client=beta, issue_date=long_ago, due_date=long_ago)
    Invoice.objects.filter(pk=marked.pk).update(status=InvoiceStatus.OVERDUE)
    partial = issued(client=acme, issue_date=today - datetime.timedelta(days=20))
    paid = issued(client=beta, issue_date=today - datetime.timedelta(days=5))
    current = issued(client=acme)
    cancelled = issued(client=beta)
    services.cancel_invoice(invoice=cancelled, acting_user=None, reason="Sent twice")
    for _ in range(6):  # up to INV-0012, for the number searches
        last = issued(client=beta, issue_date=today - datetime.timedelta(days=10))
    services.issue_credit_note(  # INV-0012 is credited in full
        credit_note=services.create_credit_note(invoice=last, acting_user=None),
        acting_user=None,
    )
    draft(client=acme)

    pay(partial, "10.00", when=today - datetime.timedelta(days=3))
    pay(paid, str(paid.total), method=PaymentMethod.CASH, when=today - datetime.timedelta(days=1))
    services.record_payment(
        invoice=current,
        amount=Decimal("5.00"),
        date=today,
        method=PaymentMethod.CHEQUE,
        reference="CHQ-4711",
        confirmed=False,
        acting_user=None,
    )
    wrong = pay(late, "1.00", when=today - datetime.timedelta(days=30))
    services.reverse_payment(payment=wrong, reason="Wrong client", acting_user=None)
    return today


def office_rows(office, name: str, params: dict) -> set:
    response = office.get(reverse(name), params)
    assert response.status_code == 200
    return {row.pk if name != "clients:list" else row.code for row in response.context["page"]}


def api_rows(api, path: str, params: dict) -> set:
    response = api.get(path, {**params, "page_size": 200})
    assert response.status_code == 200, response.json()
    key = "code" if path.endswith("/clients/") else "id"
    return {row[key] for row in response.json()["results"]}


class DaysAgo(int):
    """A date in a case, read when the test runs: so many days before the business's today."""


def resolved(params: dict, today: datetime.date) -> dict:
    return {
        name: (today - datetime.timedelta(days=value)).isoformat()
        if isinstance(value, DaysAgo)
        else value
        for name, value in params.items()
    }


# Each case: the page's parameters and the API's; they differ only where the page names its
# search "q" and its active choice "active".
INVOICE_CASES = [
    *[({"status": status}, {"status": status}) for status in InvoiceStatus.values],
    ({"client": "acme"}, {"client": "acme"}),
    ({"client": " BETA "}, {"client": " BETA "}),
    ({"client": "NOBODY"}, {"client": "NOBODY"}),
    ({"q": "INV-001"}, {"search": "INV-001"}),
    ({"q": "inv-0003"}, {"search": "inv-0003"}),
    ({"q": "3"}, {"search": "3"}),
    ({"q": "0012"}, {"search": "0012"}),
    ({"q": "NV-0"}, {"search": "NV-0"}),  # inside the number, not its start: nothing
    # Digits that are not ASCII ("¹", Arabic-Indic "٣") and more digits than a sequence has
    # are text to search, not a number (Schemathesis found a 500 on "¹").
    ({"q": "¹"}, {"search": "¹"}),
    ({"q": "٣"}, {"search": "٣"}),
    ({"q": "1" * 30}, {"search": "1" * 30}),
    ({"issued_from": DaysAgo(30)}, {"issued_from": DaysAgo(30)}),
    ({"issued_to": DaysAgo(30)}, {"issued_to": DaysAgo(30)}),
    (
        {"status": "pending", "client": "beta", "issued_from": DaysAgo(60)},
        {"status": "pending", "client": "beta", "issued_from": DaysAgo(60)},
    ),
]


@pytest.mark.parametrize(("page", "api_params"), INVOICE_CASES)
def test_the_invoice_page_and_the_api_list_the_same_invoices(office, api, books, page, api_params):
    assert office_rows(office, "invoices:list", resolved(page, books)) == api_rows(
        api, "/api/v1/invoices/", resolved(api_params, books)
    )


def test_overdue_lists_the_late_invoices_the_daily_run_has_not_marked_yet(office, api, books):
    api_overdue = api.get("/api/v1/invoices/", {"status": "overdue"}).json()["results"]
    assert len(api_overdue) == 2
    assert {row["status"] for row in api_overdue} == {"overdue"}
    assert len(office_rows(office, "invoices:list", {"status": "overdue"})) == 2


PAYMENT_CASES = [
    *[({"status": status}, {"status": status}) for status in PaymentStatus.values],
    *[({"method": method}, {"method": method}) for method in PaymentMethod.values],
    ({"client": "acme"}, {"client": "acme"}),
    ({"q": "chq-47"}, {"search": "chq-47"}),
    ({"q": "INV-0003"}, {"search": "INV-0003"}),
    ({"q": "inv-0003"}, {"search": "inv-0003"}),
    ({"q": "4711"}, {"search": "4711"}),  # inside the reference, not its start: nothing
    ({"date_from": DaysAgo(2)}, {"date_from": DaysAgo(2)}),
    ({"date_to": DaysAgo(2)}, {"date_to": DaysAgo(2)}),
    (
        {"status": "confirmed", "client": "beta", "date_to": DaysAgo(0)},
        {"status": "confirmed", "client": "beta", "date_to": DaysAgo(0)},
    ),
]


@pytest.mark.parametrize(("page", "api_params"), PAYMENT_CASES)
def test_the_payment_page_and_the_api_list_the_same_payments(office, api, books, page, api_params):
    assert office_rows(office, "payments:list", resolved(page, books)) == api_rows(
        api, "/api/v1/payments/", resolved(api_params, books)
    )


CLIENT_CASES = [
    ({"q": "acm", "active": "all"}, {"search": "acm"}),
    ({"q": "beta ltd", "active": "all"}, {"search": "beta ltd"}),
    ({"q": "ap@beta", "active": "all"}, {"search": "ap@beta"}),
    ({"q": "jane", "active": "all"}, {"search": "jane"}),
    ({"active": "active"}, {"is_active": "true"}),
    ({"active": "inactive"}, {"is_active": "false"}),
    ({"active": "all"}, {}),
]


@pytest.mark.parametrize(("page", "api_params"), CLIENT_CASES)
def test_the_client_page_and_the_api_list_the_same_clients(office, api, books, page, api_params):
    assert office_rows(office, "clients:list", page) == api_rows(
        api, "/api/v1/clients/", api_params
    )


def test_the_cases_are_not_all_empty(office, books):
    """The comparisons above mean something only if most cases find rows."""
    found = [
        office_rows(office, "invoices:list", resolved(page, books)) for page, _ in INVOICE_CASES
    ]
    # Empty on purpose: NOBODY, NV-0 and the three searches that are no number.
    assert sum(1 for rows in found if rows) >= len(INVOICE_CASES) - 6
    assert office_rows(office, "invoices:list", {"q": "3"}) == {
        Invoice.objects.get(number="INV-0003").pk
    }
    assert len(office_rows(office, "invoices:list", {"q": "INV-001"})) == 3
    assert office_rows(office, "payments:list", {"q": "4711"}) == set()
    assert len(office_rows(office, "payments:list", {"q": "chq-47"})) == 1


# --- Refusals ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "name", "value"),
    [
        ("/api/v1/invoices/", "status", "nope"),
        ("/api/v1/invoices/", "issued_from", "yesterday"),
        ("/api/v1/invoices/", "issued_to", "2026-02-30"),
        ("/api/v1/payments/", "status", "settled"),
        ("/api/v1/payments/", "method", "barter"),
        ("/api/v1/payments/", "date_from", "x"),
        ("/api/v1/payments/", "date_to", "31/12/2026"),
        ("/api/v1/clients/", "is_active", "maybe"),
        ("/api/v1/services/", "is_active", "maybe"),
        ("/api/v1/messages/", "needs_attention", "maybe"),
    ],
)
def test_a_filter_value_that_means_nothing_is_a_400_naming_the_parameter(api, path, name, value):
    response = api.get(path, {name: value})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert list(body["errors"]) == [name]
    assert body["errors"][name][0].startswith(f"{name}: ")


# --- The stored status --------------------------------------------------------------------------
def _where_of_the_list_query(sql_of_queries: list[str]) -> str:
    (listing,) = [
        sql
        for sql in sql_of_queries
        if 'FROM "billing_invoice"' in sql.replace("`", '"') and "LIMIT" in sql.upper()
    ]
    return listing.upper().split(" WHERE ", 1)[1]


@pytest.mark.parametrize("status", InvoiceStatus.values)
def test_the_api_filters_status_on_the_stored_columns_not_a_case(api, books, status):
    with CaptureQueriesContext(connection) as queries:
        assert api.get("/api/v1/invoices/", {"status": status}).status_code == 200
    where = _where_of_the_list_query([query["sql"] for query in queries.captured_queries])
    assert "CASE" not in where
    assert "STATUS" in where


def test_a_create_answers_with_its_row_whatever_list_filters_the_address_has(api):
    # The filters belong to the list: a create's answer used to be read through them.
    response = api.post(
        "/api/v1/clients/?search=nothing-like-it&is_active=false",
        {"code": "ACME", "name": "Acme Ltd", "country": "CA"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["code"] == "ACME"
