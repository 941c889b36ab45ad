"""Authentication, permissions, error format, schema and docs."""

import hashlib
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import InterfaceError, OperationalError
from openapi_spec_validator import validate
from rest_framework.test import APIClient

from api.errors import exception_handler
from api.models import ApiToken
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def test_a_request_without_a_token_is_refused_with_401_json_not_a_redirect(anonymous):
    response = anonymous.get("/api/v1/clients/")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == "Token"


def test_a_write_without_a_token_is_refused_with_401(anonymous):
    response = anonymous.post("/api/v1/clients/", {"code": "X"}, format="json")
    assert response.status_code == 401


def test_an_unknown_token_is_refused(anonymous):
    anonymous.credentials(HTTP_AUTHORIZATION="Token not-a-real-key")
    response = anonymous.get("/api/v1/clients/")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_a_malformed_authorization_header_is_refused(anonymous):
    anonymous.credentials(HTTP_AUTHORIZATION="Token a b")
    assert anonymous.get("/api/v1/clients/").status_code == 401


def test_the_token_of_an_inactive_user_is_refused(bookkeeper, business):
    _token, key = ApiToken.objects.create_token(user=bookkeeper)
    bookkeeper.is_active = False
    bookkeeper.save()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/clients/").status_code == 401


def test_a_token_records_when_it_was_last_used(api):
    api.get("/api/v1/clients/")
    assert ApiToken.objects.get().last_used_at is not None


def test_a_viewer_token_can_read_but_not_write(viewer_api):
    ClientFactory(code="ACME")
    assert viewer_api.get("/api/v1/clients/ACME/").status_code == 200
    response = viewer_api.post(
        "/api/v1/clients/", {"code": "NEW", "name": "New", "country": "CA"}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    response = viewer_api.patch("/api/v1/clients/ACME/", {"name": "X"}, format="json")
    assert response.status_code == 403


def test_a_bookkeeper_cannot_read_the_settings(api):
    assert api.get("/api/v1/settings/").status_code == 403


def test_unknown_addresses_answer_json_404(api):
    response = api.get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_malformed_json_is_a_400(api):
    response = api.generic("POST", "/api/v1/clients/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_a_method_that_does_not_exist_is_a_405(api):
    ClientFactory(code="ACME")
    response = api.delete("/api/v1/clients/ACME/")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


# --- Tokens -------------------------------------------------------------------------------


def test_the_token_command_prints_a_working_key_and_stores_only_its_hash(bookkeeper, business):
    out = StringIO()
    call_command(
        "create_api_token", bookkeeper.username, "--name", "shop", stdout=out, stderr=StringIO()
    )
    key = out.getvalue().strip()
    token = ApiToken.objects.get()
    assert token.name == "shop"
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert token.prefix == key[:8]
    assert key not in {token.key_hash, token.prefix, token.name}
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/clients/").status_code == 200


def test_the_token_command_refuses_an_unknown_user(db):
    with pytest.raises(CommandError, match="no user"):
        call_command("create_api_token", "nobody", stdout=StringIO(), stderr=StringIO())


def test_the_admin_shows_a_new_token_key_once(client, django_user_model, bookkeeper):
    superuser = django_user_model.objects.create_superuser("root", password="pw-for-tests-1")
    client.force_login(superuser)
    response = client.post(
        "/admin/api/apitoken/add/", {"user": bookkeeper.pk, "name": "sync"}, follow=True
    )
    assert response.status_code == 200
    token = ApiToken.objects.get()
    key = response.context["key"]  # on the page, once (api/tests/test_limits.py)
    assert key.startswith(token.prefix)
    assert hashlib.sha256(key.encode()).hexdigest() == token.key_hash


# --- Schema and docs ----------------------------------------------------------------------


def test_the_schema_is_a_valid_openapi_3_document(api):
    response = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    document = response.json()
    validate(document)
    assert document["openapi"].startswith("3.")
    for path in (
        "/api/v1/clients/",
        "/api/v1/clients/{code}/",
        "/api/v1/clients/{code}/ledger/",
        "/api/v1/services/{code}/",
        "/api/v1/invoices/{ref}/issue/",
        "/api/v1/invoices/{ref}/cancel/",
        "/api/v1/invoices/{ref}/pdf/",
        "/api/v1/payments/{id}/confirm/",
        "/api/v1/payments/{id}/reverse/",
        "/api/v1/settings/",
    ):
        assert path in document["paths"], path


def test_the_schema_needs_authentication(anonymous):
    assert anonymous.get("/api/schema/").status_code == 401


def test_the_docs_page_uses_only_local_static_files(client, bookkeeper):
    client.force_login(bookkeeper)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    # Every script and stylesheet the page loads comes from this server's static files. (Not a
    # search for "cdn" in the whole page: the random CSRF token can contain those letters.)
    loaded = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert loaded
    # The page's own script is served by the docs view itself (no inline script: the CSP).
    assert all(url.startswith(("/static/", "/api/docs/?script=")) for url in loaded), loaded
    assert "<script>" not in html and "<style>" not in html
    assert "https://" not in html and "http://" not in html.replace("http://testserver", "")
    assert "/static/drf_spectacular_sidecar/" in html


def test_the_docs_page_sends_anonymous_visitors_to_the_login_page(client):
    response = client.get("/api/docs/")
    assert response.status_code == 302
    assert "/login/" in response["Location"]


# --- Inputs the fuzzer found (each gave a server error once) ------------------------------
def test_a_number_with_more_digits_than_any_amount_is_a_400(api):
    from tests.factories import ClientFactory

    ClientFactory(code="ACME")
    huge = "68707397696515007006568144861.38513296805633013"
    response = api.post(
        "/api/v1/invoices/",
        {"client": "ACME", "lines": [{"description": "x", "quantity": huge, "unit_price": "1"}]},
        format="json",
    )
    assert response.status_code == 400
    assert "too large" in str(response.json())


def test_options_on_the_settings_answers(admin_api):
    assert admin_api.options("/api/v1/settings/").status_code == 200


def test_non_ascii_digits_in_an_address_are_a_404(api):
    assert api.get("/api/v1/payments/%C2%B2/").status_code == 404
    assert api.post("/api/v1/invoices/%C2%B2/issue/", {}, format="json").status_code == 404


def test_blank_addresses_are_described_as_text_in_the_schema(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    client = schema["components"]["schemas"]["Client"]["properties"]
    assert "format" not in client["email"]


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (OperationalError(1213, "Deadlock found when trying to get lock"), "busy"),
        (OperationalError(2013, "Lost connection to server during query"), "unavailable"),
        (
            OperationalError(1047, "WSREP has not yet prepared node for application use"),
            "unavailable",
        ),
        (InterfaceError(0, ""), "unavailable"),
    ],
)
def test_a_database_that_is_busy_or_gone_is_a_503_the_client_may_retry(error, code):
    """What a client sees when a cluster node dies under its request (tests/test_galera.py
    does it for real): a JSON error it can act on, never a 500."""
    response = exception_handler(error, {})
    assert response.status_code == 503
    assert response.data["code"] == code
    assert response["Retry-After"] == "1"
