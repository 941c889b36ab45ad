"""One-line fields refuse line breaks and control characters (issue 15): a CR/LF in a
client's name made every e-mail whose subject names the client fail."""

import pytest

from otb.operations import InvalidInput
from tests.api import token_client
from tests.factories import ClientFactory, issued

pytestmark = pytest.mark.django_db

MESSAGE = "one line of text, without line breaks or control characters"


@pytest.mark.parametrize(
    "bad", ["Acme\r\nBcc: x@evil.example", "Acme\nLtd", "Acme\x00", "A\u2028B"]
)
def test_a_client_name_with_a_control_character_is_refused(business, bad):
    from billing.services import create_client

    with pytest.raises(InvalidInput) as refused:
        create_client(acting_user=None, code="ACME", name=bad, country="CA")

    assert refused.value.errors == {"name": [f"Name: {MESSAGE}."]}


def test_the_page_names_the_field(client, business, bookkeeper):
    client.force_login(bookkeeper)

    response = client.post(
        "/clients/new/",
        {"code": "ACME", "name": "Acme\r\nLtd", "country": "CA", "default_currency": "CAD"},
    )

    assert response.status_code == 200
    assert f"Name: {MESSAGE}." in response.text


def test_the_api_names_the_field(business, bookkeeper):
    response = token_client(bookkeeper).post(
        "/api/v1/clients/", {"code": "ACME", "name": "Acme\nLtd", "country": "CA"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {"name": [f"Name: {MESSAGE}."]}


def test_an_update_and_a_payment_reference_are_checked_too(business):
    from billing.services import update_client

    with pytest.raises(InvalidInput, match="E-mail: "):
        update_client(client=ClientFactory(), acting_user=None, email="a@b.example\r\n")
    from billing.services import record_payment

    with pytest.raises(InvalidInput) as refused:
        record_payment(
            invoice=issued(),
            amount="1",
            date="2026-01-02",
            method="cash",
            reference="Cheque\n42",
            acting_user=None,
        )
    assert refused.value.field == "reference"


def test_the_business_name_in_the_settings_is_checked(business):
    from settings_app.services import update_business_settings

    with pytest.raises(InvalidInput) as refused:
        update_business_settings(acting_user=None, business_name="North\rwind")

    assert refused.value.field == "business_name"


def test_multi_line_text_fields_keep_their_lines(business):
    from billing.services import update_client

    client = update_client(client=ClientFactory(), acting_user=None, address="1 Main St\nToronto")
    assert client.address == "1 Main St\nToronto"
