"""Sending a quote by e-mail (SPEC: Quotes; Client portal and document links), through a real
SMTP server on localhost: each recipient's own link in the e-mail, the link masked in the
outbox and its token nowhere in the database, replaced on resend; the office's send page and
revoke button; the business told when the client answers."""

import hashlib

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.urls import reverse

from audit.models import AuditRecord
from billing.errors import InvalidTransition
from links.models import REPLACED, DocumentLink
from links.tests.helpers import LINK, expired_quote, link_for, page_url, sent_quote, token_of
from otb.operations import InvalidInput, NotPermitted
from outbox.models import MASKED_LINK, Message, MessageKind, MessageStatus
from quotes import sending, services
from quotes.models import QuoteStatus
from tests.factories import line
from tests.mail import free_port, point_settings_at
from tests.pdf import pdf_text

pytestmark = pytest.mark.django_db

BASE = "http://testserver/"


@pytest.fixture
def quote(maple, bookkeeper):
    return sent_quote(client=maple, user=bookkeeper)


@pytest.fixture
def send(django_capture_on_commit_callbacks, bookkeeper):
    """Send a quote as the bookkeeper would, delivered when the transaction commits."""

    def send(quote, **fields):
        arguments = {**sending.quote_message_defaults(quote), "base_url": BASE, **fields}
        with django_capture_on_commit_callbacks(execute=True):
            messages = sending.send_quote(quote=quote, acting_user=bookkeeper, **arguments)
        for message in messages:
            message.refresh_from_db()
        return messages

    return send


def link_in(received) -> str:
    return LINK.search(received.text()).group(0)


def rows_of(*tables) -> str:
    """Every value of every row of ``tables``, as the database holds it (encrypted fields
    encrypted), in one string."""
    with connection.cursor() as cursor:
        found = []
        for table in tables:
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            found += [str(value) for row in cursor.fetchall() for value in row]
    return "\n".join(found)


STORED_TABLES = (
    "links_documentlink",
    "outbox_message",
    "outbox_deliveryattempt",
    "audit_auditrecord",
)


def test_the_client_gets_the_pdf_and_a_link_that_opens_the_quote(smtp, send, quote, client):
    [message] = send(quote)

    assert message.status == MessageStatus.SENT
    assert (message.kind, message.quote) == (MessageKind.QUOTE, quote)
    [received] = smtp.received
    assert received.rcpt_tos == ["ann@maple.example.com"]
    assert received.message["Subject"] == f"Quote {quote.number} from My Business"
    text = received.text()
    assert "Dear Ann Smith," in text and "1,243.00 CAD" in text  # 1,100.00 and 13 % HST
    link = link_in(received)
    assert link.startswith(BASE + "q/")
    [(name, pdf)] = received.attachments()
    assert name == f"{quote.number}.pdf"
    assert quote.number in pdf_text(pdf) and "Kitchen cabinets" in pdf_text(pdf)
    assert message.attachment.sha256 == hashlib.sha256(pdf).hexdigest()

    page = client.get(link)
    assert page.status_code == 200
    assert quote.number in page.text and "Kitchen cabinets" in page.text


def test_the_outbox_keeps_the_message_with_the_link_masked(smtp, send, quote):
    [message] = send(quote)

    link = link_in(smtp.received[0])
    assert MASKED_LINK in message.body and link not in message.body
    assert message.secret_link == ""  # wiped once delivered
    assert token_of(link) not in rows_of(*STORED_TABLES)


def test_until_it_is_delivered_the_link_waits_encrypted(business, send, quote):
    point_settings_at(free_port())  # nothing listens there: the message is not delivered

    [message] = send(quote)

    assert message.status != MessageStatus.SENT
    assert message.secret_link.startswith(BASE + "q/")
    token = token_of(message.secret_link)
    assert MASKED_LINK in message.body and token not in message.body
    assert token not in rows_of(*STORED_TABLES)
    link = DocumentLink.objects.get()
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()


def test_sending_again_to_a_recipient_replaces_its_link(smtp, send, quote, client):
    send(quote)
    send(quote)

    first, second = (link_in(received) for received in smtp.received)
    assert first != second
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200
    old, new = DocumentLink.objects.order_by("pk")
    assert old.revoke_reason == REPLACED and new.revoked_at is None


def test_each_address_in_to_and_cc_gets_its_own_message_and_link(smtp, send, quote):
    """A copy of another's message would hand over that person's link: CC addresses are
    recipients of their own."""
    messages = send(
        quote,
        to="ann@maple.example.com, bob@maple.example.com, ANN@maple.example.com",
        cc="boss@maple.example.com, bob@MAPLE.example.com",
    )

    assert [m.to_addresses for m in messages] == [
        "ann@maple.example.com",
        "bob@maple.example.com",
        "boss@maple.example.com",
    ]
    assert sorted(sorted(r.rcpt_tos) for r in smtp.received) == [
        ["ann@maple.example.com"],
        ["bob@maple.example.com"],
        ["boss@maple.example.com"],
    ]
    assert all(r.message["Cc"] is None for r in smtp.received)
    links = {link_in(received) for received in smtp.received}
    assert len(links) == 3
    assert sorted(DocumentLink.objects.values_list("recipient", flat=True)) == [
        "ann@maple.example.com",
        "bob@maple.example.com",
        "boss@maple.example.com",
    ]


def test_a_text_without_the_link_placeholder_gets_the_link_at_its_end(smtp, send, quote):
    send(quote, body="Here is our quote.\n\nMy Business")

    text = smtp.received[0].text().replace("\r\n", "\n")
    assert text.startswith("Here is our quote.")
    assert "Read, accept or decline this quote here:\n" + link_in(smtp.received[0]) in text


def test_the_link_never_goes_in_the_subject(smtp, send, quote):
    with pytest.raises(InvalidInput, match="the link goes in the text") as refused:
        send(quote, subject="Your quote {link}")
    assert refused.value.field == "subject"
    assert not Message.objects.exists() and not DocumentLink.objects.exists()


def test_a_draft_is_numbered_when_it_is_sent(smtp, send, maple, bookkeeper):
    draft = services.create_quote(client=maple, acting_user=bookkeeper, lines=[line()])
    assert sending.quote_message_defaults(draft)["subject"] == (
        "Quote {quote_number} from {business_name}"
    )

    [message] = send(draft)

    draft.refresh_from_db()
    assert draft.status == QuoteStatus.SENT and draft.number == "Q-0001"
    assert smtp.received[0].message["Subject"] == "Quote Q-0001 from My Business"
    assert message.status == MessageStatus.SENT


def test_a_refused_message_leaves_a_draft_unnumbered(smtp, send, maple, bookkeeper):
    draft = services.create_quote(client=maple, acting_user=bookkeeper, lines=[line()])

    with pytest.raises(InvalidInput, match="is not a valid e-mail address"):
        send(draft, to="not an address")

    draft.refresh_from_db()
    assert draft.status == QuoteStatus.DRAFT and draft.number is None


def test_a_withdrawn_or_expired_quote_is_not_sent(smtp, send, quote, bookkeeper, maple):
    services.withdraw_quote(quote=quote, acting_user=bookkeeper)
    with pytest.raises(InvalidTransition, match="was withdrawn; it cannot be sent"):
        send(quote)
    old = expired_quote(client=maple, user=bookkeeper)
    with pytest.raises(InvalidTransition, match="expired on"):
        send(old)
    assert not smtp.received


def test_the_site_address_setting_wins_over_the_requests(smtp, send, quote, settings):
    settings.OTB_BASE_URL = "https://billing.northwind.example.com"

    send(quote, base_url="http://10.0.0.5:8000/")

    assert link_in(smtp.received[0]).startswith("https://billing.northwind.example.com/q/")


def test_without_a_site_address_nothing_is_sent(smtp, send, quote):
    with pytest.raises(InvalidInput, match="set OTB_BASE_URL"):
        send(quote, base_url="")
    assert not Message.objects.exists()


def test_a_viewer_cannot_send(smtp, quote, viewer):
    with pytest.raises(NotPermitted):
        sending.send_quote(
            quote=quote, acting_user=viewer, to="a@example.com", subject="Hi", body="{link}"
        )


# --- The office pages ---------------------------------------------------------------------
def test_the_send_page_offers_the_settings_templates_filled_in(client, bookkeeper, quote):
    client.force_login(bookkeeper)

    page = client.get(reverse("quote_sending:send", args=[quote.pk]))

    assert page.status_code == 200
    form = page.context["form"]
    assert form["to"].value() == "ann@maple.example.com"
    assert form["subject"].value() == f"Quote {quote.number} from My Business"
    assert "{link}" in form["body"].value() and "Dear Ann Smith" in form["body"].value()


def test_the_send_page_sends_and_goes_back_to_the_quote(
    client, bookkeeper, quote, smtp, django_capture_on_commit_callbacks
):
    client.force_login(bookkeeper)
    fields = sending.quote_message_defaults(quote)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("quote_sending:send", args=[quote.pk]), fields)

    assert response.status_code == 302 and response.url == quote.get_absolute_url()
    [received] = smtp.received
    assert link_in(received).startswith("http://testserver/q/")


def test_the_send_page_shows_a_refusal_on_its_field(client, bookkeeper, quote, smtp):
    client.force_login(bookkeeper)
    fields = {**sending.quote_message_defaults(quote), "subject": "Quote {total_due}"}

    page = client.post(reverse("quote_sending:send", args=[quote.pk]), fields)

    assert page.status_code == 200
    assert page.context["form"].errors["subject"] == ["Subject: unknown placeholder {total_due}."]


def test_a_viewer_gets_no_send_page(client, viewer, quote):
    client.force_login(viewer)
    assert client.get(reverse("quote_sending:send", args=[quote.pk])).status_code == 403


def test_a_link_is_revoked_from_the_quote_page(client, bookkeeper, quote, smtp, send):
    send(quote)
    link = DocumentLink.objects.get()
    client.force_login(bookkeeper)

    # The one revoke of every kind of document (links/views.py), back to the quote's page.
    response = client.post(reverse("links:revoke", args=[link.pk]))

    assert response.status_code == 302 and response.url == quote.get_absolute_url()
    link.refresh_from_db()
    assert link.revoked_by == bookkeeper
    client.logout()
    assert client.get(link_in(smtp.received[0])).status_code == 404


def test_the_panel_lists_the_links_views_and_messages(rf, bookkeeper, quote, smtp, send, client):
    send(quote)
    client.get(link_in(smtp.received[0]))
    request = rf.get("/")
    request.user = bookkeeper

    html = render_to_string("quotes/_sending.html", {"quote": quote}, request=request)

    assert "ann@maple.example.com" in html
    assert reverse("quote_sending:send", args=[quote.pk]) in html
    link = DocumentLink.objects.get()
    assert reverse("links:revoke", args=[link.pk]) in html
    assert f"{reverse('quote_sending:send', args=[quote.pk])}?to=ann%40maple.example.com" in html
    assert '<td class="amount">1</td>' in html  # one view
    assert ">live<" in html  # the link opens the quote
    assert Message.objects.get().get_absolute_url() in html


def test_the_quote_page_shows_who_was_sent_a_link_and_whether_they_opened_it(
    client, bookkeeper, quote, smtp, send
):
    send(quote, to="ann@maple.example.com, bob@maple.example.com")
    client.get(link_in(smtp.received[0]))
    client.force_login(bookkeeper)

    page = client.get(quote.get_absolute_url())

    assert page.status_code == 200
    html = page.text
    assert "E-mail and links" in html
    assert "ann@maple.example.com" in html and "bob@maple.example.com" in html
    assert html.count('class="document-link') == 2
    assert "not yet" in html  # Bob has not opened his


# --- The business told ----------------------------------------------------------------------
def test_the_business_is_told_by_e_mail_when_the_client_accepts(
    client, quote, smtp, send, django_capture_on_commit_callbacks
):
    send(quote)
    link = link_in(smtp.received[0])
    page = client.get(link)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            link,
            {
                "name": "Ann Smith",
                "agreed": "on",
                "version": page.context["version"],
                "answer": "accept",
            },
            REMOTE_ADDR="198.51.100.7",
        )

    told = Message.objects.get(kind=MessageKind.QUOTE_ANSWER)
    assert told.status == MessageStatus.SENT and told.quote == quote
    received = smtp.received[-1]
    assert received.rcpt_tos == ["office@northwind.example.com"]
    assert received.message["Subject"] == f"Quote {quote.number} accepted by Maple Leaf Property"
    assert "Ann Smith accepted quote" in received.text()
    assert "198.51.100.7" in received.text()
    [(_name, pdf)] = received.attachments()
    quote.answer.refresh_from_db()
    assert hashlib.sha256(pdf).hexdigest() == quote.answer.pdf_sha256
    assert quote.answer.pdf_sha256 in received.text()


def test_the_business_is_told_the_reason_of_a_decline(
    client, quote, smtp, send, django_capture_on_commit_callbacks
):
    send(quote)
    link = link_in(smtp.received[0])
    page = client.get(link)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            link,
            {
                "name": "Ann Smith",
                "reason": "Too dear for us this year.",
                "version": page.context["version"],
                "answer": "decline",
            },
        )

    received = smtp.received[-1]
    assert received.message["Subject"] == f"Quote {quote.number} declined by Maple Leaf Property"
    assert "Reason: Too dear for us this year." in received.text()
    assert received.attachments() == []


def test_nobody_is_told_when_the_business_has_no_address(client, quote, business, bookkeeper):
    business.smtp_host, business.smtp_from_email, business.email = "127.0.0.1", "b@x.ca", ""
    business.save()
    _link, token = link_for(quote, user=bookkeeper)
    page = client.get(page_url(token))
    client.post(
        page_url(token),
        {"name": "Ann", "agreed": "on", "version": page.context["version"], "answer": "accept"},
    )

    quote.refresh_from_db()
    assert quote.status == QuoteStatus.ACCEPTED
    assert not Message.objects.filter(kind=MessageKind.QUOTE_ANSWER).exists()
    assert AuditRecord.objects.filter(object_type="quotes.quoteanswer").exists()
