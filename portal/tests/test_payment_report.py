""" "I've paid" on an invoice's link: a pending payment for the business to confirm, the
reporter and an audit record, every bad field refused by name with nothing written, CSRF."""

import datetime
import logging
from decimal import Decimal

import pytest
from django.test import Client

from audit.models import AuditRecord
from billing.models import Payment, PaymentStatus
from links.services import revoke_link
from outbox.models import Message
from settings_app.selectors import business_today

from .conftest import ANN, url

pytestmark = pytest.mark.django_db


def report(client, token, **fields):
    values = {
        "amount": "1243.00",
        "date": business_today().isoformat(),
        "method": "e_transfer",
        "reference": "TX-4471",
        **fields,
    }
    return client.post(url("invoice_link:page", token), values, REMOTE_ADDR="203.0.113.9")


def test_a_report_makes_one_pending_payment_naming_who_reported_it(client, invoice, invoice_token):
    response = report(client, invoice_token)

    assert response.status_code == 303
    assert response["Location"] == url("invoice_link:page", invoice_token) + "?reported=1#payment"
    [payment] = Payment.objects.all()
    assert payment.status == PaymentStatus.PENDING and payment.invoice == invoice
    assert (payment.amount, payment.method, payment.reference) == (
        Decimal("1243.00"),
        "e_transfer",
        "TX-4471",
    )
    assert ANN in payment.note and "203.0.113.9" in payment.note
    assert payment.created_by is None and payment.confirmed_at is None
    invoice.refresh_from_db()
    assert invoice.balance_due == Decimal("1243.00")  # nothing counts before it is confirmed
    event = AuditRecord.objects.get(object_repr="payment reported through a link")
    assert event.after["recipient"] == ANN and event.after["invoice"] == invoice.number
    assert AuditRecord.objects.filter(object_type="billing.payment", action="created").exists()


def test_the_office_sees_who_reported_a_payment(client, invoice, invoice_token, bookkeeper):
    """On the invoice's page a client's report is told apart from a payment staff entered:
    its note says who reported it, through the link, and from where."""
    report(client, invoice_token)
    office = Client()
    office.force_login(bookkeeper)

    page = office.get(invoice.get_absolute_url()).content.decode()

    assert f"Reported by {ANN} through the invoice" in page and "203.0.113.9" in page


def test_after_a_report_the_page_says_it_is_pending_and_lists_the_reports(
    client, invoice, invoice_token
):
    report(client, invoice_token)
    report(client, invoice_token)  # the same again is allowed: both are listed

    page = client.get(url("invoice_link:page", invoice_token) + "?reported=1")

    assert "your payment report was received" in page.text
    assert "pending until" in page.text
    assert page.text.count("TX-4471") == 2
    assert Payment.objects.filter(status=PaymentStatus.PENDING).count() == 2
    assert (
        "Payments waiting for confirmation"
        in client.get(url("invoice_link:page", invoice_token)).text
    )


TOMORROW = (datetime.date.today() + datetime.timedelta(days=2)).isoformat()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"amount": "0"}, "amount", "Amount"),
        ({"amount": "-5"}, "amount", "Amount"),
        ({"amount": ""}, "amount", "Amount"),
        ({"amount": "abc"}, "amount", "Amount"),
        ({"amount": "12430.01"}, "amount", "far more than"),
        ({"amount": "1e9"}, "amount", "Amount"),
        ({"amount": "99999999999999999999"}, "amount", "Amount"),
        ({"amount": "10.001"}, "amount", "Amount"),
        ({"date": "2025-02-30"}, "date", "Date paid"),
        ({"date": "yesterday"}, "date", "Date paid"),
        ({"date": ""}, "date", "Date paid"),
        ({"date": TOMORROW}, "date", "in the future"),
        ({"date": "1999-01-01"}, "date", "more than a year before"),
        ({"method": "client_credit"}, "method", "How you paid"),
        ({"method": "bitcoin"}, "method", "How you paid"),
        ({"method": ""}, "method", "How you paid"),
        ({"reference": "x" * 201}, "reference", "at most 200 characters"),
    ],
)
def test_bad_input_is_refused_by_field_and_nothing_is_written(
    client, invoice, invoice_token, fields, field, message
):
    records = AuditRecord.objects.count()

    response = report(client, invoice_token, **fields)

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == [field], errors
    assert message in errors[field][0]
    assert message in response.text and "Your payment was not recorded" in response.text
    assert not Payment.objects.exists() and not Message.objects.exists()
    assert AuditRecord.objects.count() == records


def test_several_bad_fields_are_all_named(client, invoice, invoice_token):
    response = report(
        client, invoice_token, amount="0", date="nope", method="x", reference="y" * 300
    )

    assert set(response.context["form"].errors) == {"amount", "date", "method", "reference"}
    assert not Payment.objects.exists()


def test_a_cancelled_or_paid_invoice_takes_no_report(client, invoice, invoice_token):
    from billing.services import cancel_invoice

    cancel_invoice(invoice=invoice, acting_user=None)

    response = report(client, invoice_token)

    assert response.status_code == 200 and "was cancelled" in response.text
    assert not Payment.objects.exists()


def test_a_link_revoked_while_the_page_was_open_reports_nothing(client, invoice, invoice_token):
    page = client.get(url("invoice_link:page", invoice_token))
    assert page.status_code == 200
    revoke_link(link=invoice.links.get(), acting_user=None)

    response = report(client, invoice_token)

    assert response.status_code == 404
    assert not Payment.objects.exists()


def test_a_report_without_the_csrf_token_is_refused(invoice, invoice_token, caplog):
    browser = Client(enforce_csrf_checks=True)
    browser.get(url("invoice_link:page", invoice_token))

    with caplog.at_level(logging.DEBUG):
        refused = report(browser, invoice_token)

    assert refused.status_code == 403
    assert invoice_token not in caplog.text
    assert not Payment.objects.exists()
    # The same post with the page's token is taken: only the token was missing.
    csrf = browser.cookies["csrftoken"].value
    taken = report(browser, invoice_token, csrfmiddlewaretoken=csrf)
    assert taken.status_code == 303 and Payment.objects.count() == 1


def test_without_e_mail_set_up_the_report_still_succeeds(client, invoice, invoice_token):
    assert report(client, invoice_token).status_code == 303
    assert Payment.objects.count() == 1 and not Message.objects.exists()
