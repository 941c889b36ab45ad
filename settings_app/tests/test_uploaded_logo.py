"""The uploaded logo shows on web pages (issue 16, item 1): /media/ is served by the app to
logged-in users, never from a public folder."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.urls import reverse
from PIL import Image

from settings_app.services import update_business_settings
from tests.browser import log_in
from tests.factories import ClientFactory, issued


def png_bytes(size=(40, 20)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "red").save(buffer, format="PNG")
    return buffer.getvalue()


def store_logo() -> str:
    with TestCase.captureOnCommitCallbacks(execute=True):
        saved = update_business_settings(
            acting_user=None, logo=SimpleUploadedFile("brand.png", png_bytes())
        )
    return saved.logo.url


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


@pytest.mark.django_db
def test_a_logged_in_user_gets_the_logo(client, bookkeeper, business, media):
    url = store_logo()
    assert url.startswith("/media/logo/")
    response = client.get(url)
    assert response.status_code == 302 and "/login/" in response["Location"]
    client.force_login(bookkeeper)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    assert (
        b"".join(response.streaming_content) == (media / url.removeprefix("/media/")).read_bytes()
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/media/logo/missing.png", "/media/../otb/settings.py", "/media/%2e%2e/manage.py"]
)
def test_nothing_else_is_served(client, bookkeeper, business, media, path):
    (media.parent / "secret.txt").write_text("not for the web")
    client.force_login(bookkeeper)
    assert client.get(path).status_code == 404
    assert client.get("/media/../secret.txt").status_code == 404


@pytest.mark.django_db
def test_a_symlink_out_of_the_media_folder_is_not_followed(client, bookkeeper, business, media):
    (media.parent / "secret.txt").write_text("not for the web")
    (media / "logo").mkdir()
    (media / "logo" / "link.png").symlink_to(media.parent / "secret.txt")
    client.force_login(bookkeeper)
    assert client.get("/media/logo/link.png").status_code == 404


@pytest.mark.django_db
def test_an_svg_logo_runs_nothing(client, bookkeeper, business, media):
    (media / "logo").mkdir()
    (media / "logo" / "brand.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    client.force_login(bookkeeper)
    response = client.get("/media/logo/brand.svg")
    assert response.status_code == 200
    assert "default-src 'none'" in response["Content-Security-Policy"]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_logo_loads_on_the_invoice_settings_and_send_pages(
    browser_page, migration_rows, business, media, django_user_model
):
    from accounts.services import create_user
    from tests.browser import PASSWORD, USERNAME

    create_user(username=USERNAME, role="administrator", password=PASSWORD)
    store_logo()
    invoice = issued(client=ClientFactory(code="ACME", email="ap@acme.example.com"))
    page = browser_page
    log_in(page)
    for url in (
        invoice.get_absolute_url(),
        "/settings/",
        reverse("invoices:send", args=[invoice.pk]),
    ):
        page.goto(url)
        logo = page.locator("img[src^='/media/logo/']").first
        logo.wait_for()
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=logo.element_handle()
        )
        assert logo.evaluate("img => img.naturalWidth") == 40, url
