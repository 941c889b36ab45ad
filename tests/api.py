"""API clients for the tests: one with a token of its user, as a program calls the API."""

from rest_framework.test import APIClient

from api.models import ApiToken


def token_client(user) -> APIClient:
    _token, key = ApiToken.objects.create_token(user=user, name="tests")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api
