"""The revenue chart in a real browser (Debian's chromium, driven by Playwright): drawn,
readable and inside the page on a desktop and on a phone."""

import io

import pytest
from django.core.management import call_command

from tests.browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_revenue_chart_is_drawn_and_fits_the_page(browser_page, office_user, tmp_path):
    call_command("seed_demo", stdout=io.StringIO())
    page = browser_page
    log_in(page)

    page.click("nav >> text=Reports")
    page.click("text=Revenue")
    page.fill("input[name=start]", "2026-07-01")
    page.fill("input[name=end]", "2026-12-31")
    page.click("text=Show")
    page.wait_for_url("**/reports/revenue/?*")

    chart = page.locator("svg.report-chart").first
    box = chart.bounding_box()
    assert box["width"] > 600 and box["height"] > 150
    bars = chart.locator("rect.bar-invoiced")
    assert bars.count() == 6  # July to December
    heights = [bars.nth(i).bounding_box()["height"] for i in range(bars.count())]
    assert max(heights) > 50  # the biggest month fills most of the plot
    assert page.locator("svg.report-chart title").first.text_content().startswith("Invoiced")
    page.screenshot(path=str(tmp_path / "revenue.png"), full_page=True)

    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    box = chart.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 390, "the report makes the phone page scroll sideways"
