"""API clients for the tests: one with a token of its user, as a program calls the API."""

from rest_framework.test import APIClient

from api.models import ApiToken


def token_client(user) -> APIClient:
    _token, key = ApiToken.objects.create_token(user=user, name="tests")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api


def refused(response, status, field):
    """The project's error format, naming ``field``; its first message."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "detail", "errors"}
    assert field in body["errors"], body
    return body["errors"][field][0]
