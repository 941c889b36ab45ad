"""Take the README's screenshots from a running OTB Billing with the demo data:

    scripts/screenshots.sh          # sets one up on a throw-away SQLite, then runs this

    .venv/bin/python docs/screenshots.py URL USERNAME PASSWORD

Writes docs/invoice-page.png, docs/invoice-pdf-page1.png, docs/revenue.png,
docs/search.png and docs/phone-invoice.png, with Debian's chromium (Playwright, no download).
"""

import datetime
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

DOCS = Path(__file__).resolve().parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def main(url: str, username: str, password: str) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900}, base_url=url)
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

        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(invoice_url)
        page.screenshot(path=str(DOCS / "phone-invoice.png"))
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:4])
