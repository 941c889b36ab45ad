"""The browser tests' chromium (Debian's, driven by Playwright: no browser download), an
office user, and logging in. Loaded as a pytest plugin by the root conftest.py."""

import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
USERNAME = "maria"
PASSWORD = "Browser-test-pw-2026"


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

    return create_user(username=USERNAME, role="bookkeeper", password=PASSWORD)


def log_in(page) -> None:
    """Log the office user in through the login page, as a person does."""
    page.goto("/login/")
    page.fill("input[name=username]", USERNAME)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")
