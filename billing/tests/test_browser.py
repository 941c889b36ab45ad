"""A person's day in a real browser (Debian's chromium, driven by Playwright): log in, add a
client, make a draft from a saved service (the line prefilled and the live totals shown by
JavaScript), issue it, record a payment, open the invoice; then a screenshot of the invoice
page and the browser's print-to-PDF of it, read back for the totals."""

import subprocess
from decimal import Decimal

import pytest

from billing.models import Invoice, InvoiceStatus
from tests.browser import log_in
from tests.factories import ClientFactory, ServiceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fill_new_client(page, code: str, name: str) -> None:
    """Fill the open new-client form as a person does (a Canadian client in CAD) and save."""
    page.fill("input[name=code]", code)
    page.fill("input[name=name]", name)
    page.fill("input[name=country]", "CA")
    page.select_option("select[name=default_currency]", "CAD")
    page.click("main form button[type=submit]")


def test_a_day_at_the_office(browser_page, office_user, tmp_path):
    page = browser_page
    ServiceFactory(code="PAINT", name="Interior painting", unit="h", unit_price=Decimal("65"))

    log_in(page)

    # A new client.
    page.goto("/clients/new/")
    fill_new_client(page, "lakeview", "Lakeview Dental")
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


def test_a_blank_invoice_form_shows_no_error(browser_page, office_user):
    """Issue 16, item 11: the blank form said "Check the highlighted fields" in red, and
    nothing was highlighted."""
    page = browser_page
    ClientFactory(code="ACME", name="Acme")
    log_in(page)
    page.goto("/invoices/new/")
    message = page.locator("[data-total=message]")
    message.filter(has_text="Choose a client to see the totals.").wait_for()
    assert "text-danger" not in (message.get_attribute("class") or "")
    assert page.locator(".is-invalid, .invalid-feedback, .alert-danger").count() == 0

    page.fill("input[name=client]", "acme")
    page.fill("input[name=lines-0-description]", "Work")
    page.fill("input[name=lines-0-unit_price]", "10")
    page.fill("input[name=lines-0-quantity]", "2x")
    message.filter(has_text="Line 1: Quantity: “2x” is not a number").wait_for()
    assert "text-danger" in (message.get_attribute("class") or "")


def test_find_a_client_type_one_into_an_invoice_and_add_one_from_it(browser_page, office_user):
    """Issue 16, item 21: the navigation's search, the client box's suggestions as one
    types, and a new client added from the invoice form."""
    page = browser_page
    ClientFactory(code="BIRCH", name="Birch Lane Bakery", contact_person="Ann Lee")
    for n in range(30):
        ClientFactory(code=f"OTHER{n:02d}", name=f"Other client {n}")
    log_in(page)

    page.fill("#nav-search", "ann lee")
    page.press("#nav-search", "Enter")
    page.wait_for_url("**/search/?q=ann+lee")
    page.locator("#found-clients a", has_text="BIRCH").click()
    page.wait_for_url("**/clients/BIRCH/")

    page.goto("/invoices/new/")
    page.fill("input[name=client]", "bakery")
    option = page.locator("datalist#client-choices option")
    option.first.wait_for(state="attached")
    assert [option.nth(i).get_attribute("value") for i in range(option.count())] == ["BIRCH"]
    page.fill("input[name=client]", "BIRCH")
    page.fill("input[name=lines-0-description]", "Bread")
    page.fill("input[name=lines-0-unit_price]", "10")
    page.locator("[data-total=total]").filter(has_text="11.30 CAD").wait_for()
    page.click("text=Save draft")
    page.wait_for_url("**/invoices/draft/*/")
    assert Invoice.objects.get().client.code == "BIRCH"

    page.goto("/invoices/new/")
    page.click("#new-client")
    fill_new_client(page, "cedar", "Cedar Cabins")
    page.wait_for_url("**/invoices/new/?client=CEDAR")
    assert page.input_value("input[name=client]") == "CEDAR"


def test_a_line_takes_the_services_price_in_the_invoices_currency(browser_page, office_user):
    """Issue 18: the line's price follows the invoice's currency (the client's, or the one
    chosen), and a price in another currency is flagged beside the line."""
    from playwright.sync_api import expect

    from billing import services

    services.create_service(
        acting_user=None, code="DESIGN", name="Design", unit_price="120", prices={"USD": "95"}
    )
    ClientFactory(code="LAKE", name="Lakeshore Realty", country="US", default_currency="USD")
    page = browser_page
    log_in(page)

    page.goto("/invoices/new/?client=LAKE")
    page.select_option("select[name=lines-0-service]", "DESIGN")
    price = page.locator("input[name=lines-0-unit_price]")
    warning = page.locator("tr.line-row [data-field=price_warning]").first
    expect(price).to_have_value("95")
    page.locator("[data-total=total]").filter(has_text="107.35 USD").wait_for()
    expect(warning).to_be_hidden()

    # No price in euros: the default one, in CAD, and the form says so.
    page.select_option("select[name=currency]", "EUR")
    expect(price).to_have_value("120")
    expect(warning).to_have_text("DESIGN is priced in CAD: check the price.")
    expect(warning).to_be_visible()

    # A price typed in euros is the user's: no warning, and it stays.
    price.fill("110")
    expect(warning).to_be_hidden()
    page.select_option("select[name=currency]", "USD")
    page.locator("[data-total=total]").filter(has_text="124.30 USD").wait_for()
    expect(price).to_have_value("110")

    # Back to the service's price, in euros, then to the client's currency: USD again.
    price.fill("")
    page.select_option("select[name=currency]", "EUR")
    expect(price).to_have_value("120")
    expect(warning).to_be_visible()
    page.select_option("select[name=currency]", "")
    expect(price).to_have_value("95")
    page.locator("[data-total=total]").filter(has_text="107.35 USD").wait_for()
    expect(warning).to_be_hidden()
