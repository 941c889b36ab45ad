"""The portal's statement (SPEC: Client portal and document links): any dates, in any of
the client's currencies, with aging, its PDF and CSV; the office's figures for the same
dates and currency; bad dates refused by field."""

import datetime

import pytest
from django.test import Client as Browser
from django.urls import reverse

from reports import selectors as reports
from settings_app.selectors import business_today
from tests.factories import issued, line, pay
from tests.pdf import pdf_text

pytestmark = pytest.mark.django_db

STATEMENT = reverse("portal:statement")
PDF = reverse("portal:statement_pdf")
CSV = reverse("portal:statement_csv")


@pytest.fixture
def ann(maple, portal_client_for):
    return portal_client_for(maple)


@pytest.fixture
def office(bookkeeper):
    browser = Browser()
    browser.force_login(bookkeeper)
    return browser


@pytest.fixture
def dates(business):
    today = business_today()
    return {"start": (today - datetime.timedelta(days=60)).isoformat(), "end": today.isoformat()}


@pytest.fixture
def dollars(maple):
    """An invoice in US dollars, paid in part: the client's second account."""
    invoice = issued(client=maple, lines=[line("1", "100.00")], currency="USD")
    pay(invoice, "13.00")
    return invoice


def test_by_default_a_year_to_today_in_the_clients_currency(ann, invoice):
    response = ann.get(STATEMENT)

    assert response.status_code == 200
    report = response.context["report"]
    today = business_today()
    assert (report.start, report.end, report.currency) == (
        today.replace(year=today.year - 1, day=1),
        today,
        "CAD",
    )
    text = response.text
    assert invoice.number in text and "Closing balance" in text and "by how late it is" in text
    assert 'data-bucket="total">1,243.00 CAD' in text
    # Each entry opens its document in the portal.
    assert f'href="{reverse("portal:invoice", args=[invoice.number])}"' in text
    assert 'aria-current="page" href="/portal/statement/"' in text


@pytest.mark.parametrize("currency", ["CAD", "USD"])
def test_the_figures_are_the_offices_for_the_same_dates_and_currency(
    ann, office, maple, invoice, dollars, dates, currency
):
    pay(invoice, "100.00")
    query = {**dates, "currency": currency}

    mine = ann.get(STATEMENT, query)
    theirs = office.get("/reports/statement/", {**query, "client": maple.code})

    mine_report, theirs_report = mine.context["report"], theirs.context["report"]
    assert (mine_report.start, mine_report.end, mine_report.currency) == (
        theirs_report.start,
        theirs_report.end,
        currency,
    )
    assert (mine_report.opening, mine_report.closing) == (
        theirs_report.opening,
        theirs_report.closing,
    )
    assert [(e.date, e.kind, e.amount, e.running) for e in mine_report.entries] == [
        (e.date, e.kind, e.amount, e.running) for e in theirs_report.entries
    ]
    assert [(i.number, i.balance_at) for i in mine_report.open_invoices] == [
        (i.number, i.balance_at) for i in theirs_report.open_invoices
    ]
    office_aging = next(
        row for row in reports.aging(mine_report.end, client=maple).rows if row.currency == currency
    )
    assert mine.context["aging"].buckets == office_aging.buckets
    office_csv = office.get("/reports/statement/", {**query, "client": maple.code, "format": "csv"})
    assert ann.get(CSV, query).content == office_csv.content


def test_the_currency_is_chosen_among_the_clients(ann, dollars):
    text = ann.get(STATEMENT).text

    assert '<option value="CAD" selected>CAD</option>' in text
    assert '<option value="USD">USD</option>' in text
    assert "EUR" not in text


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"start": "2026-13-01"}, "start", "From: enter a valid date."),
        ({"end": "yesterday"}, "end", "To: enter a valid date."),
        ({"start": "2026-03-01", "end": "2026-02-01"}, "end", "To: must be on or after From"),
        ({"start": "0001-01-01"}, "start", "From: enter a date between"),
        ({"currency": "EUR"}, "currency", "Currency: select a valid choice."),
    ],
)
def test_bad_dates_are_refused_naming_the_field(ann, invoice, query, field, message):
    response = ann.get(STATEMENT, query)

    assert response.status_code == 400
    assert any(message in str(error) for error in response.context["form"].errors[field])
    assert message in response.text
    assert "Closing balance" not in response.text
    for download in (PDF, CSV):
        refused = ann.get(download, query)
        assert refused.status_code == 400 and message in refused.text
        assert refused["Content-Type"].startswith("text/plain")


def test_the_pdf_and_csv_have_the_dates_and_currency_asked_for(ann, maple, invoice, dollars):
    query = {"start": "2000-01-01", "end": business_today().isoformat(), "currency": "USD"}
    page = ann.get(STATEMENT, query).text

    pdf = ann.get(PDF, query)
    csv = ann.get(CSV, query)

    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    text = pdf_text(pdf.content)
    assert "MAPLE" in text and dollars.number in text and "100.00" in text
    assert invoice.number not in text  # its CAD account's
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    assert dollars.number in csv.content.decode() and invoice.number not in csv.content.decode()
    assert csv["Referrer-Policy"] == "no-referrer"
    assert f"{PDF}?start=2000-01-01&amp;end=" in page and "currency=USD" in page


def test_another_clients_documents_are_never_on_the_statement(ann, birch, invoice):
    theirs = issued(client=birch)

    text = ann.get(STATEMENT, {"start": "2000-01-01"}).text

    assert invoice.number in text and theirs.number not in text and "Birch" not in text
