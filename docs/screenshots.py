"""Take the README's screenshots from a running OTB Billing with the demo data:

    scripts/screenshots.sh [office|portal]   # sets one up on a throw-away SQLite, runs this

    .venv/bin/python docs/screenshots.py URL USERNAME PASSWORD MAIL_DIR [office|portal]

Writes docs/invoice-page.png, docs/invoice-pdf-page1.png, docs/revenue.png,
docs/search.png and docs/phone-invoice.png (the office's), and docs/portal.png and
docs/portal-phone.png (the client portal's, signed in as the demo's Maple Leaf with the link
e-mailed to a mail sink saving into MAIL_DIR), with Debian's chromium (Playwright, no
download). "office" or "portal" takes only those.
"""

import datetime
import email
import email.policy
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

DOCS = Path(__file__).resolve().parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
# The demo client who signs in to the portal (billing/management/commands/seed_demo.py).
PORTAL_ADDRESS = "accounts@mapleleaf-pm.example.com"
SIGN_IN_PATH = re.compile(r"/portal/sign-in/[A-Za-z0-9_-]+/")
MAIL_TIMEOUT = 30  # seconds for the sign-in e-mail to reach the mail sink


def main(url: str, username: str, password: str, mail_dir: str, only: str = "") -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        if only in ("", "office"):
            office(browser, url, username, password)
        if only in ("", "portal"):
            portal(browser, url, Path(mail_dir))
        browser.close()


def office(browser, url: str, username: str, password: str) -> None:
    page = browser.new_page(viewport=DESKTOP, base_url=url)
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/")

    # The demo's largest invoice that is partly paid shows the most: lines, taxes, a
    # payment, a balance.
    page.goto("/invoices/?status=partial")
    page.locator("table a[href^='/invoices/INV-']").first.click()
    page.wait_for_load_state("load")
    invoice_url = page.url
    page.screenshot(path=str(DOCS / "invoice-page.png"), full_page=True)
    pdf = page.request.get(invoice_url.rstrip("/") + "/pdf/")
    with tempfile.TemporaryDirectory() as work:
        document = Path(work) / "invoice.pdf"
        document.write_bytes(pdf.body())
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                "80",
                "-f",
                "1",
                "-l",
                "1",
                "-singlefile",
                str(document),
                str(DOCS / "invoice-pdf-page1"),
            ],
            check=True,
        )

    today = datetime.date.today()
    start = datetime.date(today.year - 1, today.month, 1) + datetime.timedelta(days=31)
    page.goto(f"/reports/revenue/?start={start.replace(day=1)}&end={today}")
    page.locator("svg.report-chart").first.screenshot(path=str(DOCS / "revenue.png"))

    page.goto("/search/?q=oak")
    page.screenshot(path=str(DOCS / "search.png"))

    page.set_viewport_size(PHONE)
    page.goto(invoice_url)
    page.screenshot(path=str(DOCS / "phone-invoice.png"))
    page.close()


def sign_in_link(mail_dir: Path, since: set[Path]) -> str:
    """The path of the sign-in link in the first message the sink saved after ``since``:
    looked for until it is there."""
    deadline = time.monotonic() + MAIL_TIMEOUT
    while time.monotonic() < deadline:
        for path in sorted(set(mail_dir.glob("*.eml")) - since):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            body = message.get_body(preferencelist=("plain",))  # None while still written
            found = body and SIGN_IN_PATH.search(body.get_content())
            if found and PORTAL_ADDRESS in str(message["To"]):
                return found.group(0)
        time.sleep(0.2)
    raise SystemExit(f"no sign-in link for {PORTAL_ADDRESS} in {mail_dir} within {MAIL_TIMEOUT} s")


def portal(browser, url: str, mail_dir: Path) -> None:
    """Sign in as a client does (the address typed, the link from the e-mail, "Sign in"):
    the overview on a desktop, an open invoice on a phone."""
    context = browser.new_context(viewport={"width": 1280, "height": 720}, base_url=url)
    page = context.new_page()
    before = set(mail_dir.glob("*.eml"))
    page.goto("/portal/")
    page.fill("input[name=email]", PORTAL_ADDRESS)
    page.click("button[type=submit]")
    page.wait_for_url("**/portal/?sent=1")
    page.goto(sign_in_link(mail_dir, before))
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url("**/portal/home/")
    page.screenshot(path=str(DOCS / "portal.png"), full_page=True)
    first_open = page.locator(".portal-open-invoices a[href*='/portal/invoices/']").first
    invoice_url = first_open.get_attribute("href")

    phone = browser.new_context(
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        base_url=url,
        storage_state=context.storage_state(),
    )
    page = phone.new_page()
    page.goto(invoice_url)
    page.screenshot(path=str(DOCS / "portal-phone.png"))
    phone.close()
    context.close()


if __name__ == "__main__":
    main(*sys.argv[1:6])
