"""The signed-in client's pages in a real browser (Debian's chromium): every page fits a
desktop and a phone without scrolling sideways, on a phone a list's rows become cards
whose cells name their column, and the menu opens behind its button. (The client's whole
visit, signing in from the e-mail, is test_portal_browser.py.)"""

import pytest
from django.core import signing
from django.urls import reverse

from links.tests.helpers import sent_quote
from portal.access import COOKIE_NAME, SALT
from tests.factories import pay

from .conftest import sign_in_directly

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 800}


@pytest.fixture(autouse=True)
def _rows(migration_rows):
    pass


@pytest.fixture
def signed_in_page(browser_page, live_server, maple):
    _session, key = sign_in_directly(maple.email)
    browser_page.context.add_cookies(
        [
            {
                "name": COOKIE_NAME,
                "value": signing.Signer(salt=SALT).sign(key),
                "url": live_server.url + "/portal/",
            }
        ]
    )
    return browser_page


def fits(page, width) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE])
def test_every_page_fits_the_screen(signed_in_page, invoice, credit_note, maple, viewport):
    pay(invoice, "100.00", confirmed=False)
    quote = sent_quote(client=maple)
    page = signed_in_page
    page.set_viewport_size(viewport)
    pages = [
        reverse("portal:home"),
        reverse("portal:invoices"),
        reverse("portal:invoice", args=[invoice.number]),
        reverse("portal:credit_notes"),
        reverse("portal:credit_note", args=[credit_note.number]),
        reverse("portal:quotes"),
        reverse("portal:quote", args=[quote.number]),
        reverse("portal:payments"),
        reverse("portal:statement"),
    ]
    too_wide = []
    for path in pages:
        response = page.goto(path)
        assert response is not None and response.ok, path
        if not fits(page, viewport["width"]):
            too_wide.append(path)
    assert too_wide == []


def test_on_a_phone_a_list_is_a_card_a_row_and_the_menu_opens(signed_in_page, invoice):
    page = signed_in_page
    page.set_viewport_size(PHONE)
    page.goto(reverse("portal:invoices"))

    row = page.locator(f'tr[data-number="{invoice.number}"]')
    assert row.evaluate("tr => getComputedStyle(tr).display") == "block"
    labels = row.evaluate("tr => [...tr.cells].map(td => getComputedStyle(td, '::before').content)")
    assert '"Balance due"' in labels  # each cell named by its column
    assert not page.locator("#portal-menu").is_visible()
    page.locator(".navbar-toggler").click()
    page.locator("#portal-menu a:has-text('Statement')").click()
    page.wait_for_url("**/portal/statement/")
    assert page.locator(".statement-entries").is_visible()
