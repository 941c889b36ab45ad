"""The back office writes amounts with the one money formatter (billing.money.format_money),
as every page, PDF and e-mail does: a currency without minor unit shows no decimals."""

import pytest
from django.urls import reverse

from billing import services
from tests.factories import ClientFactory, issued, line, pay

pytestmark = pytest.mark.django_db


@pytest.fixture
def yen_invoice(business):
    client = ClientFactory(code="TOKYO", country="JP", default_currency="JPY", tax_exempt=True)
    invoice = issued(client=client, lines=[line(quantity="3", unit_price="1250")])
    pay(invoice, "1000")
    services.post_manual_credit(client=client, amount="500", memo="Goodwill", acting_user=None)
    return invoice


@pytest.fixture
def back_office(client, administrator):
    client.force_login(administrator)
    return client


@pytest.mark.parametrize(
    ("changelist", "shown"),
    [
        ("admin:billing_invoice_changelist", ["3,750 JPY", "2,750 JPY"]),
        ("admin:billing_payment_changelist", ["1,000 JPY"]),
        ("admin:billing_client_changelist", ["-2,250 JPY"]),
        ("admin:ledger_ledgerentry_changelist", ["-3,750 JPY", "1,000 JPY", "500 JPY"]),
    ],
)
def test_the_back_office_shows_yen_without_decimals(back_office, yen_invoice, changelist, shown):
    page = back_office.get(reverse(changelist)).content.decode()
    for amount in shown:
        assert amount in page
    assert ".00 JPY" not in page
