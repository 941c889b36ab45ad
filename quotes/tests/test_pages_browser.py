"""The quote form and buttons in a real browser (Debian's chromium, driven by Playwright):
the invoice form's script shows the quote's live totals, also for a sent quote whose client
the page shows disabled; the detail page's buttons open their forms and post them."""

from decimal import Decimal

import pytest

from quotes.models import Quote, QuoteAnswer, QuoteChange, QuoteStatus
from tests.browser import log_in
from tests.factories import ClientFactory, ServiceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_quote_made_sent_changed_and_declined_in_the_browser(browser_page, office_user):
    page = browser_page
    ClientFactory(code="LAKEVIEW", name="Lakeview Dental")
    ServiceFactory(code="PAINT", name="Interior painting", unit="h", unit_price=Decimal("65"))
    log_in(page)

    # A new quote from a saved service: the line is prefilled, the totals appear.
    page.goto("/quotes/new/?client=LAKEVIEW")
    page.select_option("select[name=lines-0-service]", "PAINT")
    assert page.input_value("input[name=lines-0-description]") == "Interior painting"
    page.fill("input[name=lines-0-quantity]", "7.5")
    page.locator("[data-total=total]").filter(has_text="550.88 CAD").wait_for()
    page.fill("input[name=valid_until]", "2030-01-31")
    page.click("text=Save draft")
    page.wait_for_url("**/quotes/*/")
    quote = Quote.objects.get()
    assert quote.total == Decimal("550.88") and quote.is_draft

    # Mark it sent from its page: the button opens the form in place.
    # The buttons open their forms in place once Bootstrap's script has run (the load
    # event); clicked before, they follow their link to the form's page of its own.
    page.wait_for_load_state("load")
    page.click("a:has-text('Mark as sent')")
    page.locator("#mark-sent-panel.show").wait_for()
    page.click("#mark-sent-panel button[type=submit]")
    page.locator(".alert-success", has_text="Quote marked as sent.").wait_for()
    quote.refresh_from_db()
    assert quote.number == "Q-0001" and quote.status == QuoteStatus.SENT

    # Change it: the client is shown disabled, and the live totals still come.
    page.click(".quote-actions a:has-text('Edit')")
    assert page.locator("input[name=client]").is_disabled()
    page.fill("input[name=lines-0-quantity]", "10")
    page.locator("[data-total=total]").filter(has_text="734.50 CAD").wait_for()
    page.click("text=Save changes")
    page.locator(".quote-changes").wait_for()
    assert QuoteChange.objects.filter(quote=quote).count() == 1

    # The client declines by phone: recorded on its behalf.
    # The buttons open their forms in place once Bootstrap's script has run (the load
    # event); clicked before, they follow their link to the form's page of its own.
    page.wait_for_load_state("load")
    page.click("a:has-text('Record the client')")
    page.locator("#answer-panel.show").wait_for()  # opened in place, not mid-animation
    page.check("#answer-panel input[value=declined]")
    page.fill("#answer-panel input[name=name]", "Dr. Lake")
    page.click("#answer-panel button[type=submit]")
    page.locator(".quote-answer", has_text="Dr. Lake").wait_for()
    assert QuoteAnswer.objects.get(quote=quote).answer == "declined"
