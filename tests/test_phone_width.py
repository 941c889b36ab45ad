"""Every office page fits a phone (issue 16, item 5): at 390 px nothing scrolls sideways,
and the invoice's description column keeps a readable width."""

import pytest
from django.urls import reverse

from tests.browser import PASSWORD, USERNAME
from tests.office import fill_office, office_pages

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


def test_every_office_page_fits_a_phone(browser_page, migration_rows, business):
    from accounts.services import create_user

    create_user(username=USERNAME, role="administrator", password=PASSWORD)
    office = fill_office()
    invoice = office.invoice

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
    for url in office_pages(office):
        response = page.goto(url)
        assert response is not None and response.ok, url
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            too_wide[url] = (width, page.evaluate(WIDEST))
    assert not too_wide, f"pages wider than {PHONE['width']} px: {too_wide}"

    page.goto(reverse("invoices:detail", args=[invoice.number]))
    description = page.locator(".col-description").first
    assert description.evaluate("cell => cell.getBoundingClientRect().width") >= 120


def test_the_navigation_keeps_to_one_line_on_a_desktop(browser_page, migration_rows, business):
    """With the search box, an administrator's navigation (every link) wrapped "Back office"
    and "Log out" onto two lines at 1280 px, then ran past the page's edge up to ~1420 px;
    below 1200 px it folds behind its button."""
    from accounts.services import create_user

    create_user(username=USERNAME, role="administrator", password=PASSWORD)
    page = browser_page
    page.goto("/login/")
    page.fill("input[name=username]", USERNAME)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    for width in (1200, 1280, 1366, 1440, 1920):
        page.set_viewport_size({"width": width, "height": 800})
        items = page.locator(
            "#main-nav .nav-link, #main-nav button, #nav-search, #main-nav .navbar-text"
        )
        boxes = [items.nth(i).bounding_box() for i in range(items.count())]
        tops = {round(box["y"] // 20) for box in boxes}
        heights = [box["height"] for box in boxes]
        rights = [box["x"] + box["width"] for box in boxes]
        assert page.locator("#nav-search").is_visible(), width
        assert max(heights) < 45, (width, heights)  # no item wraps onto a second line
        assert len(tops) == 1, (width, tops)  # every item on the one row
        # ... and within the page: "Log out" ran past its right edge up to ~1420 px.
        assert max(rights) <= width, (width, max(rights))
        assert page.evaluate("document.documentElement.scrollWidth") == width
    page.set_viewport_size({"width": 1100, "height": 800})
    assert page.locator(".navbar-toggler").is_visible()
