"""Every document e-mailed carries its recipient's own link (SPEC: Client portal and document
links; issue 21): invoices, their reminders and credit notes, through a real SMTP server on
localhost. One message and one link per person; the outbox keeps the link masked; the link
opens that one document and nothing else; a new send or a reminder replaces the link."""

import datetime
import hashlib
import re

import pytest
import time_machine
from django.core.exceptions import ValidationError

from billing import services as billing_services
from links.models import REPLACED, DocumentLink, LinkKind
from links.selectors import open_link
from otb.operations import InvalidInput
from outbox import services
from outbox.models import MASKED_LINK, Message, MessageKind, MessageStatus
from settings_app.models import DEFAULT_INVOICE_BODY, ReminderStage
from settings_app.selectors import get_business_settings
from tests.factories import ClientFactory, draft, issued, line

pytestmark = pytest.mark.django_db

BASE = "http://testserver/"
INVOICE_LINK = re.compile(r"https?://\S+/i/([A-Za-z0-9_-]{43})/")
CREDIT_NOTE_LINK = re.compile(r"https?://\S+/c/([A-Za-z0-9_-]{43})/")


@pytest.fixture
def invoice(business):
    client = ClientFactory(name="Maple Leaf Property", email="accounts@maple.example.com")
    return issued(client=client, lines=[line("2", "150.00", description="Gutter repair")])


@pytest.fixture
def send(django_capture_on_commit_callbacks, bookkeeper):
    """Send an invoice as the bookkeeper would, delivered when the transaction commits."""

    def send(invoice, **fields):
        arguments = {**services.invoice_message_defaults(invoice), "base_url": BASE, **fields}
        with django_capture_on_commit_callbacks(execute=True):
            messages = services.send_invoice(invoice=invoice, acting_user=bookkeeper, **arguments)
        for message in messages:
            message.refresh_from_db()
        return messages

    return send


def token_in(received, pattern=INVOICE_LINK) -> str:
    return pattern.search(received.text()).group(1)


# --- Invoices -----------------------------------------------------------------------------
def test_each_recipient_gets_its_own_live_link_to_the_invoice(smtp, send, invoice):
    messages = send(invoice, cc="boss@maple.example.com")

    assert [m.status for m in messages] == [MessageStatus.SENT, MessageStatus.SENT]
    by_address = {received.rcpt_tos[0]: token_in(received) for received in smtp.received}
    assert set(by_address) == {"accounts@maple.example.com", "boss@maple.example.com"}
    first, second = by_address.values()
    assert first != second
    for address, token in by_address.items():
        link = open_link(token, kind=LinkKind.INVOICE)
        assert link is not None and link.invoice_id == invoice.pk
        assert link.recipient == address
    assert DocumentLink.objects.filter(invoice=invoice, revoked_at=None).count() == 2


def test_the_link_opens_that_invoice_and_nothing_else(smtp, send, invoice):
    other = issued(client=ClientFactory(email="other@example.com"))
    send(invoice)

    token = token_in(smtp.received[0])
    assert open_link(token, kind=LinkKind.INVOICE).invoice_id == invoice.pk
    for kind in (LinkKind.QUOTE, LinkKind.CREDIT_NOTE, LinkKind.STATEMENT):
        assert open_link(token, kind=kind) is None
    assert not DocumentLink.objects.filter(invoice=other).exists()
    assert smtp.received[0].text().count(BASE + "i/") == 1


def test_the_outbox_keeps_the_text_with_the_link_masked(smtp, send, invoice):
    [message] = send(invoice)

    token = token_in(smtp.received[0])
    assert MASKED_LINK in message.body and token not in message.body
    assert MASKED_LINK not in smtp.received[0].text()
    assert message.secret_link == ""  # wiped once delivered
    assert DocumentLink.objects.get().token_hash == hashlib.sha256(token.encode()).hexdigest()


def test_the_default_text_has_the_link_in_its_place(smtp, send, invoice):
    send(invoice)

    text = smtp.received[0].text().replace("\r\n", "\n")
    assert "You can also read it and download it here:\n" + BASE + "i/" in text
    assert text.rstrip().endswith("My Business")
    assert "{link}" in DEFAULT_INVOICE_BODY


def test_a_text_without_the_link_gets_it_at_its_end(smtp, send, invoice):
    send(invoice, body="Here is your invoice {invoice_number}.")

    text = smtp.received[0].text().replace("\r\n", "\n")
    assert text.startswith(f"Here is your invoice {invoice.number}.\n\n")
    assert text.rstrip().endswith(token_in(smtp.received[0]) + "/")
    assert "You can also read this invoice here:\n" + BASE + "i/" in text


def test_sending_again_replaces_the_recipients_link(smtp, send, invoice):
    send(invoice)
    send(invoice)

    first, second = (token_in(received) for received in smtp.received)
    assert first != second
    assert open_link(first, kind=LinkKind.INVOICE) is None
    assert open_link(second, kind=LinkKind.INVOICE).invoice_id == invoice.pk
    old, new = DocumentLink.objects.order_by("pk")
    assert old.revoke_reason == REPLACED and new.revoked_at is None


def test_the_link_is_refused_in_the_subject_by_field(smtp, send, invoice):
    with pytest.raises(InvalidInput, match="the link goes in the text") as refused:
        send(invoice, subject="Invoice {invoice_number}: {link}")

    assert refused.value.field == "subject"
    assert not Message.objects.exists() and not DocumentLink.objects.exists()


def test_without_the_sites_address_nothing_is_sent_and_a_draft_stays_a_draft(smtp, send, business):
    unsent = draft(client=ClientFactory(email="a@example.com"))

    with pytest.raises(InvalidInput, match="set OTB_BASE_URL"):
        send(unsent, base_url="", issue_draft=True)

    unsent.refresh_from_db()
    assert unsent.is_draft and not Message.objects.exists()
    assert not DocumentLink.objects.exists()


def test_the_site_address_setting_wins_over_the_requests(smtp, send, invoice, settings):
    settings.OTB_BASE_URL = "https://billing.northwind.example.com"

    send(invoice, base_url="http://10.0.0.5:8000/")

    assert "https://billing.northwind.example.com/i/" in smtp.received[0].text()


def test_an_invoice_cancelled_while_its_pdf_was_rendered_is_not_sent(
    smtp, invoice, bookkeeper, monkeypatch
):
    from billing import pdf

    real_invoice_pdf = pdf.invoice_pdf

    def cancelled_meanwhile(document, **kwargs):
        content = real_invoice_pdf(document, **kwargs)
        billing_services.cancel_invoice(invoice=invoice, acting_user=None, reason="Twice")
        return content

    monkeypatch.setattr(pdf, "invoice_pdf", cancelled_meanwhile)

    with pytest.raises(billing_services.InvalidTransition, match="cancelled"):
        services.send_invoice(
            invoice=invoice,
            acting_user=bookkeeper,
            base_url=BASE,
            **services.invoice_message_defaults(invoice),
        )
    assert not Message.objects.exists() and not DocumentLink.objects.exists()


def test_on_queued_runs_once_with_every_message(smtp, invoice, bookkeeper):
    calls = []

    messages = services.send_invoice(
        invoice=invoice,
        acting_user=bookkeeper,
        base_url=BASE,
        cc="b@example.com",
        bcc="c@example.com",
        on_queued=calls.append,
        to=invoice.client.email,
        subject="Invoice {invoice_number}",
        body="{link}",
    )

    assert calls == [messages] and len(messages) == 3


# --- Reminders ----------------------------------------------------------------------------
@pytest.fixture
def overdue(business):
    return issued(
        client=ClientFactory(email="ap@oak.example.com"),
        issue_date=datetime.date(2026, 3, 1),
        due_date=datetime.date(2026, 3, 31),
    )


def remind(invoice, stage, django_capture_on_commit_callbacks, **kwargs):
    with django_capture_on_commit_callbacks(execute=True):
        message = services.queue_reminder(
            invoice=invoice, stage=stage, today=datetime.date(2026, 4, 7), **kwargs
        )
    message.refresh_from_db()
    return message


def test_a_reminder_carries_a_new_live_link_and_the_old_one_is_replaced(
    smtp, send, overdue, django_capture_on_commit_callbacks
):
    send(overdue)
    sent_token = token_in(smtp.received[0])
    stage = ReminderStage.objects.get(days_from_due=7)

    message = remind(overdue, stage, django_capture_on_commit_callbacks, base_url=BASE)

    assert (message.kind, message.status) == (MessageKind.REMINDER, MessageStatus.SENT)
    reminder_token = token_in(smtp.received[1])
    assert reminder_token != sent_token
    assert open_link(sent_token, kind=LinkKind.INVOICE) is None
    assert open_link(reminder_token, kind=LinkKind.INVOICE).invoice_id == overdue.pk
    old, new = DocumentLink.objects.order_by("pk")
    assert old.revoke_reason == REPLACED and new.recipient == "ap@oak.example.com"
    assert MASKED_LINK in message.body and reminder_token not in message.body
    # The stage's text as the migrations leave it has {link} in its place.
    text = smtp.received[1].text().replace("\r\n", "\n")
    assert "You can read the invoice here:\n" + BASE + "i/" in text
    assert "{link}" in stage.body


def test_a_reminder_stage_without_the_link_gets_it_at_its_end(
    smtp, overdue, django_capture_on_commit_callbacks
):
    stage = ReminderStage.objects.create(
        name="Late", days_from_due=3, subject="Late: {invoice_number}", body="Please pay."
    )

    remind(overdue, stage, django_capture_on_commit_callbacks, base_url=BASE)

    text = smtp.received[0].text().replace("\r\n", "\n")
    assert text.startswith("Please pay.\n\nYou can read the invoice here:\n" + BASE + "i/")


def test_a_reminder_already_queued_issues_no_link(
    smtp, overdue, django_capture_on_commit_callbacks
):
    stage = ReminderStage.objects.get(days_from_due=7)
    remind(overdue, stage, django_capture_on_commit_callbacks, base_url=BASE)
    [live] = DocumentLink.objects.all()

    assert (
        services.queue_reminder(
            invoice=overdue, stage=stage, today=datetime.date(2026, 4, 7), base_url=BASE
        )
        is None
    )
    assert list(DocumentLink.objects.all()) == [live]
    live.refresh_from_db()
    assert live.revoked_at is None


def test_without_the_sites_address_the_reminder_run_sends_nothing_and_says_why(
    smtp, overdue, settings
):
    import io

    from django.core.management import call_command

    point = get_business_settings()
    point.send_reminders = True
    point.save()
    out = io.StringIO()

    with time_machine.travel(datetime.datetime(2026, 4, 7, 17, tzinfo=datetime.UTC)):
        call_command("send_reminders", stdout=out)
        assert services.queue_due_reminders() == []
    assert "set OTB_BASE_URL" in out.getvalue()
    assert not Message.objects.exists() and not DocumentLink.objects.exists()

    settings.OTB_BASE_URL = "https://billing.northwind.example.com"
    with time_machine.travel(datetime.datetime(2026, 4, 8, 17, tzinfo=datetime.UTC)):
        [message] = services.queue_due_reminders()
    assert message.secret_link.startswith("https://billing.northwind.example.com/i/")


# --- Credit notes -------------------------------------------------------------------------
@pytest.fixture
def credit_note(invoice):
    note = billing_services.create_credit_note(invoice=invoice, acting_user=None)
    return billing_services.issue_credit_note(credit_note=note, acting_user=None)


def send_note(note, user, capture, **fields):
    arguments = {**services.credit_note_message_defaults(note), "base_url": BASE, **fields}
    with capture(execute=True):
        messages = services.send_credit_note(credit_note=note, acting_user=user, **arguments)
    for message in messages:
        message.refresh_from_db()
    return messages


def test_each_recipient_of_a_credit_note_gets_its_own_link_to_it(
    smtp, credit_note, bookkeeper, django_capture_on_commit_callbacks
):
    messages = send_note(
        credit_note, bookkeeper, django_capture_on_commit_callbacks, cc="boss@maple.example.com"
    )

    assert [m.to_addresses for m in messages] == [
        "accounts@maple.example.com",
        "boss@maple.example.com",
    ]
    assert all(m.kind == MessageKind.CREDIT_NOTE for m in messages)
    assert all(MASKED_LINK in m.body for m in messages)
    tokens = [token_in(received, CREDIT_NOTE_LINK) for received in smtp.received]
    assert len(set(tokens)) == 2
    for token in tokens:
        assert open_link(token, kind=LinkKind.CREDIT_NOTE).credit_note_id == credit_note.pk
        assert open_link(token, kind=LinkKind.INVOICE) is None
    text = smtp.received[0].text().replace("\r\n", "\n")
    assert "You can also read it here:\n" + BASE + "c/" in text


def test_a_credit_note_text_without_the_link_gets_it_and_the_subject_refuses_it(
    smtp, credit_note, bookkeeper, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    with pytest.raises(InvalidInput, match="the link goes in the text") as refused:
        send_note(credit_note, bookkeeper, capture, subject="Credit note {link}")
    assert refused.value.field == "subject"
    assert not DocumentLink.objects.exists()

    send_note(credit_note, bookkeeper, capture, body="Here it is.")

    text = smtp.received[0].text().replace("\r\n", "\n")
    assert text.startswith("Here it is.\n\nYou can also read this credit note here:\n" + BASE)


def test_a_credit_note_text_takes_no_placeholder_but_the_link(
    smtp, credit_note, bookkeeper, django_capture_on_commit_callbacks
):
    with pytest.raises(InvalidInput, match=r"unknown placeholder \{total\}") as refused:
        send_note(
            credit_note, bookkeeper, django_capture_on_commit_callbacks, body="{total} {link}"
        )
    assert refused.value.field == "body"


# --- The settings' texts ------------------------------------------------------------------
def test_the_settings_refuse_the_link_in_a_subject_and_take_it_in_a_text(business):
    business.invoice_email_body = "Read it: {link}"
    business.full_clean()

    business.invoice_email_subject = "Invoice {link}"
    with pytest.raises(ValidationError) as refused:
        business.full_clean()
    assert set(refused.value.message_dict) == {"invoice_email_subject"}
    assert "remove {link} from the subject" in str(refused.value)


def test_a_reminder_stage_refuses_the_link_in_its_subject_and_takes_it_in_its_text(db):
    stage = ReminderStage(name="Late", days_from_due=12, subject="Late", body="Pay: {link}")
    stage.full_clean()

    stage.subject = "Late {link}"
    with pytest.raises(ValidationError) as refused:
        stage.full_clean()
    assert set(refused.value.message_dict) == {"subject"}


def test_the_default_reminder_stages_have_the_link_in_their_text(db):
    stages = ReminderStage.objects.order_by("days_from_due")
    assert [stage.days_from_due for stage in stages] == [-3, 7, 30]
    for stage in stages:
        assert "You can read the invoice here:\n{link}\n\n{business_name}\n" in stage.body
