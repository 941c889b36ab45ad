"""The e-mail pages: the send form on an invoice, failures shown until dealt with (invoice,
dashboard, settings, outbox), retrying after a fix, the test e-mail button, the admin action,
and the demo sending an invoice to the quick start's mail sink."""

import email
import email.policy
import io
import os
import socket
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from billing.models import Invoice, InvoiceStatus
from outbox.models import FailureKind, Message, MessageStatus
from settings_app.selectors import get_business_settings
from tests.factories import ClientFactory, draft, issued
from tests.mail import PASSWORD, USERNAME, free_port, point_settings_at
from tests.pdf import pdf_text

# Transactional, as in production: the delivery runs when the view's transaction commits,
# before the view reads the outcome back.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _rows(migration_rows):
    pass


@pytest.fixture
def office(client, bookkeeper):
    client.force_login(bookkeeper)
    return client


@pytest.fixture
def invoice(business):
    return issued(client=ClientFactory(name="Birchwood Dental", email="office@birch.example.com"))


def send_url(invoice):
    return reverse("invoices:send", args=[invoice.pk])


def form_data(invoice, **fields):
    return {
        "to": invoice.client.email,
        "subject": f"Invoice {invoice.number}",
        "body": "Please find it attached.",
        **fields,
    }


def test_the_send_form_is_prefilled_from_the_client_and_the_templates(office, invoice, smtp):
    page = office.get(send_url(invoice)).content.decode()

    assert 'value="office@birch.example.com"' in page
    assert f"Invoice {invoice.number} from My Business" in page
    assert "Dear Birchwood Dental," in page


def test_the_back_office_shows_a_message_read_only(office, invoice, smtp, administrator):
    office.post(send_url(invoice), form_data(invoice), follow=True)
    message = Message.objects.get()
    office.force_login(administrator)

    page = office.get(reverse("admin:outbox_message_change", args=[message.pk]))

    assert page.status_code == 200
    text = page.content.decode()
    assert message.subject in text and "claimed_at" not in text
    assert 'name="subject"' not in text  # shown, never edited
    assert office.post(reverse("admin:outbox_message_add")).status_code == 403


def test_sending_from_the_invoice_page_delivers_and_says_so(office, invoice, smtp):
    response = office.post(send_url(invoice), form_data(invoice), follow=True)

    assert (
        f"Invoice {invoice.number} sent to office@birch.example.com." in response.content.decode()
    )
    [received] = smtp.received
    assert received.message["Subject"] == f"Invoice {invoice.number}"
    assert invoice.number in pdf_text(received.attachments()[0][1])
    page = office.get(invoice.get_absolute_url()).content.decode()
    assert "invoice-email" in page and "office@birch.example.com" in page


def test_bad_input_on_the_send_form_names_the_field(office, invoice, smtp):
    response = office.post(send_url(invoice), form_data(invoice, to="x@", cc="a@b.example\nBcc: c"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "To: “x@” is not a valid e-mail address." in page
    assert Message.objects.count() == 0 and smtp.received == []


def test_a_draft_is_issued_and_sent_by_its_one_button(office, business, smtp):
    """Issue 16, item 18: "Issue and send" failed on the first click until a box was
    ticked. The button is the confirmation; the page says what issuing does."""
    invoice = draft(client=ClientFactory(email="a@example.com"))
    page = office.get(send_url(invoice)).content.decode()
    assert "Issue and send" in page and "Sending it issues it first" in page
    assert 'type="checkbox"' not in page and "{invoice_number}" in page

    office.post(send_url(invoice), form_data(invoice, subject="{invoice_number}"))
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PENDING
    assert smtp.received[0].message["Subject"] == invoice.number


def test_a_draft_issued_but_not_sent_goes_to_its_page_which_says_to_send_it_again(
    office, business, smtp, monkeypatch
):
    from billing import pdf

    def broken_render(html):
        raise OSError("no fonts")

    monkeypatch.setattr(pdf, "html_to_pdf", broken_render)
    invoice = draft(client=ClientFactory(email="a@example.com"))

    response = office.post(send_url(invoice), form_data(invoice), follow=True)

    invoice.refresh_from_db()
    assert invoice.number == "INV-0001"
    assert response.redirect_chain[-1][0] == invoice.get_absolute_url()
    assert "Invoice INV-0001 was issued, but it could not be sent just now." in (
        response.content.decode()
    )
    assert Message.objects.count() == 0 and smtp.received == []


def test_a_viewer_cannot_open_the_send_form(client, viewer, invoice):
    client.force_login(viewer)

    assert client.get(send_url(invoice)).status_code == 403
    assert client.get(reverse("outbox:list")).status_code == 200


def test_a_failure_shows_on_the_invoice_dashboard_settings_and_outbox_until_dealt_with(
    office, client, administrator, invoice, business
):
    point_settings_at(free_port())
    response = office.post(send_url(invoice), form_data(invoice), follow=True)
    assert "Not sent: Nothing accepts connections at 127.0.0.1:" in response.content.decode()
    message = Message.objects.get()

    problem = "Check the SMTP host and port."
    assert problem in office.get(invoice.get_absolute_url()).content.decode()
    assert problem in office.get(reverse("home")).content.decode()
    assert problem in office.get(reverse("outbox:list") + "?show=attention").content.decode()
    client.force_login(administrator)
    assert problem in client.get(reverse("settings")).content.decode()

    client.post(reverse("outbox:dealt_with", args=[message.pk]))
    message.refresh_from_db()
    assert not message.needs_attention and message.dealt_with_by == administrator
    assert message.status == MessageStatus.FAILED  # still not sent, and still on record
    assert problem not in client.get(reverse("home")).content.decode()
    assert problem not in client.get(reverse("settings")).content.decode()


def test_after_fixing_the_password_the_failed_message_is_sent_again(
    office, invoice, business, start_mail_server
):
    server = start_mail_server(login=True)
    point_settings_at(server.port, smtp_username=USERNAME, smtp_password="wrong")
    office.post(send_url(invoice), form_data(invoice))
    message = Message.objects.get()
    assert message.failure_kind == FailureKind.AUTH and message.needs_attention

    point_settings_at(server.port, smtp_username=USERNAME, smtp_password=PASSWORD)
    response = office.post(reverse("outbox:retry", args=[message.pk]), follow=True)

    message.refresh_from_db()
    assert message.status == MessageStatus.SENT and not message.needs_attention
    assert "Sent to office@birch.example.com." in response.content.decode()
    assert [a.outcome for a in message.attempts.all()] == ["failed", "sent"]
    assert len(server.received) == 1


def test_only_a_failed_message_can_be_sent_again(office, invoice, smtp):
    office.post(send_url(invoice), form_data(invoice))
    message = Message.objects.get()

    response = office.post(reverse("outbox:retry", args=[message.pk]), follow=True)

    assert "Only a message that failed can be sent again." in response.content.decode()
    assert len(smtp.received) == 1


def test_the_message_page_shows_attempts_and_serves_the_archived_pdf(office, invoice, smtp):
    office.post(send_url(invoice), form_data(invoice))
    message = Message.objects.get()

    page = office.get(message.get_absolute_url()).content.decode()
    assert message.attachment.sha256 in page and "queued as TEST1" in page
    pdf = office.get(reverse("outbox:attachment", args=[message.pk]))
    assert pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content if pdf.streaming else [pdf.content]) == bytes(
        message.attachment.content
    )


def test_the_test_email_button_reports_success_and_failure(client, administrator, business, smtp):
    client.force_login(administrator)

    response = client.post(reverse("outbox:test"), {"to": "me@example.com"}, follow=True)
    assert "Test e-mail sent to me@example.com." in response.content.decode()
    assert smtp.received[0].rcpt_tos == ["me@example.com"]

    point_settings_at(free_port())
    response = client.post(reverse("outbox:test"), {"to": "me@example.com"}, follow=True)
    page = response.content.decode()
    assert "Not sent: Nothing accepts connections" in page
    # The person who asked sees the result; it does not stay on the dashboard.
    assert not Message.objects.filter(needs_attention=True).exists()


def test_the_test_email_refuses_a_bad_address(client, administrator, business, smtp):
    client.force_login(administrator)

    response = client.post(reverse("outbox:test"), {"to": "me@"}, follow=True)

    assert "To: “me@” is not a valid e-mail address." in response.content.decode()
    assert Message.objects.count() == 0


def test_only_administrators_send_test_emails(office, smtp):
    assert office.post(reverse("outbox:test"), {"to": "me@example.com"}).status_code == 403


def test_settings_refuse_a_template_with_an_unknown_placeholder_or_a_line_break(
    client, administrator, business
):
    from settings_app.forms import BusinessSettingsForm

    client.force_login(administrator)
    data = {
        key: value
        for key, value in BusinessSettingsForm(instance=business).initial.items()
        if value is not None and key != "logo"
    }
    data.update(invoice_email_subject="Invoice {number}", smtp_from_name="Billing\r\nBcc: x@y.z")

    page = client.post(reverse("settings"), data).content.decode()

    assert "Unknown placeholder {number}" in page
    assert "Must be one line, without line breaks." in page
    assert get_business_settings().invoice_email_subject.startswith("Invoice {invoice_number}")


def test_the_admin_action_sends_several_invoices_after_a_confirmation(
    client, administrator, business, smtp
):
    client.force_login(administrator)
    first = issued(client=ClientFactory(email="one@example.com"))
    second = draft(client=ClientFactory(email="two@example.com"))
    cancelled = issued(client=ClientFactory(email="three@example.com"))
    from billing.services import cancel_invoice

    cancel_invoice(invoice=cancelled, acting_user=None)
    url = reverse("admin:billing_invoice_changelist")
    selected = {
        "action": "send_selected_by_email",
        "_selected_action": [first.pk, second.pk, cancelled.pk],
    }

    confirm = client.post(url, selected).content.decode()
    assert "is issued first" in confirm and "cannot be sent" in confirm
    assert smtp.received == []

    client.post(url, {**selected, "confirmed": "yes"})

    assert sorted(r.rcpt_tos[0] for r in smtp.received) == ["one@example.com", "two@example.com"]
    second.refresh_from_db()
    assert second.number == "INV-0003"


@pytest.fixture
def mail_sink(tmp_path):
    """``manage.py mailsink`` as the quick start runs it, on a free port; its folder."""
    port = free_port()
    folder = tmp_path / "mail"
    process = subprocess.Popen(
        [sys.executable, "manage.py", "mailsink", "--port", str(port), "--dir", str(folder)],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "otb.settings_test"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"the mail sink did not start: {process.communicate()[0]!r}")
            time.sleep(0.1)
    yield port, folder
    process.terminate()
    process.wait(timeout=10)


def test_the_demo_sends_an_invoice_to_the_quick_starts_mail_sink(office, mail_sink):
    port, folder = mail_sink
    call_command("seed_demo", stdout=io.StringIO())
    business = get_business_settings()
    assert (business.smtp_host, business.smtp_port) == ("127.0.0.1", 1025)
    business.smtp_port = port  # the sink of this test instead of port 1025
    business.save()
    invoice = Invoice.objects.filter(status=InvoiceStatus.PENDING).order_by("pk").first()
    defaults = office.get(send_url(invoice)).context["form"].initial
    office.post(send_url(invoice), defaults)

    [saved] = folder.glob("*.eml")
    received = email.message_from_bytes(saved.read_bytes(), policy=email.policy.default)
    assert received["From"] == "Northwind Contracting <billing@northwind-contracting.example.com>"
    assert received["To"] == invoice.client.email
    [attachment] = received.iter_attachments()
    assert attachment.get_filename() == f"{invoice.number}.pdf"
    assert invoice.number in pdf_text(attachment.get_content())
    assert Message.objects.get().status == MessageStatus.SENT
