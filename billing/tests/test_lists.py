"""The list filters (billing.lists) the office pages and the API share: what each parameter
means, that each reads stored, indexed columns, and that a value meaning nothing is refused
naming its field. That the pages and the API answer alike is api/tests/test_lists.py."""

import datetime

import pytest
from django.db import connection
from django.db.models import UniqueConstraint
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.lists import (
    filter_clients,
    filter_invoices,
    filter_payments,
    filter_services,
)
from billing.models import Client, Invoice, InvoiceStatus, Payment, PaymentMethod, Service
from otb.operations import InvalidInput
from settings_app.selectors import business_today
from tests.factories import ClientFactory, ServiceFactory, draft, issued, pay

pytestmark = pytest.mark.django_db


@pytest.fixture
def office(client, bookkeeper, business):
    client.force_login(bookkeeper)
    return client


def pks(queryset) -> set[int]:
    return set(queryset.values_list("pk", flat=True))


# --- The stored, indexed columns ----------------------------------------------------------------
@pytest.mark.parametrize("status", InvoiceStatus.values)
def test_the_status_filter_reads_the_stored_columns_not_a_case(business, status):
    sql = str(filter_invoices(Invoice.objects.all(), today=business_today(), status=status).query)
    assert "CASE" not in sql.upper()
    assert "status" in sql


@pytest.mark.parametrize("status", ["overdue", "pending", "paid"])
def test_the_invoice_page_filters_status_without_a_case(office, status):
    issued()
    with CaptureQueriesContext(connection) as queries:
        assert office.get(reverse("invoices:list"), {"status": status}).status_code == 200
    (listing,) = [
        query["sql"]
        for query in queries.captured_queries
        if 'FROM "billing_invoice"' in query["sql"].replace("`", '"')
    ]
    assert "CASE" not in listing.upper().split(" WHERE ", 1)[1]


def _leading_columns(model) -> set[str]:
    """The columns an index (or a unique constraint, which has one) starts with."""
    firsts = {index.fields[0] for index in model._meta.indexes}
    firsts |= {
        constraint.fields[0]
        for constraint in model._meta.constraints
        if isinstance(constraint, UniqueConstraint) and constraint.fields
    }
    firsts |= {field.name for field in model._meta.fields if field.is_relation and field.db_index}
    return firsts


@pytest.mark.parametrize(
    ("model", "columns"),
    [
        # status, client, issued_from/to, number (its start, or the sequence).
        (Invoice, {"status", "client", "issue_date", "number", "sequence"}),
        # status, method, client, invoice, search (reference), date_from/to.
        (Payment, {"status", "method", "client", "invoice", "reference", "date"}),
    ],
)
def test_each_filter_of_the_big_lists_has_an_index_that_starts_with_its_column(model, columns):
    assert columns <= _leading_columns(model)


# --- What each parameter means ------------------------------------------------------------------
def test_status_is_the_status_shown_today(business):
    today = business_today()
    long_ago = today - datetime.timedelta(days=90)
    late = issued(issue_date=long_ago, due_date=long_ago)
    current = issued()
    overdue = filter_invoices(Invoice.objects.all(), today=today, status="overdue")
    pending = filter_invoices(Invoice.objects.all(), today=today, status="pending")
    assert (pks(overdue), pks(pending)) == ({late.pk}, {current.pk})


def test_client_is_a_code_in_any_case(business):
    acme = ClientFactory(code="ACME")
    mine = issued(client=acme)
    issued()
    found = filter_invoices(Invoice.objects.all(), today=business_today(), client=" acme ")
    assert pks(found) == {mine.pk}


def test_a_number_finds_issued_invoices_by_its_start_never_a_draft(business):
    first = issued()
    draft()
    today = business_today()
    assert pks(filter_invoices(Invoice.objects.all(), today=today, number="inv-")) == {first.pk}
    assert pks(filter_invoices(Invoice.objects.all(), today=today, number="1")) == {first.pk}
    assert pks(filter_invoices(Invoice.objects.all(), today=today, number="NV")) == set()


def test_issue_dates_are_inclusive_on_both_ends(business):
    today = business_today()
    before = issued(issue_date=today - datetime.timedelta(days=2))
    on_the_day = issued(issue_date=today - datetime.timedelta(days=1))
    issued(issue_date=today)
    day = today - datetime.timedelta(days=1)
    found = filter_invoices(Invoice.objects.all(), today=today, issued_from=day, issued_to=day)
    assert pks(found) == {on_the_day.pk}
    found = filter_invoices(Invoice.objects.all(), today=today, issued_to=day)
    assert pks(found) == {before.pk, on_the_day.pk}


def test_a_payment_search_finds_a_reference_start_or_a_whole_invoice_number(business):
    invoice = issued()
    other = issued()
    by_invoice = pay(invoice, "1.00")
    by_reference = pay(other, "1.00")
    Payment.objects.filter(pk=by_reference.pk).update(reference="CHQ-4711")
    found = filter_payments(Payment.objects.all(), search=invoice.number.lower())
    assert pks(found) == {by_invoice.pk}
    assert pks(filter_payments(Payment.objects.all(), search="chq-47")) == {by_reference.pk}
    assert pks(filter_payments(Payment.objects.all(), search="4711")) == set()


def test_payment_method_and_dates(business):
    invoice = issued()
    today = business_today()
    cash = pay(invoice, "1.00", method=PaymentMethod.CASH, when=today)
    pay(invoice, "1.00", when=today - datetime.timedelta(days=3))
    assert pks(filter_payments(Payment.objects.all(), method="cash")) == {cash.pk}
    assert pks(filter_payments(Payment.objects.all(), date_from=today)) == {cash.pk}


def test_a_client_search_reads_code_name_e_mail_and_contact_person(business):
    ClientFactory(code="ACME", name="Acme", contact_person="Jane Roe")
    ClientFactory(code="BETA", name="Beta", email="ap@beta.example")
    ClientFactory(code="GONE", is_active=False)
    codes = lambda found: set(found.values_list("code", flat=True))  # noqa: E731
    assert codes(filter_clients(Client.objects.all(), search=" jane ")) == {"ACME"}
    assert codes(filter_clients(Client.objects.all(), search="AP@BETA")) == {"BETA"}
    assert codes(filter_clients(Client.objects.all(), search="acm")) == {"ACME"}
    assert codes(filter_clients(Client.objects.all(), is_active=False)) == {"GONE"}


def test_a_service_search_reads_code_name_and_description(business):
    ServiceFactory(code="WEB", name="Web work", description="Sites and shops")
    ServiceFactory(code="OLD", name="Fax", is_active=False)
    codes = lambda found: set(found.values_list("code", flat=True))  # noqa: E731
    assert codes(filter_services(Service.objects.all(), search="shops")) == {"WEB"}
    assert codes(filter_services(Service.objects.all(), is_active=False)) == {"OLD"}


# --- Refusals -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("selector", "name", "value"),
    [
        (lambda v: filter_invoices(Invoice.objects.all(), today=datetime.date.today(), status=v),
         "status", "late"),
        (lambda v: filter_payments(Payment.objects.all(), status=v), "status", "settled"),
        (lambda v: filter_payments(Payment.objects.all(), method=v), "method", "barter"),
    ],
)  # fmt: skip
def test_an_unknown_choice_is_refused_naming_the_parameter(selector, name, value):
    with pytest.raises(InvalidInput) as refused:
        selector(value)
    assert refused.value.field == name
    assert refused.value.message.startswith(f"{name}: use one of ")


@pytest.mark.parametrize(
    ("page", "params", "label"),
    [
        ("invoices:list", {"status": "late"}, "Status"),
        ("invoices:list", {"issued_from": "31/02/2026"}, "Issued from"),
        ("invoices:list", {"issued_to": "2026-02-30", "client": "ACME"}, "Issued until"),
        ("payments:list", {"status": "settled"}, "Status"),
        ("payments:list", {"method": "barter"}, "Method"),
        ("payments:list", {"date_from": "yesterday"}, "Paid from"),
        ("clients:list", {"active": "maybe"}, "Show"),
    ],
)
def test_a_bad_filter_on_a_page_is_a_form_error_naming_the_field_and_lists_nothing(
    office, page, params, label
):
    invoice = issued(client=ClientFactory(code="ACME"))
    pay(invoice, "1.00")
    response = office.get(reverse(page), params)
    assert response.status_code == 200
    assert f"{label}: " in response.content.decode()
    assert list(response.context["page"]) == []
