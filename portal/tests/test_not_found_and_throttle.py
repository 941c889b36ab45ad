"""Links that open nothing (SPEC: Client portal and document links): unknown, malformed,
expired, revoked, replaced, of another kind or of another document all get the same bytes,
nothing is recorded, the token is not logged. Tokens cannot be guessed at speed: a token
that opens nothing counts a failure against the address (accounts.throttle), and while the
address is locked every link page, the quote's too, answers "not found", right or wrong."""

import datetime
import logging

import pytest
import time_machine

from accounts.models import SignInThrottle
from audit.models import AuditRecord
from billing.services import create_credit_note
from links.documents import Statement
from links.models import DocumentView
from links.services import revoke_link
from links.tests.helpers import link_for, page_url, sent_quote
from tests.factories import ClientFactory, issued, line

from .conftest import link_to, url

pytestmark = pytest.mark.django_db

PAGES = [
    ("invoice_link:page", "invoice_link:pdf"),
    ("credit_note_link:page", "credit_note_link:pdf"),
    ("statement_link:page", "statement_link:pdf", "statement_link:csv"),
]


def test_every_link_that_opens_nothing_gets_the_same_answer(
    client, maple, invoice, credit_note, statement_dates, caplog
):
    _link, expired = link_to(invoice, "old@maple.example.com")
    revoked_link, revoked = link_to(invoice, "gone@maple.example.com")
    revoke_link(link=revoked_link, acting_user=None)
    _link, replaced = link_to(invoice)
    link_to(invoice)
    _link, of_a_credit_note = link_to(credit_note)
    _link, of_a_statement = link_to(Statement(maple, *statement_dates))
    other_invoice = issued(client=ClientFactory(), lines=[line()])
    _link, of_another_invoice = link_to(other_invoice, "x@example.com")
    unknown = "A" * 43
    garbage = ["x", "%00", "A" * 500, "..", "%2e%2e", "<script>"]
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=91)

    answers = []
    with caplog.at_level(logging.DEBUG):
        # Of another kind: an invoice's token on the credit note's and statement's pages...
        for token in [replaced, revoked, unknown, *garbage]:
            for names in PAGES:
                for name in names:
                    answers.append((token, client.get(url(name, token))))
        for token in (of_a_credit_note, of_a_statement):
            answers.append((token, client.get(url("invoice_link:page", token))))
            answers.append((token, client.post(url("invoice_link:page", token), {"amount": "1"})))
        answers.append((of_a_statement, client.get(url("credit_note_link:page", of_a_statement))))
        answers.append((of_a_credit_note, client.get(url("statement_link:csv", of_a_credit_note))))
        with time_machine.travel(later):
            answers.append((expired, client.get(url("invoice_link:page", expired))))
            answers.append((expired, client.get(url("invoice_link:pdf", expired))))
        for path in ("/i/", f"/i/{unknown}/more/", f"/c/{unknown}", f"/s/{unknown}/pdf/x"):
            answers.append((unknown, client.get(path, follow=True)))

    first = answers[0][1]
    assert first.status_code == 404 and "This link does not open anything" in first.text
    for _token, response in answers:
        assert response.status_code == 404
        assert response.content == first.content
        assert response["Referrer-Policy"] == "no-referrer"
        assert response.get("Set-Cookie") is None
    for token, _response in answers:
        assert token not in caplog.text
    assert not DocumentView.objects.exists()
    # The other invoice's own link still opens it, and only it.
    page = client.get(url("invoice_link:page", of_another_invoice), REMOTE_ADDR="198.51.100.1")
    assert other_invoice.number in page.text and invoice.number not in page.text


def test_a_draft_credit_note_is_never_shown(client, invoice, credit_note):
    from links.models import DocumentLink

    _link, token = link_to(credit_note)
    draft = create_credit_note(invoice=invoice, acting_user=None, kind="amount", amount="10")
    DocumentLink.objects.filter(credit_note=credit_note).update(credit_note=draft)

    assert client.get(url("credit_note_link:page", token)).status_code == 404
    assert client.get(url("credit_note_link:pdf", token)).status_code == 404


# --- Throttling -----------------------------------------------------------------------------
GUESSER = "203.0.113.66"
SOMEONE_ELSE = "198.51.100.20"


@pytest.fixture
def few_free(settings):
    settings.OTB_SIGNIN_FREE_FAILURES_PER_ADDRESS = 3
    settings.OTB_SIGNIN_FIRST_PAUSE = 60


def guess(client, n, prefix="invoice_link:page"):
    for i in range(n):
        token = f"{i:043d}"
        assert client.get(url(prefix, token), REMOTE_ADDR=GUESSER).status_code == 404


def test_a_token_that_opens_nothing_counts_against_the_address(client, invoice, few_free):
    guess(client, 2)

    row = SignInThrottle.objects.get(key=f"address:{GUESSER}")
    assert row.failures == 2 and row.locked_until is None
    assert AuditRecord.objects.filter(object_repr="document link opened nothing").count() == 2


def test_a_valid_token_is_never_counted(client, invoice, invoice_token, few_free):
    for _ in range(10):
        assert (
            client.get(url("invoice_link:page", invoice_token), REMOTE_ADDR=GUESSER).status_code
            == 200
        )

    assert not SignInThrottle.objects.exists()


def test_a_locked_address_gets_not_found_for_every_link_even_a_valid_one(
    client, maple, invoice, invoice_token, statement_token, few_free
):
    quote = sent_quote(client=maple)
    _link, quote_token = link_for(quote)
    guess(client, 4)  # three free, the fourth locks the address for a minute
    assert SignInThrottle.objects.get(key=f"address:{GUESSER}").locked_until is not None
    not_found = client.get(url("invoice_link:page", "B" * 43), REMOTE_ADDR=GUESSER).content

    for path in (
        url("invoice_link:page", invoice_token),
        url("invoice_link:pdf", invoice_token),
        url("statement_link:page", statement_token),
        page_url(quote_token),
    ):
        response = client.get(path, REMOTE_ADDR=GUESSER)
        assert response.status_code == 404 and response.content == not_found, path
    posted = client.post(
        url("invoice_link:page", invoice_token), {"amount": "1"}, REMOTE_ADDR=GUESSER
    )
    assert posted.status_code == 404
    assert not DocumentView.objects.exists()
    # Refused unchecked: the failures no longer grow while locked.
    assert SignInThrottle.objects.get(key=f"address:{GUESSER}").failures == 4

    # Another address opens the same links meanwhile.
    assert (
        client.get(url("invoice_link:page", invoice_token), REMOTE_ADDR=SOMEONE_ELSE).status_code
        == 200
    )
    assert client.get(page_url(quote_token), REMOTE_ADDR=SOMEONE_ELSE).status_code == 200

    # Once the pause is over, the guesser's address opens a valid link again.
    with time_machine.travel(datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=3)):
        assert (
            client.get(url("invoice_link:page", invoice_token), REMOTE_ADDR=GUESSER).status_code
            == 200
        )


def test_bad_quote_tokens_count_too(client, maple, few_free):
    quote = sent_quote(client=maple)
    _link, token = link_for(quote)
    for i in range(4):
        client.get(page_url(f"{i:043d}"), REMOTE_ADDR=GUESSER)

    assert client.get(page_url(token), REMOTE_ADDR=GUESSER).status_code == 404
    assert client.get(page_url(token), REMOTE_ADDR=SOMEONE_ELSE).status_code == 200
