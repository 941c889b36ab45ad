"""Every office page fits a phone (issue 16, item 5): at 390 px nothing scrolls sideways,
and the invoice's description column keeps a readable width."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from billing import services
from outbox.models import Message, MessageKind
from tests.browser import PASSWORD, USERNAME
from tests.factories import ClientFactory, ServiceFactory, draft, issued, line, pay

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}
# What sticks out, to say in the failure where to look.
WIDEST = """() => {
  const clipped = (e) => {
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== "visible") return true;
    }
    return false;
  };
  return [...document.querySelectorAll("body *")]
    .filter(e => e.getBoundingClientRect().right > window.innerWidth && !clipped(e))
    .slice(-3).map(e => `${e.tagName}.${e.className}:${e.getBoundingClientRect().right}`)
    .join(", ");
}"""


def office_pages(acme, draft_invoice, invoice, payment, message) -> list[str]:
    """Every page of the office (the url confs' pages that answer a GET), with data."""
    return [
        "/",
        reverse("clients:list"),
        reverse("clients:create"),
        reverse("clients:detail", args=[acme.code]),
        reverse("clients:edit", args=[acme.code]),
        reverse("clients:ledger", args=[acme.code]),
        reverse("services:list"),
        reverse("services:create"),
        reverse("services:edit", args=["PAINT"]),
        reverse("invoices:list"),
        reverse("invoices:create"),
        reverse("invoices:draft_detail", args=[draft_invoice.pk]),
        reverse("invoices:edit", args=[draft_invoice.pk]),
        reverse("invoices:issue", args=[draft_invoice.pk]),
        reverse("invoices:delete", args=[draft_invoice.pk]),
        reverse("invoices:detail", args=[invoice.number]),
        reverse("invoices:edit", args=[invoice.pk]),
        reverse("invoices:cancel", args=[invoice.pk]),
        reverse("invoices:send", args=[invoice.pk]),
        reverse("payments:list"),
        reverse("payments:create"),
        reverse("payments:edit", args=[payment.pk]),
        reverse("payments:reverse", args=[payment.pk]),
        reverse("outbox:list"),
        reverse("outbox:detail", args=[message.pk]),
        reverse("reports:index"),
        reverse("reports:revenue") + "?start=2026-01-01&end=2026-12-31",
        reverse("reports:outstanding"),
        reverse("reports:tax"),
        reverse("reports:statement") + f"?client={acme.code}&start=2026-01-01",
        reverse("settings"),
        reverse("audit"),
        reverse("second_factor"),
    ]


def test_every_office_page_fits_a_phone(browser_page, migration_rows, business):
    from accounts.services import create_user

    create_user(username=USERNAME, role="administrator", password=PASSWORD)
    ServiceFactory(code="PAINT", name="Interior painting", unit_price=Decimal("65"))
    acme = ClientFactory(
        code="ACMERENOVATIONS",
        name="Acme Renovations and Property Maintenance Ltd.",
        email="accounts.payable@acme-renovations.example.com",
    )
    long_line = line(
        description="Interior painting of the main hall, two coats, ceilings included",
        quantity="12.5",
        unit_price="1234.5678",
    )
    draft_invoice = draft(client=acme, lines=[long_line, line(description="Materials")])
    invoice = issued(client=acme, lines=[long_line, line(description="Materials")])
    pay(invoice, "100.00")
    payment = pay(invoice, "50.00", confirmed=False)
    services.post_manual_credit(client=acme, amount="25.00", memo="Goodwill", acting_user=None)
    message = Message.objects.create(
        kind=MessageKind.TEST,
        from_address="office@example.com",
        to_addresses="accounts.payable@acme-renovations.example.com",
        subject="Invoice INV-0001 from My Business for 15,000.00 CAD",
        body="Hello",
        message_id="<t@example.com>",
        sent_at=datetime.datetime(2026, 12, 3, 18, 35, tzinfo=datetime.UTC),
        status="sent",
    )

    page = browser_page
    page.set_viewport_size(PHONE)
    page.goto("/login/")
    too_wide = {}
    if page.evaluate("document.documentElement.scrollWidth") > PHONE["width"]:
        too_wide["/login/"] = page.evaluate(WIDEST)
    page.fill("input[name=username]", USERNAME)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    for url in office_pages(acme, draft_invoice, invoice, payment, message):
        response = page.goto(url)
        assert response is not None and response.ok, url
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            too_wide[url] = (width, page.evaluate(WIDEST))
    assert not too_wide, f"pages wider than {PHONE['width']} px: {too_wide}"

    page.goto(reverse("invoices:detail", args=[invoice.number]))
    description = page.locator(".col-description").first
    assert description.evaluate("cell => cell.getBoundingClientRect().width") >= 120
