import pytest
from rest_framework.test import APIClient

from tests.api import token_client


@pytest.fixture
def api(bookkeeper, business):
    """A bookkeeper's token."""
    return token_client(bookkeeper)


@pytest.fixture
def admin_api(administrator, business):
    return token_client(administrator)


@pytest.fixture
def viewer_api(viewer, business):
    return token_client(viewer)


@pytest.fixture
def anonymous(business):
    return APIClient()
