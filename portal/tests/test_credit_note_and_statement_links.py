"""A credit note's link and a statement's link (SPEC: Client portal and document links):
the document, its PDF (and the statement's CSV), each opening recorded; the statement as
the books stand when it is opened, with the office's figures for the same dates."""

import pytest

from links.models import DocumentLink, DocumentView
from reports import selectors as reports
from tests.factories import pay
from tests.pdf import pdf_text

from .conftest import url

pytestmark = pytest.mark.django_db


# --- A credit note --------------------------------------------------------------------------
@pytest.fixture
def credit_note_token(credit_note):
    from .conftest import link_to

    return link_to(credit_note)[1]


def test_the_credit_note_page_shows_the_credit_note(
    client, credit_note, credit_note_token, invoice
):
    page = client.get(url("credit_note_link:page", credit_note_token))

    assert page.status_code == 200
    text = page.text
    assert credit_note.number in text and "113.00" in text and "Scratched door" in text
    assert f"Credit on invoice {invoice.number}" in text
    assert '<meta name="robots" content="noindex' in text
    assert page["Referrer-Policy"] == "no-referrer"
    assert f'download="{credit_note.number}.pdf"' in text


def test_the_credit_note_pdf_is_the_offices(client, credit_note, credit_note_token):
    response = client.get(url("credit_note_link:pdf", credit_note_token))

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert credit_note.number in text and "113.00" in text
    assert DocumentLink.objects.get(credit_note=credit_note).view_count == 1


# --- A statement ----------------------------------------------------------------------------
def test_the_statement_page_shows_the_account_with_aging(client, maple, invoice, statement_token):
    page = client.get(url("statement_link:page", statement_token))

    assert page.status_code == 200
    text = page.text
    assert "Maple Leaf Property" in text and invoice.number in text and "1,243.00" in text
    assert "Closing balance" in text and "by how late it is" in text
    assert 'data-bucket="total">1,243.00 CAD' in text
    assert '<meta name="robots" content="noindex' in text
    assert DocumentLink.objects.get(kind="statement").view_count == 1


def test_the_statement_is_as_the_books_stand_when_opened(client, invoice, statement_token):
    before = client.get(url("statement_link:page", statement_token)).context["report"]
    pay(invoice, "243.00")

    after = client.get(url("statement_link:page", statement_token)).context["report"]

    assert before.closing == -invoice.total
    assert after.closing == -invoice.total + 243


def test_the_statement_figures_equal_the_offices_for_the_same_dates(
    client, bookkeeper, maple, invoice, statement_token, statement_dates
):
    pay(invoice, "100.00")
    start, end = statement_dates
    link_page = client.get(url("statement_link:page", statement_token))
    link_csv = client.get(url("statement_link:csv", statement_token))
    client.force_login(bookkeeper)
    query = {"client": maple.code, "start": start.isoformat(), "end": end.isoformat()}
    office_page = client.get("/reports/statement/", query)
    office_csv = client.get("/reports/statement/", {**query, "format": "csv"})

    mine, theirs = link_page.context["report"], office_page.context["report"]
    assert (mine.start, mine.end, mine.currency) == (theirs.start, theirs.end, theirs.currency)
    assert (mine.opening, mine.closing) == (theirs.opening, theirs.closing)
    assert [(e.date, e.kind, e.amount, e.running) for e in mine.entries] == [
        (e.date, e.kind, e.amount, e.running) for e in theirs.entries
    ]
    assert [(i.number, i.balance_at) for i in mine.open_invoices] == [
        (i.number, i.balance_at) for i in theirs.open_invoices
    ]
    assert link_csv.content == office_csv.content
    office_aging = reports.aging(end, client=maple).rows[0]
    assert link_page.context["aging"].buckets == office_aging.buckets


def test_the_statement_pdf_and_csv(client, maple, invoice, statement_token):
    pdf_response = client.get(url("statement_link:pdf", statement_token))
    csv_response = client.get(url("statement_link:csv", statement_token))

    assert pdf_response.status_code == 200 and pdf_response["Content-Type"] == "application/pdf"
    text = pdf_text(pdf_response.content)
    assert "MAPLE" in text and invoice.number in text and "1,243.00" in text
    assert csv_response.status_code == 200
    assert csv_response["Content-Type"].startswith("text/csv")
    assert csv_response["Referrer-Policy"] == "no-referrer"
    assert invoice.number in csv_response.content.decode()
    assert "-1243.00" in csv_response.content.decode()
    assert DocumentView.objects.count() == 2


def test_a_currency_the_client_has_no_account_in_opens_nothing(client, statement_token):
    assert (
        client.get(url("statement_link:page", statement_token), {"currency": "EUR"}).status_code
        == 404
    )
    assert (
        client.get(url("statement_link:csv", statement_token), {"currency": "XXX"}).status_code
        == 404
    )
