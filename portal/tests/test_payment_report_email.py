"""The business is e-mailed when a client reports a payment through its invoice's link:
a real SMTP server on localhost, the delivery run when the report commits."""

import pytest

from billing.models import Payment
from outbox.models import Message
from settings_app.selectors import business_today

from .conftest import ANN, url

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _rows(migration_rows):
    pass


def test_the_business_is_told_of_the_report(client, invoice, invoice_token, smtp):
    response = client.post(
        url("invoice_link:page", invoice_token),
        {
            "amount": "500.00",
            "date": business_today().isoformat(),
            "method": "bank_transfer",
            "reference": "WIRE 88",
        },
    )

    assert response.status_code == 303
    payment = Payment.objects.get()
    [received] = smtp.received
    assert received.rcpt_tos == ["office@northwind.example.com"]
    assert received.message["Subject"] == (
        f"Payment reported on invoice {invoice.number} by Maple Leaf Property"
    )
    text = received.text()
    assert ANN in text and "500.00" in text and "WIRE 88" in text and "pending" in text
    assert f"http://testserver{invoice.get_absolute_url()}" in text
    assert invoice_token not in text
    message = Message.objects.get()
    assert message.invoice == invoice and payment.status == "pending"
