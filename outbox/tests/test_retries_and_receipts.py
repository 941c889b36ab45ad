"""The maintenance side of the outbox: retries with back-off until they give up, messages a
stopped process left half-sent, overlapping runs, and payment receipts."""

import datetime
import io
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from billing import services as billing_services
from billing.models import PaymentMethod
from billing.services import post_manual_credit
from otb.operations import DomainError
from outbox import services
from outbox.delivery import RETRY_DELAYS, STALLED_AFTER, deliver_due, recover_stalled
from outbox.models import FailureKind, Message, MessageKind, MessageStatus
from tests.factories import ClientFactory, issued, pay
from tests.mail import BUSY_PREFIX, point_settings_at
from tests.processes import run_in_processes

pytestmark = pytest.mark.django_db

BASE = "http://testserver/"

START = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture
def send(django_capture_on_commit_callbacks, bookkeeper):
    def send(invoice, **fields):
        arguments = {**services.invoice_message_defaults(invoice), **fields}
        with django_capture_on_commit_callbacks(execute=True):
            messages = services.send_invoice(
                invoice=invoice, acting_user=bookkeeper, base_url=BASE, **arguments
            )
        for message in messages:
            message.refresh_from_db()
        return messages

    return send


def process_outbox() -> str:
    out = io.StringIO()
    call_command("process_outbox", stdout=out)
    return out.getvalue()


def test_temporary_failures_are_retried_with_back_off_then_given_up(smtp, send):
    invoice = issued(client=ClientFactory(email=f"{BUSY_PREFIX}example.com"))
    with time_machine.travel(START, tick=False) as clock:
        [message] = send(invoice)
        assert message.status == MessageStatus.QUEUED
        assert message.next_attempt_at == START + RETRY_DELAYS[0]

        assert "0 sent, 0 to retry later, 0 failed." in process_outbox()  # not due yet
        now = START
        for attempt, delay in enumerate(RETRY_DELAYS, start=2):
            now += delay
            clock.move_to(now)
            output = process_outbox()
            message.refresh_from_db()
            assert message.attempt_count == attempt
            if attempt <= len(RETRY_DELAYS):
                assert "Will retry" in output
                assert message.next_attempt_at == now + RETRY_DELAYS[attempt - 1]
        assert "FAILED" in output and "Gave up after 6 attempts." in output

    assert message.status == MessageStatus.FAILED and message.needs_attention
    assert message.attempts.count() == 6
    assert smtp.received == []


def test_a_message_sent_again_after_a_fix_goes_out_once(
    smtp, send, bookkeeper, django_capture_on_commit_callbacks
):
    invoice = issued(client=ClientFactory(email="a@example.com"))
    point_settings_at(smtp.port, smtp_use_tls=True)  # the server has no STARTTLS
    [message] = send(invoice)
    assert message.status == MessageStatus.FAILED and message.failure_kind == FailureKind.TLS

    point_settings_at(smtp.port)
    with django_capture_on_commit_callbacks(execute=True):
        services.retry_message(message=message, acting_user=bookkeeper)

    message.refresh_from_db()
    assert message.status == MessageStatus.SENT and not message.needs_attention
    assert message.attempt_count == 2 and len(smtp.received) == 1
    assert process_outbox().endswith("0 sent, 0 to retry later, 0 failed.\n")
    assert len(smtp.received) == 1


def test_a_message_left_sending_by_a_stopped_process_is_failed_not_sent_again(smtp, send):
    invoice = issued(client=ClientFactory(email="a@example.com"))
    [message] = send(invoice)
    Message.objects.filter(pk=message.pk).update(
        status=MessageStatus.SENDING, claimed_at=timezone.now() - STALLED_AFTER * 2
    )

    assert recover_stalled() == 1

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED and message.needs_attention
    assert "not known whether the message arrived" in message.problem
    assert deliver_due() == []
    assert len(smtp.received) == 1


def test_a_message_being_sent_right_now_is_left_alone(smtp, send):
    invoice = issued(client=ClientFactory(email="a@example.com"))
    [message] = send(invoice)
    Message.objects.filter(pk=message.pk).update(
        status=MessageStatus.SENDING, claimed_at=timezone.now()
    )

    assert recover_stalled() == 0


def _deliver_due(_share):
    return [m.pk for m in deliver_due() if m.status == MessageStatus.SENT]


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_overlapping_outbox_runs_send_each_message_once(migration_rows, business, smtp):
    clients = ClientFactory.create_batch(12)
    invoices = [issued(client=client) for client in clients]
    # Queued and due, as the daily run would find retries; not sent here.
    for invoice in invoices:
        Message.objects.create(
            kind=MessageKind.INVOICE,
            invoice=invoice,
            from_address="billing@northwind.example.com",
            to_addresses=invoice.client.email,
            subject=f"Invoice {invoice.number}",
            body="Attached.",
            message_id=f"<{invoice.pk}@northwind.example.com>",
            next_attempt_at=START,
        )

    sent = run_in_processes(_deliver_due, [None] * 4)

    all_sent = [pk for pks in sent for pk in pks]
    assert len(all_sent) == len(set(all_sent)) == 12
    assert len(smtp.received) == 12
    assert sorted(r.rcpt_tos[0] for r in smtp.received) == sorted(c.email for c in clients)
    assert set(Message.objects.values_list("attempt_count", flat=True)) == {1}


# --- Receipts -----------------------------------------------------------------------------
@pytest.fixture
def receipts_on(smtp, business):
    point_settings_at(smtp.port, send_payment_receipts=True)
    return smtp


def test_a_confirmed_payment_gets_a_receipt(receipts_on, django_capture_on_commit_callbacks):
    invoice = issued(client=ClientFactory(name="Oak Ridge", email="ap@oak.example.com"))

    with django_capture_on_commit_callbacks(execute=True):
        payment = pay(invoice, "50.00", when=datetime.date(2026, 3, 2))

    [received] = receipts_on.received
    assert received.rcpt_tos == ["ap@oak.example.com"]
    text = received.text()
    assert "payment of 50.00 CAD on Mar 2, 2026 (Bank transfer)" in text
    assert f"invoice {invoice.number}. Balance still due on it: 63.00 CAD" in text
    assert Message.objects.get().payment == payment
    assert received.attachments() == []


def test_a_pending_payment_gets_its_receipt_when_confirmed(
    receipts_on, django_capture_on_commit_callbacks
):
    invoice = issued(client=ClientFactory(email="ap@oak.example.com"))
    with django_capture_on_commit_callbacks(execute=True):
        payment = pay(invoice, "20.00", confirmed=False)
    assert receipts_on.received == []

    with django_capture_on_commit_callbacks(execute=True):
        billing_services.confirm_payment(payment=payment, acting_user=None)

    assert len(receipts_on.received) == 1


def test_no_receipt_when_the_setting_is_off(smtp, business, django_capture_on_commit_callbacks):
    invoice = issued(client=ClientFactory(email="ap@oak.example.com"))

    with django_capture_on_commit_callbacks(execute=True):
        pay(invoice, "20.00")

    assert smtp.received == [] and Message.objects.count() == 0


def test_no_receipt_for_a_payment_from_client_credit(
    receipts_on, django_capture_on_commit_callbacks
):
    client = ClientFactory(email="ap@oak.example.com")
    post_manual_credit(client=client, amount=Decimal("500.00"), memo="Deposit", acting_user=None)
    invoice = issued(client=client)

    with django_capture_on_commit_callbacks(execute=True):
        pay(invoice, "20.00", method=PaymentMethod.CLIENT_CREDIT)

    assert receipts_on.received == []


def test_a_payment_that_is_refused_sends_no_receipt(
    receipts_on, django_capture_on_commit_callbacks
):
    invoice = issued(client=ClientFactory(email="ap@oak.example.com"))

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(DomainError):
        pay(invoice, "-5.00")

    assert receipts_on.received == [] and Message.objects.count() == 0


def test_a_payment_rolled_back_after_it_was_recorded_sends_no_receipt(
    receipts_on, django_capture_on_commit_callbacks
):
    invoice = issued(client=ClientFactory(email="ap@oak.example.com"))

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        pay(invoice, "20.00")
        raise RuntimeError("the request failed after the payment was recorded")

    assert receipts_on.received == [] and Message.objects.count() == 0
