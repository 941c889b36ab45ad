import re

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.urls import reverse

pytestmark = pytest.mark.django_db

VENDORED_BOOTSTRAP_CSS = "vendor/bootstrap/css/bootstrap.min.css"


@pytest.mark.parametrize("path", ["/", "/admin/"])
def test_anonymous_visitor_is_sent_to_a_login_page(client, path):
    response = client.get(path, follow=True)

    assert response.redirect_chain, "expected a redirect"
    final_path = response.request["PATH_INFO"]
    assert final_path in (reverse("login"), reverse("admin:login"))
    assert response.status_code == 200


def test_login_page_shows_the_form(client):
    response = client.get(reverse("login"))

    assert response.status_code == 200
    assert "Sign in to OTB Billing" in response.text
    assert 'name="username"' in response.text
    assert 'name="password"' in response.text
    assert 'name="csrfmiddlewaretoken"' in response.text


def test_valid_credentials_log_in_and_redirect(client, administrator):
    response = client.post(reverse("login"), {"username": "admin1", "password": "pw-for-tests-1"})

    assert response.status_code == 302
    assert response.url == reverse("home")
    assert client.session["_auth_user_id"] == str(administrator.pk)


def test_login_keeps_the_page_asked_for(client, administrator):
    response = client.post(
        reverse("login"),
        {"username": "admin1", "password": "pw-for-tests-1", "next": "/admin/"},
    )

    assert response.status_code == 302
    assert response.url == "/admin/"


def test_wrong_password_shows_an_error_instead_of_logging_in(client, administrator):
    response = client.post(reverse("login"), {"username": "admin1", "password": "wrong"})

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.text
    assert "_auth_user_id" not in client.session


def test_empty_login_form_says_which_fields_are_missing(client):
    response = client.post(reverse("login"), {})

    assert response.status_code == 200
    assert "This field is required." in response.text


def test_logged_in_page_offers_back_office_and_logout(client, administrator):
    client.force_login(administrator)

    response = client.get(reverse("home"))

    assert reverse("admin:index") in response.text
    assert f'action="{reverse("logout")}"' in response.text


def test_logout_is_a_post_that_ends_the_session(client, administrator):
    client.force_login(administrator)

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_every_static_file_the_login_page_references_exists(client, settings):
    response = client.get(reverse("login"))

    referenced = re.findall(rf'"{re.escape(settings.STATIC_URL)}([^"?#]+)"', response.text)
    assert VENDORED_BOOTSTRAP_CSS in referenced
    for path in referenced:
        assert finders.find(path), f"{path} is referenced but not under static/"


def test_pages_load_nothing_from_other_sites(client):
    response = client.get(reverse("login"))

    assert not re.findall(r'(?:src|href)="(?:https?:)?//', response.text)


def test_collectstatic_with_the_production_storage_resolves_the_vendored_files(settings, tmp_path):
    """The manifest storage fails on a missing file a stylesheet points to (its source map)."""
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }

    call_command("collectstatic", interactive=False, verbosity=0)

    assert list(tmp_path.glob("vendor/bootstrap/css/bootstrap.min.*.css"))
