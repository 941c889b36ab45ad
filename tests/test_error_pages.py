"""Errors are the product's pages with a way back, not bare Django pages (issue 16, 19)."""

import pytest
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db


def test_an_old_client_code_gets_the_products_404(client, bookkeeper, business):
    client.force_login(bookkeeper)
    response = client.get("/clients/OLDCODE/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "There is nothing at this address" in page
    assert 'href="/clients/"' in page and 'href="/"' in page
    assert "OTB Billing" in page


def test_a_page_the_role_may_not_open_gets_the_products_403(client, viewer, business):
    client.force_login(viewer)
    response = client.get("/clients/new/")
    assert response.status_code == 403
    page = response.content.decode()
    assert "Your account may not do this" in page
    assert 'href="/"' in page


def test_an_expired_form_gets_the_products_403(bookkeeper, business):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(bookkeeper)
    response = strict.post("/clients/new/", {"code": "X"})
    assert response.status_code == 403
    assert "This form has expired" in response.content.decode()


@override_settings(ROOT_URLCONF="tests.error_urls")
def test_a_failure_gets_the_products_500(bookkeeper, business):
    failing = Client(raise_request_exception=False)
    failing.force_login(bookkeeper)
    response = failing.get("/fail-for-test/")
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong on our side" in page
    assert 'href="/"' in page
    assert "RuntimeError" not in page
