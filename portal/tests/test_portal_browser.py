"""A client's whole visit to the portal in a real browser (Debian's chromium, driven by
Playwright), on a desktop and on a phone (issue 21): the address typed, the link taken from
the e-mail the SMTP server received, "Sign in" pressed; the overview, the invoices (no
draft among them), "I've paid" refused for a bad amount then sent, a quote accepted, the
payment waiting on the payments page, a statement for chosen dates with its aging, PDF and
CSV; signing out. At phone width every page fits without scrolling sideways, the menu
opening from its button; the buttons wear the business's colour."""

from __future__ import annotations

import datetime
import threading
import time
from decimal import Decimal

import pytest
from django.urls import reverse

from billing.models import Payment, PaymentStatus
from billing.money import format_money
from links.tests.helpers import sent_quote
from quotes.models import QuoteStatus
from settings_app.selectors import business_today, get_business_settings
from tests.factories import draft, issued, line

from .conftest import ANN
from .signin_helpers import LINK_PATH

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
BRAND = "#8B0000"
BRAND_RGB = "rgb(139, 0, 0)"
MAIL_TIMEOUT = 15  # seconds for the sign-in e-mail to reach the SMTP server
# What sticks out past the window's right edge, to say in a failure where to look.
STICKING_OUT = """() => [...document.querySelectorAll("body *")]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
  .slice(-3).map(e => `${e.tagName}.${e.className}:${e.getBoundingClientRect().right}`)"""


@pytest.fixture
def account(migration_rows, maple, invoice, smtp):
    """Maple's account: an invoice 45 days overdue and one just issued (the ``invoice``
    fixture), a draft, a quote waiting for an answer; e-mail going to the test server;
    the business's colour dark red."""
    today = business_today()
    late = issued(
        client=maple,
        lines=[line("2", "100.00", description="Gutter cleaning")],
        issue_date=today - datetime.timedelta(days=75),
        due_date=today - datetime.timedelta(days=45),
    )
    unissued = draft(client=maple, lines=[line("1", "999.00", description="Not issued yet")])
    quote = sent_quote(client=maple)
    business = get_business_settings()
    business.brand_colour = BRAND
    business.save()
    return {
        "client": maple,
        "invoice": invoice,
        "late": late,
        "draft": unissued,
        "quote": quote,
        "owed": invoice.balance_due + late.balance_due,
    }


def wait_for_mail(server, address: str):
    """The first message ``server`` received for ``address``: the outbox delivers it in
    the live server's thread once the request's transaction commits, so it is looked for
    until it is there (or the time is up)."""
    deadline = time.monotonic() + MAIL_TIMEOUT
    pause = threading.Event()  # never set: a short wait between looks
    while time.monotonic() < deadline:
        for received in list(server.received):
            if address in received.rcpt_tos:
                return received
        pause.wait(0.05)
    pytest.fail(f"no e-mail to {address} within {MAIL_TIMEOUT} s")


def assert_fits(page, device) -> None:
    """Nothing on the page makes it scroll sideways."""
    width = device["viewport"]["width"]
    scroll_width, inner_width = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert inner_width == width, f"{page.url}: the phone zoomed out to {inner_width} px"
    assert scroll_width <= inner_width + 1, (
        f"{page.url} is {scroll_width} px wide: {page.evaluate(STICKING_OUT)}"
    )


def assert_brand(page) -> None:
    button = page.locator(".btn-primary").first
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") == BRAND_RGB


def go(page, device, label: str, name: str) -> None:
    """To the page ``label`` of the menu (behind its button on a phone)."""
    menu = page.locator("#portal-menu")
    if device is PHONE:
        assert not menu.is_visible()
        page.locator(".navbar-toggler").click()
    menu.get_by_role("link", name=label, exact=True).click()
    page.wait_for_url(f"**{reverse(name)}*")


def sign_in(page, device, smtp) -> None:
    page.goto(reverse("portal:sign_in"))
    assert_fits(page, device)
    assert_brand(page)
    page.get_by_label("Your e-mail address").fill(ANN)
    page.get_by_role("button", name="E-mail me a sign-in link").click()
    page.get_by_text("Check your e-mail.").wait_for()
    assert_fits(page, device)
    received = wait_for_mail(smtp, ANN)
    page.goto(LINK_PATH.search(received.text()).group(1))
    assert_fits(page, device)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(f"**{reverse('portal:home')}")


def report_payment(page, device, today: datetime.date) -> None:
    """ "I've paid": an amount that is no number is refused, naming the field; then a
    good report shows as pending."""
    form = page.locator("form.payment-report")
    form.locator("input[name=amount]").fill("abc")
    form.locator("input[name=date]").fill(today.isoformat())
    form.locator("select[name=method]").select_option("e_transfer")
    form.get_by_role("button", name="Send payment report").click()
    page.locator("form.payment-report .invalid-feedback").first.wait_for()
    amount = page.locator("form.payment-report input[name=amount]")
    assert "is-invalid" in (amount.get_attribute("class") or "")
    feedback = page.locator("form.payment-report .invalid-feedback").first.inner_text()
    assert feedback.startswith("Amount"), feedback
    assert_fits(page, device)

    amount.fill("100.00")
    page.locator("form.payment-report input[name=date]").fill(today.isoformat())
    page.locator("form.payment-report input[name=reference]").fill("TX-42")
    page.get_by_role("button", name="Send payment report").click()
    page.locator(".payment-reported").wait_for()
    assert "TX-42" in page.locator(".pending-payments").inner_text()
    assert_fits(page, device)


def statement(page, device, account, today: datetime.date) -> None:
    """Chosen dates; the figures and the aging; the PDF and the CSV answer."""
    start = today - datetime.timedelta(days=90)
    form = page.locator("form.portal-statement-form")
    form.locator("input[name=start]").fill(start.isoformat())
    form.locator("input[name=end]").fill(today.isoformat())
    form.get_by_role("button", name="Show").click()
    page.wait_for_url(f"**start={start.isoformat()}*")
    page.locator(".statement-aging").wait_for()
    aging = page.locator(".statement-aging")
    late, owed = account["late"], account["owed"]
    assert aging.locator("[data-bucket=days_31_60]").inner_text() == format_money(
        late.balance_due, late.currency
    )
    assert aging.locator("[data-bucket=total]").inner_text() == format_money(owed, late.currency)
    assert late.number in page.locator(".invoice-sheet").inner_text()
    assert_fits(page, device)

    pdf_href = page.get_by_role("link", name="Download PDF").get_attribute("href")
    csv_href = page.get_by_role("link", name="Download CSV").get_attribute("href")
    assert f"start={start.isoformat()}" in pdf_href and f"start={start.isoformat()}" in csv_href
    pdf = page.request.get(pdf_href)
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")
    csv = page.request.get(csv_href)
    assert csv.status == 200 and csv.headers["content-type"].startswith("text/csv")
    assert late.number in csv.text()


@pytest.mark.parametrize("device", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_client_goes_through_the_portal(browser_page, live_server, account, smtp, device):
    context = browser_page.context.browser.new_context(base_url=live_server.url, **device)
    page = context.new_page()
    page.set_default_timeout(15000)
    # A script that fails, or a style or script the Content-Security-Policy blocks.
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    today = business_today()
    client, invoice = account["client"], account["invoice"]

    sign_in(page, device, smtp)
    assert page.locator("h1").inner_text() == client.name
    assert page.locator(".portal-balance-due").inner_text() == format_money(
        account["owed"], invoice.currency
    )
    assert_fits(page, device)

    go(page, device, "Invoices", "portal:invoices")
    numbers = page.locator("table.portal-invoices tbody tr").evaluate_all(
        "rows => rows.map(row => row.dataset.number)"
    )
    assert sorted(numbers) == sorted([invoice.number, account["late"].number])
    unissued = account["draft"]
    assert format_money(unissued.total, unissued.currency) not in page.locator("body").inner_text()
    assert_fits(page, device)
    page.get_by_role("link", name=invoice.number, exact=True).click()
    page.wait_for_url(f"**{reverse('portal:invoice', args=[invoice.number])}*")
    page.get_by_text("Kitchen cabinets").first.wait_for()
    assert_fits(page, device)
    assert_brand(page)
    report_payment(page, device, today)
    payment = Payment.objects.get(invoice=invoice)
    assert payment.status == PaymentStatus.PENDING and payment.amount == Decimal("100.00")

    go(page, device, "Quotes", "portal:quotes")
    assert_fits(page, device)
    quote = account["quote"]
    page.get_by_role("link", name=quote.number, exact=True).click()
    page.get_by_label("Your name").fill("Ann Smith")
    page.get_by_label("I accept these terms").check()
    page.get_by_role("button", name="Accept", exact=True).click()
    page.get_by_text("Accepted by Ann Smith on").wait_for()
    assert_fits(page, device)
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.ACCEPTED

    go(page, device, "Payments", "portal:payments")
    pending = page.locator("table.portal-payments tr[data-status=pending]")
    assert "TX-42" in pending.inner_text() and "Waiting for confirmation" in pending.inner_text()
    assert_fits(page, device)

    go(page, device, "Statement", "portal:statement")
    statement(page, device, account, today)

    if device is PHONE:
        page.locator(".navbar-toggler").click()
    page.get_by_role("button", name="Sign out", exact=True).click()
    page.get_by_text("You are signed out.").wait_for()
    assert_fits(page, device)
    assert_brand(page)
    page.goto(reverse("portal:home"))
    assert page.url == live_server.url + reverse("portal:sign_in")
    assert errors == []
    context.close()
