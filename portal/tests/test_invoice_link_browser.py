"""An invoice's link on a phone, in a real browser (Debian's chromium): the page fits 390 px
without scrolling sideways, and "I've paid" can be filled in and sent."""

import pytest

from billing.models import Payment, PaymentStatus
from settings_app.selectors import business_today

from .conftest import url

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}


@pytest.fixture(autouse=True)
def _rows(migration_rows):
    pass


def test_the_invoice_link_works_on_a_phone(browser_page, invoice, invoice_token):
    page = browser_page
    page.set_viewport_size(PHONE)
    page.goto(url("invoice_link:page", invoice_token))

    assert page.locator(".doc-number").first.inner_text() == invoice.number
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.fill("input[name=amount]", "243.00")
    page.fill("input[name=date]", business_today().isoformat())
    page.select_option("select[name=method]", "e_transfer")
    page.fill("input[name=reference]", "TX-9")
    submit = page.locator("button:has-text('Send payment report')")
    submit.scroll_into_view_if_needed()
    box = submit.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    submit.click()

    page.locator(".payment-reported").wait_for()
    assert "TX-9" in page.locator(".pending-payments").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.PENDING and str(payment.amount) == "243.00"


@pytest.mark.parametrize("viewport", [{"width": 1366, "height": 800}, PHONE])
def test_the_statement_link_keeps_its_columns_apart(browser_page, statement_token, viewport):
    """Each cell of the statement holds its text (a date never runs into the entry beside
    it), at desktop width and on a phone, where each row is a block of labelled figures."""
    page = browser_page
    page.set_viewport_size(viewport)
    page.goto(url("statement_link:page", statement_token))
    page.locator(".statement-entries").wait_for()

    spilling = page.evaluate(
        """() => [...document.querySelectorAll('.statement-entries th, .statement-entries td')]
            .filter(cell => cell.scrollWidth > cell.clientWidth + 1)
            .map(cell => cell.textContent.trim())"""
    )
    assert spilling == []
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
