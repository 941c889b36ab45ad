import pytest
from rest_framework.test import APIClient

from api.models import ApiToken


def _api(user) -> APIClient:
    _token, key = ApiToken.objects.create_token(user=user, name="tests")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api


@pytest.fixture
def api(bookkeeper, business):
    """A bookkeeper's token."""
    return _api(bookkeeper)


@pytest.fixture
def admin_api(administrator, business):
    return _api(administrator)


@pytest.fixture
def viewer_api(viewer, business):
    return _api(viewer)


@pytest.fixture
def anonymous(business):
    return APIClient()
