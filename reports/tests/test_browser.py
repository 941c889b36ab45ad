"""The revenue chart in a real browser (Debian's chromium, driven by Playwright): drawn,
readable and inside the page on a desktop and on a phone."""

import datetime
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


# The boxes of the period labels under the bars, and the smallest font they are drawn at.
LABELS = """() => {
  const labels = [...document.querySelectorAll("svg.report-chart text.axis-label")];
  return labels.map(t => { const b = t.getBoundingClientRect();
    return {left: b.left, right: b.right, size: parseFloat(getComputedStyle(t).fontSize) *
      t.ownerSVGElement.getBoundingClientRect().width / 720}; });
}"""


def test_the_period_labels_never_touch_and_a_reversal_is_drawn_below_zero(
    browser_page, office_user
):
    from billing.services import reverse_payment
    from settings_app.selectors import business_today
    from tests.factories import ClientFactory, issued, pay

    today = business_today()
    oak = ClientFactory(code="OAK")
    for months_back in range(24):
        month = (today.year * 12 + today.month - 1) - months_back
        issued(client=oak, issue_date=datetime.date(month // 12, month % 12 + 1, 1))
    last = issued(client=oak, issue_date=today)
    payment = pay(last, "50.00", when=today - datetime.timedelta(days=40))
    reverse_payment(payment=payment, reason="Bounced", acting_user=None)

    page = browser_page
    log_in(page)
    for count in (12, 24):
        first = today.year * 12 + today.month - count  # months since year 0, 0-based
        start = datetime.date(first // 12, first % 12 + 1, 1)
        for width in (1366, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"/reports/revenue/?start={start}&end={today}")
            labels = page.evaluate(LABELS)
            assert 6 <= len(labels) <= 12, (width, count, len(labels))
            for before, after in zip(labels, labels[1:], strict=False):
                assert before["right"] < after["left"], (width, count, labels)
            assert min(label["size"] for label in labels) >= 9, (width, labels)
            negative = page.locator("svg.report-chart rect.negative")
            assert negative.count() == 1
            assert negative.bounding_box()["height"] > 3
