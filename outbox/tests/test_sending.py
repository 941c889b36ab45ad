"""Sending an invoice through a real SMTP server on localhost: what arrives, and every way of
failing, each recorded as an attempt with words the user can act on."""

import hashlib
import socket
from decimal import Decimal

import pytest

from billing.models import Invoice, InvoiceStatus
from ledger.models import LedgerEntry
from otb.operations import InvalidInput
from outbox import services
from outbox.models import (
    AttemptOutcome,
    DeliveryAttempt,
    FailureKind,
    Message,
    MessageKind,
    MessageStatus,
)
from tests.factories import ClientFactory, draft, issued, line
from tests.mail import (
    BUSY_PREFIX,
    PASSWORD,
    REFUSED_PREFIX,
    USERNAME,
    free_port,
    point_settings_at,
)
from tests.pdf import pdf_text

pytestmark = pytest.mark.django_db

BASE = "http://testserver/"


@pytest.fixture
def invoice(business):
    client = ClientFactory(name="Maple Leaf Property", email="accounts@maple.example.com")
    return issued(client=client, lines=[line("2", "150.00", description="Gutter repair")])


@pytest.fixture
def send(django_capture_on_commit_callbacks, bookkeeper):
    """Send an invoice as the bookkeeper would, delivered when the transaction commits."""

    def send(invoice, **fields):
        defaults = services.invoice_message_defaults(invoice)
        arguments = {**defaults, **fields}
        with django_capture_on_commit_callbacks(execute=True):
            messages = services.send_invoice(
                invoice=invoice, acting_user=bookkeeper, base_url=BASE, **arguments
            )
        for message in messages:
            message.refresh_from_db()
        return messages

    return send


def test_the_invoice_arrives_with_its_headers_text_and_pdf(smtp, send, invoice):
    [message] = send(invoice)

    assert message.status == MessageStatus.SENT
    [received] = smtp.received
    mail = received.message
    assert mail["From"] == "Northwind Billing <billing@northwind.example.com>"
    assert mail["To"] == "accounts@maple.example.com"
    assert mail["Cc"] is None and mail["Bcc"] is None
    assert mail["Reply-To"] == "office@northwind.example.com"
    assert mail["Subject"] == f"Invoice {invoice.number} from My Business"
    assert mail["Message-ID"] == message.message_id
    assert received.rcpt_tos == ["accounts@maple.example.com"]
    assert "Dear Maple Leaf Property," in received.text()
    assert "for 339.00 CAD, due on" in received.text()
    [(name, pdf)] = received.attachments()
    assert name == f"{invoice.number}.pdf"
    text = pdf_text(pdf)
    assert invoice.number in text and "Gutter repair" in text and "339.00" in text


def test_the_exact_pdf_that_went_out_is_archived_with_its_sha256(smtp, send, invoice):
    [message] = send(invoice)

    [(_name, pdf)] = smtp.received[0].attachments()
    assert message.attachment.sha256 == hashlib.sha256(pdf).hexdigest()
    assert bytes(message.attachment.content) == pdf
    [again] = send(invoice)
    assert again.attachment_id == message.attachment_id  # the same bytes, stored once


def test_each_attempt_records_when_to_whom_by_whom_and_the_servers_answer(
    smtp, send, invoice, bookkeeper
):
    [message] = send(invoice)

    [attempt] = message.attempts.all()
    assert attempt.outcome == AttemptOutcome.SENT
    assert attempt.smtp_code == 250
    assert "queued as TEST1" in attempt.server_answer
    assert attempt.recipients == "accounts@maple.example.com"
    assert attempt.acting_user == bookkeeper
    assert attempt.server == f"127.0.0.1:{smtp.port}"
    assert message.created_by == bookkeeper and message.sent_at is not None


def test_starttls_and_login_are_used_when_set(
    business, start_mail_server, tls_context, ca_file, settings, send, invoice
):
    server = start_mail_server(login=True, starttls=tls_context)
    settings.OTB_SMTP_CA_FILE = ca_file
    point_settings_at(
        server.port, smtp_use_tls=True, smtp_username=USERNAME, smtp_password=PASSWORD
    )

    [message] = send(invoice)

    assert message.status == MessageStatus.SENT, message.problem
    [received] = server.received
    assert received.tls and received.authenticated


def test_ssl_and_login_are_used_when_set(
    business, start_mail_server, tls_context, ca_file, settings, send, invoice
):
    server = start_mail_server(login=True, implicit_tls=tls_context)
    settings.OTB_SMTP_CA_FILE = ca_file
    point_settings_at(
        server.port, smtp_use_ssl=True, smtp_username=USERNAME, smtp_password=PASSWORD
    )

    [message] = send(invoice)

    assert message.status == MessageStatus.SENT, message.problem
    [received] = server.received
    assert received.tls and received.authenticated


def _failed(message, kind, *words):
    assert message.status == MessageStatus.FAILED
    assert message.failure_kind == kind
    assert message.needs_attention
    for word in words:
        assert word in message.problem
    [attempt] = message.attempts.all()
    assert attempt.outcome == AttemptOutcome.FAILED
    assert attempt.failure_kind == kind
    return attempt


def test_a_wrong_password_fails_with_a_message_saying_so(
    business, start_mail_server, settings, send, invoice
):
    server = start_mail_server(login=True)
    point_settings_at(server.port, smtp_username=USERNAME, smtp_password="wrong")

    [message] = send(invoice)

    attempt = _failed(message, FailureKind.AUTH, "refused the username or password")
    assert attempt.smtp_code == 535
    assert server.received == []


def test_a_refused_connection_fails_naming_host_and_port(business, send, invoice):
    port = free_port()
    point_settings_at(port)

    [message] = send(invoice)

    _failed(message, FailureKind.UNREACHABLE, f"127.0.0.1:{port}", "Check the SMTP host and port")


def test_an_unknown_host_fails_naming_it(business, send, invoice):
    point_settings_at(25, smtp_host="no-such-host.invalid")

    [message] = send(invoice)

    _failed(message, FailureKind.UNREACHABLE, "no-such-host.invalid could not be found")


def test_ssl_against_a_plain_server_is_a_tls_mismatch(smtp, send, invoice):
    point_settings_at(smtp.port, smtp_use_ssl=True)

    [message] = send(invoice)

    _failed(message, FailureKind.TLS, "STARTTLS usually on 587, SSL/TLS on 465")


def test_starttls_against_a_server_without_it_is_a_tls_mismatch(smtp, send, invoice):
    point_settings_at(smtp.port, smtp_use_tls=True)

    [message] = send(invoice)

    _failed(message, FailureKind.TLS, "does not offer STARTTLS")


def test_a_certificate_from_an_unknown_authority_is_refused(
    business, start_mail_server, tls_context, send, invoice
):
    server = start_mail_server(starttls=tls_context)
    point_settings_at(server.port, smtp_use_tls=True)  # the test CA is not trusted

    [message] = send(invoice)

    _failed(message, FailureKind.TLS, "certificate of 127.0.0.1")
    assert server.received == []


def test_a_refused_recipient_fails_naming_the_address(smtp, send, invoice):
    [message] = send(invoice, to=f"{REFUSED_PREFIX}maple.example.com")

    _failed(message, FailureKind.RECIPIENT, f"{REFUSED_PREFIX}maple.example.com (550")
    assert smtp.received == []


def test_a_refused_cc_address_fails_its_own_message_only(smtp, send, invoice):
    to, refused = send(invoice, cc=f"{REFUSED_PREFIX}maple.example.com")

    assert to.status == MessageStatus.SENT and not to.needs_attention
    _failed(refused, FailureKind.RECIPIENT, f"{REFUSED_PREFIX}maple.example.com (550")
    assert [received.rcpt_tos for received in smtp.received] == [["accounts@maple.example.com"]]


def test_a_server_that_does_not_answer_times_out_and_is_tried_again_later(
    business, settings, send, invoice
):
    settings.OTB_SMTP_TIMEOUT = 0.5
    with socket.socket() as silent:  # accepts connections (backlog) and never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(5)
        point_settings_at(silent.getsockname()[1])

        [message] = send(invoice)

    assert message.status == MessageStatus.QUEUED
    assert message.failure_kind == FailureKind.TIMEOUT
    assert not message.needs_attention
    assert "did not answer within 0.5 seconds" in message.problem
    assert message.next_attempt_at > message.attempts.get().finished_at
    [attempt] = message.attempts.all()
    assert attempt.outcome == AttemptOutcome.RETRY


def test_a_temporary_refusal_is_retried(smtp, send, invoice):
    [message] = send(invoice, to=f"{BUSY_PREFIX}maple.example.com")

    assert message.status == MessageStatus.QUEUED
    assert message.failure_kind == FailureKind.TEMPORARY
    assert "(450" in message.problem


def test_a_failed_send_changes_nothing_else(business, send, invoice):
    point_settings_at(free_port())
    before = Invoice.objects.values().get(pk=invoice.pk)
    entries = LedgerEntry.objects.count()

    [message] = send(invoice)

    assert message.status == MessageStatus.FAILED
    assert Invoice.objects.values().get(pk=invoice.pk) == before
    assert LedgerEntry.objects.count() == entries


def test_sending_a_draft_needs_the_confirmation_to_issue_it(smtp, send, business):
    invoice = draft(client=ClientFactory(email="a@example.com"))

    with pytest.raises(InvalidInput) as refused:
        send(invoice)

    assert refused.value.field == "issue_draft"
    invoice.refresh_from_db()
    assert invoice.is_draft and Message.objects.count() == 0


def test_sending_a_draft_with_confirmation_issues_it_and_fills_its_number_in(smtp, send, business):
    invoice = draft(client=ClientFactory(email="a@example.com"))

    [message] = send(invoice, issue_draft=True)

    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PENDING and invoice.number == "INV-0001"
    assert message.subject == "Invoice INV-0001 from My Business"
    assert smtp.received[0].attachments()[0][0] == "INV-0001.pdf"


def test_a_cancelled_invoice_is_not_sent(smtp, send, invoice):
    from billing.services import cancel_invoice

    cancel_invoice(invoice=invoice, acting_user=None, reason="Twice")

    with pytest.raises(Exception, match="cancelled"):
        send(invoice)
    assert Message.objects.count() == 0


def test_nothing_is_queued_while_email_is_not_set_up(business, send, invoice):
    with pytest.raises(InvalidInput, match="E-mail is not set up"):
        send(invoice)
    assert Message.objects.count() == 0


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("to", "", "To: enter at least one e-mail address."),
        ("to", "not-an-address", "To: “not-an-address” is not a valid e-mail address."),
        ("to", "a@example.com\r\nBcc: victim@example.com", "To: line breaks are not allowed"),
        ("cc", "a@example.com, b@", "CC: “b@” is not a valid e-mail address."),
        ("bcc", "x@example.com\nSubject: spam", "BCC: line breaks are not allowed"),
        ("subject", "Invoice\r\nBcc: victim@example.com", "Subject: must be one line"),
        ("subject", "", "Subject: this field is required."),
        ("subject", "Invoice {invoce_number}", "Subject: unknown placeholder {invoce_number}."),
        ("body", "Pay {amount_due} now", "Text: unknown placeholder {amount_due}."),
        ("body", "   ", "Text: this field is required."),
        ("to", ", ".join(f"a{n}@example.com" for n in range(51)), "To: at most 50 addresses."),
    ],
)
def test_bad_addresses_and_header_injection_are_refused(smtp, send, invoice, field, value, words):
    with pytest.raises(InvalidInput) as refused:
        send(invoice, **{field: value})

    assert refused.value.field == field
    assert words in refused.value.message
    assert Message.objects.count() == 0 and smtp.received == []


def test_placeholders_in_the_text_are_filled_once_only(smtp, send, business):
    client = ClientFactory(name="{total} Corp", email="a@example.com")
    invoice = issued(client=client)

    [message] = send(invoice, subject="For {client_name}", body="{client_name}: {balance_due}")

    assert message.subject == "For {total} Corp"
    assert message.body.startswith("{total} Corp: 113.00 CAD\n\n")


def test_a_viewer_may_not_send(smtp, invoice, viewer):
    from otb.operations import NotPermitted

    with pytest.raises(NotPermitted):
        services.send_invoice(
            invoice=invoice, acting_user=viewer, **services.invoice_message_defaults(invoice)
        )


def test_every_address_of_to_cc_and_bcc_is_a_message_of_its_own(smtp, send, invoice):
    messages = send(
        invoice,
        to="a@example.com; b@example.com, A@EXAMPLE.com",
        cc="c@example.com, B@example.com",
        bcc="archive@northwind.example.com",
    )

    assert [m.to_addresses for m in messages] == [
        "a@example.com",
        "b@example.com",
        "c@example.com",
        "archive@northwind.example.com",
    ]
    assert all(m.cc_addresses == m.bcc_addresses == "" for m in messages)
    assert all(m.kind == MessageKind.INVOICE and m.invoice == invoice for m in messages)
    assert sorted(r.rcpt_tos for r in smtp.received) == [
        ["a@example.com"],
        ["archive@northwind.example.com"],
        ["b@example.com"],
        ["c@example.com"],
    ]
    assert all(r.message["Cc"] is None for r in smtp.received)
    assert DeliveryAttempt.objects.filter(message__in=messages).count() == 4
    assert Decimal(invoice.total) == Decimal("339.00")
