"""The settings page: administrators only, every setting in sections, the SMTP password
write-only, the logo checked by its content."""

import io

import pytest
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.urls import reverse
from PIL import Image

from otb.operations import InvalidInput
from settings_app.selectors import get_business_settings
from settings_app.services import update_business_settings

pytestmark = pytest.mark.django_db

SECRET = "s3cr3t-smtp-pa55"
URL = "/settings/"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def office(client, administrator, business):
    client.force_login(administrator)
    return client


def form_data(office):
    """What the browser would send back for the page as it is shown."""
    form = office.get(URL).context["form"]
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if name == "logo":
            continue
        if isinstance(field, forms.BooleanField):
            if value:
                data[name] = "on"
            continue
        data[name] = "" if value is None else value
    return data


def png_bytes(size=(4, 4)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "red").save(buffer, format="PNG")
    return buffer.getvalue()


SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10" fill="red"/></svg>'  # noqa: E501


def test_url_name_is_settings():
    assert reverse("settings") == URL


def test_page_renders_every_section_for_an_administrator(office):
    response = office.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    for section in ("Business identity", "Tax", "Invoices", "E-mail (SMTP)"):
        assert section in html
    assert 'enctype="multipart/form-data"' in html


def test_the_test_email_form_posts_to_the_outbox_with_the_business_address(office, business):
    business.email = "office@example.com"
    business.save()

    html = office.get(URL).content.decode()

    assert f'action="{reverse("outbox:test")}"' in html
    assert 'id="id_test_to" name="to" value="office@example.com"' in html


@pytest.mark.parametrize("who", ["bookkeeper", "viewer"])
def test_only_administrators_may_open_it(client, request, who, business):
    client.force_login(request.getfixturevalue(who))
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"business_name": "Hacked"}).status_code == 403
    assert get_business_settings().business_name != "Hacked"


def test_settings_are_saved(office):
    data = form_data(office)
    data.update(business_name="Renamed Ltd", payment_terms_days="14", website="example.com")
    response = office.post(URL, data)
    assert response.status_code == 302
    settings = get_business_settings()
    assert settings.business_name == "Renamed Ltd"
    assert settings.payment_terms_days == 14
    assert settings.website == "https://example.com"


def test_smtp_password_never_appears_in_the_page_and_empty_keeps_it(office, business):
    business.smtp_password = SECRET
    business.save()
    html = office.get(URL).content.decode()
    assert SECRET not in html
    data = form_data(office)
    assert data["smtp_password"] == ""
    data["business_name"] = "Renamed Ltd"
    response = office.post(URL, data)
    assert response.status_code == 302
    assert SECRET not in office.get(URL).content.decode()
    settings = get_business_settings()
    assert (settings.business_name, settings.smtp_password) == ("Renamed Ltd", SECRET)


def test_smtp_password_can_be_set_and_removed(office):
    office.post(URL, {**form_data(office), "smtp_password": "new-one"})
    assert get_business_settings().smtp_password == "new-one"
    office.post(URL, {**form_data(office), "clear_smtp_password": "on"})
    assert get_business_settings().smtp_password == ""


def test_password_is_not_shown_back_when_the_form_is_refused(office):
    data = {**form_data(office), "smtp_password": SECRET, "smtp_port": "0"}
    response = office.post(URL, data)
    assert response.status_code == 200
    assert SECRET not in response.content.decode()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("smtp_port", "0", "SMTP port: Ensure this value is greater than or equal to 1"),
        ("local_country", "Canada", "at most 2 characters"),
        ("local_country", "ca", "two-letter country code"),
        ("invoice_number_prefix", "A-1", "not ending in a digit"),
        ("payment_terms_days", "-1", "greater than or equal to 0"),
        ("smtp_port", "70000", "less than or equal to 65535"),
        ("time_zone", "Mars/Olympus", "valid choice"),
        ("default_currency", "XXX", "valid choice"),
        ("email", "nope", "valid email"),
    ],
)
def test_bad_input_is_shown_and_nothing_is_saved(office, field, value, message):
    before = get_business_settings().updated_at
    response = office.post(URL, {**form_data(office), field: value, "business_name": "X"})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors, errors
    assert message in " ".join(errors[field])
    settings = get_business_settings()
    assert settings.updated_at == before
    assert settings.business_name != "X"


def test_tls_and_ssl_together_is_refused(office):
    response = office.post(URL, {**form_data(office), "smtp_use_tls": "on", "smtp_use_ssl": "on"})
    assert response.status_code == 200
    assert "smtp_use_ssl" in response.context["form"].errors


# --- Logo ---------------------------------------------------------------------------------
def _png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("1", (width, height)).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def upload(office, name, content, content_type="application/octet-stream", **extra):
    """Post the form with a logo; the file is written when the transaction commits."""
    data = {**form_data(office), **extra}
    data["logo"] = SimpleUploadedFile(name, content, content_type=content_type)
    with TestCase.captureOnCommitCallbacks(execute=True):
        return office.post(URL, data)


def test_a_logo_is_written_only_when_the_settings_are_committed(business, settings, tmp_path):
    """Nothing outside the database happens before the commit (SPEC: Scale): a refused
    change leaves no file behind, an accepted one exactly one, under a name of its own."""
    settings.MEDIA_ROOT = tmp_path
    with TestCase.captureOnCommitCallbacks(execute=True), pytest.raises(InvalidInput):
        update_business_settings(
            acting_user=None,
            logo=SimpleUploadedFile("brand.png", png_bytes()),
            payment_terms_days=-3,
        )
    assert not (tmp_path / "logo").exists()

    with TestCase.captureOnCommitCallbacks(execute=True) as callbacks:
        saved = update_business_settings(
            acting_user=None, logo=SimpleUploadedFile("brand.png", png_bytes())
        )
        assert not (tmp_path / "logo").exists()
    assert len(callbacks) == 1
    assert [path.name for path in (tmp_path / "logo").iterdir()] == [saved.logo.name[5:]]
    assert saved.logo.read() == png_bytes()


def test_png_logo_is_accepted(office):
    response = upload(office, "brand.png", png_bytes(), "image/png")
    assert response.status_code == 302
    logo = get_business_settings().logo
    assert logo.name.startswith("logo/logo") and logo.name.endswith(".png")
    assert logo.read() == png_bytes()
    assert logo.url in office.get(URL).content.decode()


def test_jpeg_logo_is_stored_as_jpeg_whatever_its_name(office):
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, format="JPEG")
    assert upload(office, "brand.png", buffer.getvalue()).status_code == 302
    assert get_business_settings().logo.name.endswith(".jpg")


def test_svg_logo_is_accepted(office):
    assert upload(office, "brand.svg", SVG, "image/svg+xml").status_code == 302
    assert get_business_settings().logo.name.endswith(".svg")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("brand.png", b"just some text, not an image\n", "must be a PNG, JPEG or SVG"),
        ("brand.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "must be a PNG, JPEG or SVG"),
        ("brand.gif", b"GIF89a" + b"\0" * 100, "must be a PNG, JPEG or SVG"),
        ("brand.svg", b"<html><body>hi</body></html>", "must be a PNG, JPEG or SVG"),
        ("brand.svg", b"<svg><rect></svg>", "must be a PNG, JPEG or SVG"),
        (
            "brand.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "contains scripts",
        ),
        (
            "brand.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
            "contains scripts",
        ),
        (
            "brand.svg",
            b'<!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>',
            "contains scripts",
        ),
        ("brand.png", b"\x89PNG\r\n\x1a\n" + b"\0" * (2 * 1024 * 1024), "larger than 1 MB"),
        # Small files that decode into huge images: refused from their header.
        ("brand.png", _png(8000, 8000), "is 8000 × 8000 pixels; upload one at most 2000 × 2000"),
        # A UTF-16 SVG hid its DTD from a check of the bytes.
        (
            "brand.svg",
            '<!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>'.encode(
                "utf-16"
            ),
            "contains scripts",
        ),
        (
            "brand.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><image href="data:image/svg+xml;base64,'
            b'PHN2Zy8+"/></svg>',
            "contains scripts",
        ),
        (
            "brand.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><image href="file:///etc/passwd"/></svg>',
            "contains scripts",
        ),
    ],
    ids=[
        "text",
        "broken-png",
        "gif",
        "html",
        "bad-xml",
        "script",
        "onload",
        "entities",
        "2mb",
        "8000px",
        "utf16-entities",
        "nested-svg",
        "file-url",
    ],
)
def test_bad_logo_is_refused_and_nothing_is_saved(office, name, content, message):
    response = upload(office, name, content, business_name="Changed")
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert message in " ".join(errors["logo"])
    settings = get_business_settings()
    assert not settings.logo
    assert settings.business_name != "Changed"


def test_logo_is_kept_when_none_is_uploaded_and_can_be_removed(office):
    upload(office, "brand.png", png_bytes(), "image/png")
    office.post(URL, {**form_data(office), "business_name": "Renamed"})
    assert get_business_settings().logo
    office.post(URL, {**form_data(office), "remove_logo": "on"})
    assert not get_business_settings().logo
