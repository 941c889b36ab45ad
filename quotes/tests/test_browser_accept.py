"""The client's side of a quote in a real browser (Debian's chromium, driven by Playwright):
the link from the e-mail received, opened without a login; the box ticked, the name typed,
Accept (or Decline with a reason); the page then shows the answer."""

import pytest

from links.tests.helpers import LINK, sent_quote
from quotes import sending
from quotes.models import Answer, QuoteStatus
from tests.factories import ClientFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def e_mailed_link(live_server, smtp, office_user):
    """A quote sent to its client through the outbox: (quote, the link in the e-mail)."""
    client = ClientFactory(name="Maple Leaf Property", email="ann@maple.example.com")
    quote = sent_quote(client=client, user=office_user)
    sending.send_quote(
        quote=quote,
        acting_user=office_user,
        base_url=live_server.url,
        **sending.quote_message_defaults(quote),
    )
    [received] = smtp.received
    return quote, LINK.search(received.text()).group(0)


def test_the_client_accepts_the_quote_from_the_e_mail(browser_page, e_mailed_link, smtp):
    page = browser_page
    quote, link = e_mailed_link

    page.goto(link)
    page.get_by_text("Kitchen cabinets").wait_for()
    page.get_by_label("I accept these terms").check()
    page.get_by_label("Your name").fill("Ann Smith")
    page.get_by_role("button", name="Accept").click()

    page.get_by_text("Accepted by Ann Smith on").wait_for()
    assert page.get_by_role("button", name="Accept").count() == 0
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.ACCEPTED
    assert quote.answer.answer == Answer.ACCEPTED and quote.answer.name == "Ann Smith"
    assert "Chrom" in quote.answer.user_agent
    # The business was told.
    assert (
        smtp.received[-1].message["Subject"]
        == f"Quote {quote.number} accepted by Maple Leaf Property"
    )


def test_the_client_declines_the_quote_with_a_reason(browser_page, e_mailed_link):
    page = browser_page
    quote, link = e_mailed_link

    page.goto(link)
    page.get_by_label("Your name").fill("Ann Smith")
    page.get_by_label("Reason for declining (optional)").fill("We found a closer firm.")
    page.get_by_role("button", name="Decline").click()

    page.get_by_text("Declined by Ann Smith on").wait_for()
    page.get_by_text("We found a closer firm.").wait_for()
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.DECLINED
    assert quote.answer.reason == "We found a closer firm."


def test_accepting_without_ticking_the_box_says_so(browser_page, e_mailed_link):
    page = browser_page
    quote, link = e_mailed_link

    page.goto(link)
    page.get_by_label("Your name").fill("Ann Smith")
    page.get_by_role("button", name="Accept").click()

    page.get_by_text("tick the box to accept the quote").wait_for()
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SENT
