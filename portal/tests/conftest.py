import datetime

import pytest
from django.urls import reverse

from billing.services import create_credit_note, issue_credit_note
from links.documents import Statement
from links.services import issue_link
from settings_app.selectors import business_today
from tests.factories import ClientFactory, issued, line

ANN = "ann@maple.example.com"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


@pytest.fixture
def maple(business):
    business.payment_terms_text = "Pay by e-transfer to pay@northwind.example.com."
    business.invoice_footer = "Bank: Caisse 815, transit 12345, account 9876543"
    business.save()
    return ClientFactory(
        code="MAPLE",
        name="Maple Leaf Property",
        contact_person="Ann Smith",
        email=ANN,
    )


@pytest.fixture
def invoice(maple):
    """I-000n for 1,243.00 CAD (1,100.00 and 13 % HST), due in 30 days."""
    return issued(
        client=maple,
        lines=[line("10", "85.00", description="Kitchen cabinets"), line("1", "250.00")],
    )


def link_to(document, recipient=ANN):
    """A new link to ``document`` for ``recipient``: (link, token)."""
    return issue_link(document=document, recipient=recipient, acting_user=None)


@pytest.fixture
def invoice_token(invoice):
    return link_to(invoice)[1]


@pytest.fixture
def credit_note(invoice):
    note = create_credit_note(
        invoice=invoice, acting_user=None, kind="amount", amount="113.00", reason="Scratched door"
    )
    return issue_credit_note(credit_note=note, acting_user=None)


@pytest.fixture
def statement_dates(business):
    today = business_today()
    return today - datetime.timedelta(days=60), today


@pytest.fixture
def statement_token(maple, invoice, statement_dates):
    start, end = statement_dates
    return link_to(Statement(maple, start, end))[1]


def url(name: str, token: str) -> str:
    return reverse(name, args=[token])
