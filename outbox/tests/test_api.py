"""E-mail through the REST API: POST /api/v1/invoices/{ref}/send/ and the outbox at
/api/v1/messages/, against a real SMTP server on localhost."""

import hashlib

import pytest

from billing.models import Invoice
from links.models import DocumentLink
from outbox import services
from outbox.models import MASKED_LINK, Message, MessageStatus
from tests.api import token_client
from tests.factories import ClientFactory, draft, issued
from tests.mail import free_port, point_settings_at
from tests.pdf import pdf_text

# Transactional, as in production: the delivery runs when the request's operation commits.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _rows(migration_rows):
    pass


@pytest.fixture
def api(bookkeeper):
    return token_client(bookkeeper)


@pytest.fixture
def invoice(business):
    return issued(client=ClientFactory(name="Birchwood Dental", email="office@birch.example.com"))


def send(api, ref, **body):
    return api.post(f"/api/v1/invoices/{ref}/send/", body, format="json")


def test_an_invoice_is_sent_with_the_settings_templates_by_default(api, business, invoice, smtp):
    response = send(api, invoice.number)

    assert response.status_code == 202, response.json()
    [answer] = response.json()
    assert answer["status"] == MessageStatus.SENT
    assert answer["invoice"] == invoice.number
    assert answer["to"] == "office@birch.example.com"
    assert answer["subject"] == f"Invoice {invoice.number} from {business.business_name}"
    assert [attempt["outcome"] for attempt in answer["attempts"]] == ["sent"]
    [received] = smtp.received
    [(name, content)] = received.attachments()
    assert name == f"{invoice.number}.pdf" and invoice.number in pdf_text(content)
    assert answer["attachment_sha256"] == hashlib.sha256(content).hexdigest()


def test_the_fields_given_replace_the_defaults(api, invoice, smtp):
    response = send(
        api,
        invoice.number,
        to="a@example.com, b@example.com",
        cc="c@example.com",
        subject="Your invoice {invoice_number}",
        body="Total {total}.",
    )

    assert response.status_code == 202
    assert [answer["to"] for answer in response.json()] == [
        "a@example.com",
        "b@example.com",
        "c@example.com",
    ]
    assert sorted(received.rcpt_tos for received in smtp.received) == [
        ["a@example.com"],
        ["b@example.com"],
        ["c@example.com"],
    ]
    for received in smtp.received:
        assert received.message["Subject"] == f"Your invoice {invoice.number}"
        assert received.text().replace("\r\n", "\n").startswith("Total 113.00 CAD.\n\n")
        assert "You can also read this invoice here:" in received.text()


def test_a_draft_is_sent_only_when_issue_draft_is_true(api, business, smtp):
    invoice = draft(client=ClientFactory(email="a@example.com"))

    refused = send(api, invoice.pk)
    assert refused.status_code == 400
    assert "issue_draft" in refused.json()["errors"]
    assert smtp.received == [] and Message.objects.count() == 0

    response = send(api, invoice.pk, issue_draft=True)
    assert response.status_code == 202
    invoice.refresh_from_db()
    assert invoice.number == "INV-0001"
    assert response.json()[0]["subject"] == f"Invoice INV-0001 from {business.business_name}"
    assert len(smtp.received) == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("to", "not-an-address"),
        ("to", ""),
        ("cc", "a@example.com\r\nBcc: victim@example.com"),
        ("bcc", "ok@example.com, @nope"),
        ("subject", "Invoice\r\nBcc: victim@example.com"),
        ("subject", "Invoice {invoce_number}"),
    ],
)
def test_bad_input_is_refused_naming_the_field(api, invoice, smtp, field, value):
    response = send(api, invoice.number, **{field: value})

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and field in body["errors"], body
    assert smtp.received == [] and Message.objects.count() == 0


def test_a_viewer_may_not_send_but_may_read_the_outbox(viewer, invoice, smtp):
    viewer_api = token_client(viewer)

    assert send(viewer_api, invoice.number).status_code == 403
    assert viewer_api.get("/api/v1/messages/").status_code == 200
    assert Message.objects.count() == 0


def test_an_unknown_invoice_is_not_found(api, business, smtp):
    assert send(api, "INV-9999").status_code == 404


def test_a_failure_is_answered_and_listed_as_needing_attention(api, invoice, smtp):
    # A username for a server that offers no login: the user must change the settings.
    point_settings_at(smtp.port, smtp_username="billing", smtp_password="secret")

    response = send(api, invoice.number)

    assert response.status_code == 202
    [answer] = response.json()
    assert answer["status"] == MessageStatus.FAILED and answer["needs_attention"]
    assert answer["failure_kind"] == "tls"  # a login offered on a server without it
    assert answer["problem"]
    listed = api.get("/api/v1/messages/?needs_attention=true").json()
    assert [message["id"] for message in listed["results"]] == [answer["id"]]
    assert api.get(f"/api/v1/messages/?invoice={invoice.number}").json()["count"] == 1
    assert api.get("/api/v1/messages/?needs_attention=maybe").status_code == 400
    assert api.get(f"/api/v1/messages/{answer['id']}/").json()["problem"] == answer["problem"]


def test_the_same_idempotency_key_sends_once(api, invoice, smtp):
    first = api.post(
        f"/api/v1/invoices/{invoice.number}/send/", {}, format="json", HTTP_IDEMPOTENCY_KEY="s-1"
    )
    again = api.post(
        f"/api/v1/invoices/{invoice.number}/send/", {}, format="json", HTTP_IDEMPOTENCY_KEY="s-1"
    )

    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert [answer["to"] for answer in first.json()] == ["office@birch.example.com"]
    assert Message.objects.count() == 1 and len(smtp.received) == 1
    assert Invoice.objects.count() == 1


def test_a_send_to_two_people_replayed_with_its_key_makes_no_new_message_or_link(
    api, invoice, smtp
):
    fields = {"to": "a@example.com", "cc": "b@example.com"}
    first = send_with_key(api, invoice.number, "s-two", **fields)
    links = list(DocumentLink.objects.order_by("pk").values_list("pk", "revoked_at"))
    again = send_with_key(api, invoice.number, "s-two", **fields)

    assert first.status_code == again.status_code == 202, first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert [answer["to"] for answer in again.json()] == ["a@example.com", "b@example.com"]
    assert again.json() == first.json()
    assert Message.objects.count() == 2 and len(smtp.received) == 2
    assert list(DocumentLink.objects.order_by("pk").values_list("pk", "revoked_at")) == links
    assert [link.recipient for link in DocumentLink.objects.order_by("pk")] == [
        "a@example.com",
        "b@example.com",
    ]
    for received in smtp.received:
        assert "http://testserver/i/" in received.text()
        assert MASKED_LINK not in received.text()


def send_with_key(api, ref, key, **body):
    return api.post(f"/api/v1/invoices/{ref}/send/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_with_an_idempotency_key_the_answer_and_its_replay_say_the_message_was_sent(
    api, invoice, smtp
):
    first = send_with_key(api, invoice.number, "s-sent")
    again = send_with_key(api, invoice.number, "s-sent")

    [answer] = first.json()
    assert first.status_code == 202, answer
    assert (answer["status"], answer["attempt_count"]) == (MessageStatus.SENT, 1)
    assert [attempt["outcome"] for attempt in answer["attempts"]] == ["sent"]
    assert again.status_code == 202 and again["Idempotent-Replayed"] == "true"
    assert again.json() == [answer]
    assert len(smtp.received) == 1


def test_a_replay_tells_the_messages_state_now_not_when_it_was_first_answered(
    api, invoice, smtp, bookkeeper
):
    point_settings_at(free_port())  # nothing listens there: the first attempt fails
    first = send_with_key(api, invoice.number, "s-retried")
    assert first.status_code == 202, first.json()
    assert first.json()[0]["status"] == MessageStatus.FAILED, first.json()
    replay = send_with_key(api, invoice.number, "s-retried")
    assert replay.status_code == 202 and replay["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()

    point_settings_at(smtp.port)
    services.retry_message(message=Message.objects.get(), acting_user=bookkeeper)
    again = send_with_key(api, invoice.number, "s-retried")

    [answer] = again.json()
    assert again.status_code == 202 and again["Idempotent-Replayed"] == "true"
    assert answer["id"] == first.json()[0]["id"]
    assert (answer["status"], answer["attempt_count"]) == (MessageStatus.SENT, 2)
    assert not answer["needs_attention"]
    assert [attempt["outcome"] for attempt in answer["attempts"]] == ["failed", "sent"]
    assert Message.objects.count() == 1 and len(smtp.received) == 1
