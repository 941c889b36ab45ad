"""Find anything (issue 16, item 21): the navigation's search box finds clients by code,
name, contact or e-mail, invoices by number, client name or amount, payments by reference;
the invoice form's client box offers matching clients as one types; a new client can be
added from the invoice form. Each part reads an index (the plans below; bench/ measures
them at a million invoices)."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse

from billing import search
from billing.models import Invoice, Payment
from tests.factories import ClientFactory, draft, issued, line, pay

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 12, 4)


@pytest.fixture
def books(business):
    acme = ClientFactory(
        code="ACME",
        name="Acme Renovations",
        contact_person="Jane Roe",
        email="ap@acme.example.com",
    )
    birch = ClientFactory(code="BIRCH", name="Birch Lane Bakery", email="owner@birch.example")
    ClientFactory(code="OLDCO", name="Old Acme Holdings", is_active=False)
    big = issued(client=acme, lines=[line("10", "100.00")])  # 1,130.00
    small = issued(client=birch, lines=[line("1", "50.00")])  # 56.50
    payment = pay(big, "500.00")
    Payment.objects.filter(pk=payment.pk).update(reference="CHQ-4711")
    return {"acme": acme, "birch": birch, "big": big, "small": small}


def page(client, query):
    return client.get(reverse("search"), {"q": query}).content.decode()


@pytest.mark.parametrize("query", ["acme", "ACME", "Renovations", "jane roe", "ap@acme"])
def test_clients_are_found_by_code_name_contact_or_email(client, bookkeeper, books, query):
    client.force_login(bookkeeper)
    found = search.find(query, clients=True, invoices=True, payments=True, today=TODAY)
    assert found.clients[0].code == "ACME"
    assert 'href="/clients/ACME/"' in page(client, query)


def test_the_exact_code_comes_first_and_inactive_clients_last():
    ClientFactory(code="ACMEWEST", name="Acme West")
    ClientFactory(code="ACME", name="Acme")
    ClientFactory(code="AAACME", name="Acme Old", is_active=False)
    assert [c.code for c in search.find_clients("acme")] == ["ACME", "ACMEWEST", "AAACME"]
    assert [c.code for c in search.find_clients("acme", active_only=True)] == ["ACME", "ACMEWEST"]


def test_invoices_are_found_by_number_client_name_or_amount(books):
    big, small = books["big"], books["small"]
    by = {
        query: [
            invoice.pk
            for invoice in search.find_invoices(
                query, clients=search.find_clients(query), today=TODAY
            )
        ]
        for query in (
            big.number,
            big.number.lower()[:-1],
            "bakery",
            "1,130.00",
            "1130",
            "56.50 CAD",
        )
    }
    assert by[big.number] == [big.pk]
    assert big.pk in by[big.number.lower()[:-1]]
    assert by["bakery"] == [small.pk]
    assert by["1,130.00"] == [big.pk] and by["1130"] == [big.pk]
    assert by["56.50 CAD"] == [small.pk]


def test_payments_are_found_by_reference(client, bookkeeper, books):
    client.force_login(bookkeeper)
    assert [p.reference for p in search.find_payments("chq-47")] == ["CHQ-4711"]
    html = page(client, "CHQ-4711")
    assert 'id="found-payments"' in html and "CHQ-4711" in html
    assert books["big"].number in html  # the invoice it paid, linked


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("1130", Decimal("1130")),
        ("1,130.00", Decimal("1130.00")),
        ("$1,130", Decimal("1130")),
        ("1130.00 CAD", Decimal("1130.00")),
        ("11,30", None),
        ("1e3", None),
        ("acme", None),
        ("", None),
    ],
)
def test_an_amount_is_read_as_people_write_it(text, amount):
    assert search.amount_in(text) == amount


def test_the_page_shows_each_group_only_to_who_may_see_it(books):
    found = search.find("acme", clients=False, invoices=True, payments=False, today=TODAY)
    assert found.clients == [] and found.payments == []
    assert [invoice.pk for invoice in found.invoices] == [books["big"].pk]


@pytest.mark.parametrize("query", ["", "   ", "%", "_", "x" * 5000, "'; DROP TABLE x; --", "\x00"])
def test_odd_searches_answer_a_page_and_find_nothing_wrong(client, bookkeeper, books, query):
    client.force_login(bookkeeper)
    response = client.get(reverse("search"), {"q": query})
    assert response.status_code == 200
    found = search.find(query, clients=True, invoices=True, payments=True, today=TODAY)
    assert not found.anything
    if search.search_term(query):
        assert "Nothing matches" in response.content.decode()


def test_the_search_box_is_in_the_navigation_of_every_office_page(client, bookkeeper):
    client.force_login(bookkeeper)
    html = client.get("/").content.decode()
    assert '<form method="get" action="/search/"' in html and 'id="nav-search"' in html


def test_the_search_needs_a_login(client):
    response = client.get(reverse("search"), {"q": "acme"})
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert client.get(reverse("search-clients"), {"q": "acme"}).status_code in (302, 403)


def test_the_client_box_offers_active_clients_matching_what_is_typed(client, bookkeeper, books):
    client.force_login(bookkeeper)
    answer = client.get(reverse("search-clients"), {"q": "acme"}).json()
    assert answer == {"clients": [{"code": "ACME", "label": "ACME – Acme Renovations"}]}
    for n in range(12):
        ClientFactory(code=f"MANY{n:02d}", name="Many")
    assert len(client.get(reverse("search-clients"), {"q": "many"}).json()["clients"]) == 10
    assert client.get(reverse("search-clients"), {"q": ""}).json() == {"clients": []}


def test_the_invoice_form_has_a_client_box_not_a_list_of_every_client(client, bookkeeper, books):
    client.force_login(bookkeeper)
    html = client.get(reverse("invoices:create")).content.decode()
    assert '<select name="client"' not in html
    assert 'name="client"' in html and 'data-client-lookup="/search/clients/"' in html
    assert "Birch Lane Bakery" not in html  # no client is listed in the page


@pytest.mark.parametrize(
    ("typed", "saved"), [("acme", "ACME"), ("ACME – Acme Renovations", "ACME")]
)
def test_the_client_box_takes_a_code_in_any_case_or_a_chosen_label(
    client, bookkeeper, books, typed, saved
):
    client.force_login(bookkeeper)
    before = Invoice.objects.count()
    response = client.post(
        reverse("invoices:create"),
        {
            "client": typed,
            "lines-TOTAL_FORMS": "1",
            "lines-INITIAL_FORMS": "0",
            "lines-0-description": "Work",
            "lines-0-quantity": "1",
            "lines-0-unit_price": "10",
            "lines-0-discount_percent": "0",
            "lines-0-taxable": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Invoice.objects.count() == before + 1
    assert Invoice.objects.latest("pk").client.code == saved


def test_an_unknown_or_inactive_client_is_refused_with_the_field_named(client, bookkeeper, books):
    client.force_login(bookkeeper)
    before = Invoice.objects.count()
    for typed in ("NOBODY", "OLDCO"):
        response = client.post(
            reverse("invoices:create"),
            {"client": typed, "lines-TOTAL_FORMS": "0", "lines-INITIAL_FORMS": "0"},
        )
        assert response.status_code == 200
        assert f"Client: no client has the code “{typed}”" in response.content.decode()
    assert Invoice.objects.count() == before


def test_a_new_client_added_from_the_invoice_form_comes_back_to_it(client, bookkeeper, business):
    client.force_login(bookkeeper)
    form = client.get(reverse("invoices:create")).content.decode()
    assert 'href="/clients/new/?then=invoice"' in form
    response = client.post(
        "/clients/new/?then=invoice",
        {"code": "NEWCO", "name": "New Co", "default_currency": "CAD", "country": "CA"},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert response["Location"] == "/invoices/new/?client=NEWCO"
    again = client.get(response["Location"]).content.decode()
    assert 'value="NEWCO"' in again
    # Anything else than "invoice" leads to the client, never to a URL from the request.
    other = client.post(
        "/clients/new/?then=https://evil.example/",
        {"code": "NEWCO2", "name": "New Co 2", "default_currency": "CAD", "country": "CA"},
    )
    assert other["Location"] == "/clients/NEWCO2/"
    # A draft being edited keeps its lines: its form offers no way off to a new client.
    unsent = draft(client=ClientFactory(code="DRAFTY"))
    edit = client.get(reverse("invoices:edit", args=[unsent.pk])).content.decode()
    assert 'id="new-client"' not in edit


def _plan(queryset) -> str:
    return queryset.explain()


@pytest.mark.skipif(
    connection.vendor == "mysql",
    reason="MariaDB's optimizer reads a table of a few rows whole whatever its indexes; "
    "bench/ measures the search on MariaDB at a million invoices",
)
def test_each_part_of_the_search_reads_an_index(books):
    plans = {
        "amount": _plan(
            Invoice.objects.filter(total=Decimal("1130")).order_by("-created_at", "-id")
        ),
        "client": _plan(
            Invoice.objects.filter(client=books["acme"]).order_by("-created_at", "-id")
        ),
    }
    # The number and reference prefixes are the lists' own filters (billing.lists), measured
    # with the search in bench/RESULTS.md.
    assert "invoice_total" in plans["amount"], plans["amount"]
    assert "invoice_client_created" in plans["client"], plans["client"]


def test_an_invoice_past_due_is_shown_overdue_as_in_the_list(client, bookkeeper, business):
    client.force_login(bookkeeper)
    late = issued(
        client=ClientFactory(code="LATE", name="Late Payer"),
        issue_date=datetime.date(2026, 1, 1),
        due_date=datetime.date(2026, 1, 31),
    )
    html = page(client, late.number)
    assert 'id="found-invoices"' in html and "Overdue" in html
