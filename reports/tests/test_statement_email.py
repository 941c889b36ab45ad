"""E-mail a statement (issue 16, item 23): from the statement page and the API, through
the outbox, with the same PDF as the download."""

import datetime
import re

import pytest
from django.test import TestCase
from django.urls import reverse

from billing import services
from links.documents import Statement
from links.models import REPLACED, DocumentLink, LinkKind
from links.selectors import links_of, open_link
from outbox.models import MASKED_LINK, Message, MessageKind, MessageStatus
from reports.statements import send_statement
from tests.api import token_client
from tests.factories import ClientFactory, issued
from tests.pdf import pdf_text

STATEMENT_LINK = re.compile(r"http://testserver/s/([A-Za-z0-9_-]{43})/")

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
    [answer] = response.json()
    assert Message.objects.get(pk=answer["id"]).status == MessageStatus.SENT
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


def token_in(received) -> str:
    return STATEMENT_LINK.search(received.text()).group(1)


def test_each_recipient_gets_its_own_link_to_the_statement_of_those_dates(
    client, bookkeeper, oak, smtp
):
    with TestCase.captureOnCommitCallbacks(execute=True):
        sent = send_statement(
            client=oak,
            start=START,
            end=END,
            acting_user=bookkeeper,
            cc="boss@oak.example.com, AP@oak.example.com",
            base_url="http://testserver/",
        )

    assert [m.to_addresses for m in sent] == ["ap@oak.example.com", "boss@oak.example.com"]
    assert all(MASKED_LINK in m.body and not m.secret_link for m in Message.objects.all())
    tokens = {received.rcpt_tos[0]: token_in(received) for received in smtp.received}
    assert len(set(tokens.values())) == 2
    for address, token in tokens.items():
        link = open_link(token, kind=LinkKind.STATEMENT)
        assert (link.client_id, link.statement_start, link.statement_end) == (oak.pk, START, END)
        assert link.recipient == address
        assert open_link(token, kind=LinkKind.INVOICE) is None
    assert links_of(Statement(oak, START, END)).count() == 2
    text = smtp.received[0].text().replace("\r\n", "\n")
    assert "as the books stand when you open it:\nhttp://testserver/s/" in text


def test_sending_the_statement_again_replaces_the_recipients_link(bookkeeper, oak, smtp):
    for _time in range(2):
        with TestCase.captureOnCommitCallbacks(execute=True):
            send_statement(
                client=oak, start=START, end=END, acting_user=bookkeeper, base_url="http://x/"
            )

    old, new = DocumentLink.objects.order_by("pk")
    assert old.revoke_reason == REPLACED and new.revoked_at is None


def test_the_statement_page_and_the_api_send_the_link_on_the_sites_address(
    client, bookkeeper, oak, smtp
):
    client.force_login(bookkeeper)
    data = {"client": "OAK", "start": "2026-01-01", "end": "2026-12-31"}
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(reverse("reports:statement_send"), data)
        token_client(bookkeeper).post(
            "/api/v1/clients/OAK/statement/send/",
            {"start": "2026-01-01", "end": "2026-12-31"},
            format="json",
        )

    first, second = (token_in(received) for received in smtp.received)
    assert open_link(first, kind=LinkKind.STATEMENT) is None  # replaced by the second
    assert open_link(second, kind=LinkKind.STATEMENT).client_id == oak.pk


def test_two_recipients_from_the_page_go_to_the_outbox_list(client, bookkeeper, oak, smtp):
    client.force_login(bookkeeper)
    data = {
        "client": "OAK",
        "start": "2026-01-01",
        "end": "2026-12-31",
        "to": "ap@oak.example.com, boss@oak.example.com",
    }
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(reverse("reports:statement_send"), data)

    assert response["Location"] == reverse("outbox:list")
    assert Message.objects.count() == 2 and len(smtp.received) == 2
