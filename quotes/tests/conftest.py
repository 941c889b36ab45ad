import pytest

from tests.factories import ClientFactory


@pytest.fixture
def maple(business):
    """A client with a contact person and an address to send quotes to."""
    return ClientFactory(
        name="Maple Leaf Property", contact_person="Ann Smith", email="ann@maple.example.com"
    )
