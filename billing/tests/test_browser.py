"""A person's day in a real browser (Debian's chromium, driven by Playwright): log in, add a
client, make a draft from a saved service (the line prefilled and the live totals shown by
JavaScript), issue it, record a payment, open the invoice; then a screenshot of the invoice
page and the browser's print-to-PDF of it, read back for the totals."""

import os
import shutil
import subprocess
from decimal import Decimal

import pytest

from billing.models import Invoice, InvoiceStatus
from tests.factories import ServiceFactory

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PASSWORD = "Browser-test-pw-2026"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_page(live_server, tmp_path):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
    # still plain synchronous code.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900}, base_url=live_server.url)
        page.set_default_timeout(15000)
        yield page
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def office_user(migration_rows, business, django_user_model):
    from accounts.services import create_user

    return create_user(username="maria", role="bookkeeper", password=PASSWORD)


def test_a_day_at_the_office(browser_page, office_user, tmp_path):
    page = browser_page
    ServiceFactory(code="PAINT", name="Interior painting", unit="h", unit_price=Decimal("65"))

    page.goto("/login/")
    page.fill("input[name=username]", "maria")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")

    # A new client.
    page.goto("/clients/new/")
    page.fill("input[name=code]", "lakeview")
    page.fill("input[name=name]", "Lakeview Dental")
    page.fill("input[name=country]", "CA")
    page.select_option("select[name=default_currency]", "CAD")
    page.click("main form button[type=submit]")
    page.wait_for_url("**/clients/LAKEVIEW/")

    # A draft from the saved service: the line is prefilled, the totals appear.
    page.goto("/invoices/new/?client=LAKEVIEW")
    page.select_option("select[name=lines-0-service]", "PAINT")
    assert page.input_value("input[name=lines-0-description]") == "Interior painting"
    assert page.input_value("input[name=lines-0-unit_price]") == "65"
    page.fill("input[name=lines-0-quantity]", "7.5")
    total = page.locator("[data-total=total]")
    total.filter(has_text="550.88 CAD").wait_for()  # 487.50 + 13 % HST (63.375 -> 63.38)
    page.click("text=Save draft")
    page.wait_for_url("**/invoices/draft/*/")
    invoice = Invoice.objects.get()
    assert invoice.total == Decimal("550.88")

    # Issue it.
    page.click("a:has-text('Issue')")
    page.click("main form button[type=submit]")
    page.wait_for_url("**/invoices/INV-0001/")

    # Record a payment of part of it.
    page.click("a:has-text('Record payment')")
    assert page.input_value("input[name=invoice]") == "INV-0001"
    page.fill("input[name=amount]", "200.00")
    page.click("main form button[type=submit]")
    page.wait_for_url("**/invoices/INV-0001/")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PARTIAL
    body = page.locator("body").inner_text()
    for text in ("INV-0001", "Lakeview Dental", "Interior painting", "550.88", "350.88"):
        assert text in body, text

    # What the client would see, on screen and printed from the browser.
    shot = tmp_path / "invoice.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    printed = tmp_path / "invoice.pdf"
    page.emulate_media(media="print")
    page.pdf(path=str(printed), format="A4")
    text = subprocess.run(
        ["pdftotext", "-layout", str(printed), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "INV-0001" in text
    assert "550.88" in text
    assert "350.88" in text
    assert "Log out" not in text  # no navigation on paper
