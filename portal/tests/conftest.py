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


# --- A contact signed in to the portal ------------------------------------------------------
def sign_in_directly(email: str):
    """A portal session for ``email`` (on file for a client), as pressing "Sign in" on an
    e-mailed link starts one (portal.services.sign_in), without the e-mail: (session, key)."""
    from django.utils import timezone

    from links.documents import hash_token, new_token
    from portal.models import SignInLink
    from portal.services import SIGN_IN_LINK_LIFETIME, sign_in

    token, now = new_token(), timezone.now()
    SignInLink.objects.create(
        email=email.lower(),
        token_hash=hash_token(token),
        created_at=now,
        expires_at=now + SIGN_IN_LINK_LIFETIME,
    )
    return sign_in(token=token, ip_address="203.0.113.7", user_agent=FIREFOX)


@pytest.fixture
def portal_client_for(business):
    """``portal_client_for(client)``: a browser signed in to the portal as the client's
    address (or ``email=``, another on file), showing that client."""
    from django.core import signing
    from django.test import Client as Browser

    from portal.access import COOKIE_NAME, SALT
    from portal.services import choose_client

    def signed_in(client, *, email: str | None = None) -> Browser:
        session, key = sign_in_directly(email or client.email)
        if session.client_id != client.pk:
            choose_client(session=session, client_id=client.pk)
        browser = Browser(HTTP_USER_AGENT=FIREFOX, REMOTE_ADDR="203.0.113.7")
        browser.cookies[COOKIE_NAME] = signing.Signer(salt=SALT).sign(key)
        return browser

    return signed_in


@pytest.fixture
def birch(business):
    """Another client, with an address of its own."""
    return ClientFactory(code="BIRCH", name="Birch Builders", email="ben@birch.example.com")
