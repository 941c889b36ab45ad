"""An invoice's link (SPEC: Client portal and document links): the invoice as the client
sees it, its status, balance due, how to pay, and its PDF, the office's own; every opening
recorded as a view."""

import pytest

from billing import pdf
from billing.services import cancel_invoice
from links.models import DocumentLink, DocumentView
from tests.factories import draft, pay
from tests.pdf import pdf_text

from .conftest import FIREFOX, link_to, url

pytestmark = pytest.mark.django_db


def test_the_page_shows_the_invoice_its_balance_and_how_to_pay(client, invoice, invoice_token):
    page = client.get(url("invoice_link:page", invoice_token))

    assert page.status_code == 200
    text = page.text
    assert invoice.number in text and "Kitchen cabinets" in text and "1,243.00" in text
    assert "Balance due: 1,243.00 CAD" in text
    assert "Pay by e-transfer to pay@northwind.example.com." in text  # the payment terms
    assert "Bank: Caisse 815" in text  # the invoice footer, as the PDF prints it
    assert 'name="amount"' in text and 'name="date"' in text and 'name="method"' in text
    assert 'name="reference"' in text and 'value="client_credit"' not in text
    assert (
        f'href="{url("invoice_link:pdf", invoice_token)}" download="{invoice.number}.pdf"' in text
    )
    assert '<meta name="robots" content="noindex' in text
    assert page["Referrer-Policy"] == "no-referrer"
    assert "noindex" in page["X-Robots-Tag"] and "no-store" in page["Cache-Control"]
    assert "Log out" not in text  # no office menu


def test_the_pdf_is_the_one_the_office_makes(client, invoice, invoice_token):
    response = client.get(url("invoice_link:pdf", invoice_token))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Referrer-Policy"] == "no-referrer"
    assert response.content == pdf.invoice_pdf(invoice)
    text = pdf_text(response.content)
    assert invoice.number in text and "1,243.00" in text


def test_every_opening_of_the_page_and_the_pdf_is_recorded(client, invoice, invoice_token):
    client.get(
        url("invoice_link:page", invoice_token), REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT=FIREFOX
    )
    client.get(
        url("invoice_link:pdf", invoice_token), REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT=FIREFOX
    )
    client.head(url("invoice_link:page", invoice_token))  # a mail scanner's check: no view

    link = DocumentLink.objects.get(invoice=invoice)
    assert link.view_count == 2 and link.first_viewed_at and link.last_viewed_at
    assert [(v.ip_address, v.user_agent) for v in DocumentView.objects.all()] == [
        ("203.0.113.9", FIREFOX),
        ("203.0.113.9", FIREFOX),
    ]


def test_a_cancelled_invoice_shows_as_cancelled_without_the_form(client, invoice, invoice_token):
    cancel_invoice(invoice=invoice, acting_user=None, reason="Sent twice")

    text = client.get(url("invoice_link:page", invoice_token)).text

    assert 'data-state="cancelled"' in text and "cancelled this invoice" in text
    assert 'name="amount"' not in text
    assert client.get(url("invoice_link:pdf", invoice_token)).status_code == 200


def test_a_paid_invoice_shows_as_paid_without_the_form(client, invoice, invoice_token):
    pay(invoice, "1243.00")

    text = client.get(url("invoice_link:page", invoice_token)).text

    assert 'data-state="paid"' in text and "This invoice is paid" in text
    assert 'name="amount"' not in text


def test_a_draft_is_never_shown(client, maple, invoice, invoice_token):
    """No link is issued for a draft (links.tests); one written into the database anyway
    still shows nothing."""
    other = draft(client=maple)
    DocumentLink.objects.filter(invoice=invoice).update(invoice=other)

    assert client.get(url("invoice_link:page", invoice_token)).status_code == 404
    assert client.get(url("invoice_link:pdf", invoice_token)).status_code == 404
    assert client.post(url("invoice_link:page", invoice_token), {"amount": "1"}).status_code == 404
    assert not DocumentView.objects.exists()


def test_a_link_opens_its_own_invoice_and_no_other(client, maple, invoice, invoice_token):
    from tests.factories import ClientFactory, issued, line

    other = issued(client=ClientFactory(name="Birch Co"), lines=[line(description="Roof repair")])
    link_to(other, "x@birch.example.com")

    page = client.get(
        url("invoice_link:page", invoice_token), {"invoice": other.pk, "pk": other.pk}
    )
    assert invoice.number in page.text and other.number not in page.text
    assert "Roof repair" not in page.text and "Birch Co" not in page.text
