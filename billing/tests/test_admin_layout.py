"""The back office agrees with the office pages (issue 16, item 6): balance due is the
positive amount owed, and at 1366 px the total and balance columns are on the screen."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from tests.browser import PASSWORD, USERNAME
from tests.factories import ClientFactory, issued, line, pay

D = Decimal


@pytest.mark.django_db
def test_the_invoice_list_shows_balance_due_as_the_office_pages_do(client, bookkeeper, business):
    invoice = issued(
        client=ClientFactory(code="ACME", name="Acme Renovations Ltd."),
        lines=[line(unit_price="1000.00")],
    )
    pay(invoice, "2.80")
    invoice.refresh_from_db()
    assert invoice.balance_due == D("1127.20")
    client.force_login(bookkeeper)
    page = client.get(reverse("admin:billing_invoice_changelist")).content.decode()
    row = re.search(r'<td class="field-balance_due_display[^"]*">(.*?)</td>', page).group(1)
    assert "1,127.20 CAD" in row
    assert "−" not in row and "-1" not in row


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_invoice_list_fits_1366_pixels(browser_page, migration_rows, business):
    from accounts.services import create_user

    create_user(username=USERNAME, role="bookkeeper", password=PASSWORD)
    for n in range(3):
        issued(
            client=ClientFactory(
                code=f"LONGCODE{n}", name="Northwind Renovations and Property Services Ltd."
            ),
            lines=[line(quantity="9.999", unit_price="99999999.99")],
        )
    page = browser_page
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto("/admin/login/")
    page.fill("input[name=username]", USERNAME)
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]")
    page.goto("/admin/billing/invoice/")
    page.locator("#result_list").wait_for()
    assert page.locator("#changelist-filter").is_visible()
    width = page.evaluate("window.innerWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    # Django's .results box scrolls sideways on its own: the cells must fit inside it too.
    box = page.locator("#changelist .results").evaluate("box => box.getBoundingClientRect().right")
    width = min(width, box)
    for column in (".field-total_display", ".field-balance_due_display"):
        right = page.locator(f"#result_list td{column}").first.evaluate(
            "cell => cell.getBoundingClientRect().right"
        )
        assert right <= width, (column, right, width)
