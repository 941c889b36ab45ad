"""Headers (issue 15): a Content-Security-Policy without unsafe-inline on every page, the
same in the nginx example; no-store on private answers; HSTS subdomains and preload only
when asked."""

import re
from pathlib import Path

import pytest

from tests.api import token_client
from tests.factories import issued

pytestmark = pytest.mark.django_db

NGINX = Path(__file__).resolve().parent.parent / "deploy" / "nginx" / "otb-billing.conf"


def test_every_page_has_a_policy_without_unsafe_inline(client, administrator):
    for path in ("/login/", "/healthz"):
        policy = client.get(path)["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "unsafe" not in policy
    client.force_login(administrator)
    assert "script-src 'self'" in client.get("/")["Content-Security-Policy"]


def test_the_nginx_example_sends_the_same_policy(client):
    app = client.get("/login/")["Content-Security-Policy"]
    [nginx] = re.findall(r'add_header Content-Security-Policy "([^"]+)" always;', NGINX.read_text())
    as_set = lambda policy: {d.strip() for d in policy.split(";") if d.strip()}  # noqa: E731
    assert as_set(nginx) == as_set(app)


def test_private_answers_are_not_stored(client, business, administrator):
    invoice = issued()
    client.force_login(administrator)
    for path in (
        "/",
        f"/invoices/{invoice.number}/",
        f"/invoices/{invoice.number}/pdf/",
        "/reports/outstanding/?format=csv",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "no-store" in response["Cache-Control"], path
    api = token_client(administrator)
    assert "no-store" in api.get("/api/v1/clients/")["Cache-Control"]


def test_a_static_file_may_be_cached(client):
    assert "no-store" not in client.get("/static/otb/site.css").get("Cache-Control", "")


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({}, "max-age=31536000"),
        (
            {"SECURE_HSTS_INCLUDE_SUBDOMAINS": "true", "SECURE_HSTS_PRELOAD": "true"},
            "max-age=31536000; includeSubDomains; preload",
        ),
    ],
)
def test_hsts_has_subdomains_and_preload_only_when_asked(environment, expected):
    import os
    import subprocess
    import sys

    env = {**os.environ, "HTTPS": "true", "DJANGO_SETTINGS_MODULE": "otb.settings_test"}
    env.update(environment)
    code = (
        "import django; django.setup(); from django.test import Client; "
        "print(Client().get('/login/', secure=True)['Strict-Transport-Security'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=NGINX.parent.parent.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == expected
