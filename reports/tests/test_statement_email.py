"""E-mail a statement (issue 16, item 23): from the statement page and the API, through
the outbox, with the same PDF as the download."""

import datetime

import pytest
from django.test import TestCase
from django.urls import reverse

from billing import services
from outbox.models import Message, MessageKind, MessageStatus
from tests.api import token_client
from tests.factories import ClientFactory, issued
from tests.pdf import pdf_text

pytestmark = pytest.mark.django_db
START, END = datetime.date(2026, 1, 1), datetime.date(2026, 12, 31)


@pytest.fixture
def oak(business):
    client = ClientFactory(
        code="OAK", name="Oak Ridge", contact_person="Sam Lee", email="ap@oak.example.com"
    )
    issued(client=client, issue_date=datetime.date(2026, 3, 1))  # 113.00 owed
    return client


def test_the_statement_page_emails_the_statement(client, bookkeeper, oak, smtp):
    client.force_login(bookkeeper)
    page = client.get(
        reverse("reports:statement"), {"client": "OAK", "start": "2026-01-01", "end": "2026-12-31"}
    ).content.decode()
    assert reverse("reports:statement_send") in page and 'value="ap@oak.example.com"' in page
    data = {"client": "OAK", "start": "2026-01-01", "end": "2026-12-31", "to": "ap@oak.example.com"}
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(reverse("reports:statement_send"), data)
    message = Message.objects.get()
    assert response["Location"] == message.get_absolute_url()
    assert (message.kind, message.status) == (MessageKind.STATEMENT, MessageStatus.SENT)
    mail = smtp.received[0]
    assert mail.rcpt_tos == ["ap@oak.example.com"]
    assert "Dear Sam Lee," in mail.text()
    assert "Balance owed on Dec 31, 2026: 113.00 CAD." in mail.text()
    [(name, pdf)] = mail.attachments()
    assert name == "statement-OAK-2026-12-31.pdf"
    text = pdf_text(pdf)
    assert "Oak Ridge" in text and "113.00" in text


def test_a_bad_address_is_named_and_nothing_is_queued(client, bookkeeper, oak, smtp):
    client.force_login(bookkeeper)
    data = {"client": "OAK", "start": "2026-01-01", "end": "2026-12-31", "to": "nobody@"}
    response = client.post(reverse("reports:statement_send"), data, follow=True)
    assert "To: “nobody@” is not a valid e-mail address." in response.content.decode()
    assert not Message.objects.exists()


def test_the_api_emails_the_statement(bookkeeper, oak, smtp):
    services.post_manual_credit(client=oak, amount="200.00", memo="Prepaid", acting_user=None)
    api = token_client(bookkeeper)
    url = "/api/v1/clients/OAK/statement/send/"
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = api.post(url, {"start": "2026-01-01", "end": "2026-12-31"}, format="json")
    assert response.status_code == 202, response.json()
    # Delivered once the request's transaction committed.
    assert Message.objects.get(pk=response.json()["id"]).status == MessageStatus.SENT
    assert "Credit in your favour on Dec 31, 2026: 87.00 CAD." in smtp.received[0].text()
    response = api.post(url, {"start": "2026-12-31", "end": "2026-01-01"}, format="json")
    assert response.status_code == 400 and "end" in response.json()["errors"]
    assert Message.objects.count() == 1


def test_a_viewer_cannot_send_a_statement(viewer, oak, smtp):
    response = token_client(viewer).post(
        "/api/v1/clients/OAK/statement/send/",
        {"start": "2026-01-01", "end": "2026-12-31"},
        format="json",
    )
    assert response.status_code == 403
    assert not Message.objects.exists()
