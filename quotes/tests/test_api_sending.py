"""E-mailing a quote through the REST API (SPEC: Quotes; Client portal and document links):
POST /api/v1/quotes/{ref}/send/, its links at /api/v1/quotes/{ref}/links/ and their revoking,
against a real SMTP server on localhost, through the same operations as the office pages."""

import pytest

from api.serializers import DocumentLinkSerializer
from links.models import DocumentLink
from links.tests.helpers import LINK, expired_quote, sent_quote, token_of
from outbox.models import MASKED_LINK, Message, MessageStatus
from quotes import services
from quotes.models import Answer, Channel, QuoteStatus
from settings_app.selectors import get_business_settings
from tests.api import refused, token_client
from tests.factories import line

# Transactional, as in production: the delivery runs when the request's operation commits.
pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/v1/quotes/"
# What a link shows (never its token nor the token's hash, which the tests check apart).
LINK_FIELDS = set(DocumentLinkSerializer.Meta.fields)


@pytest.fixture(autouse=True)
def _rows(migration_rows):
    pass


@pytest.fixture
def api(bookkeeper):
    return token_client(bookkeeper)


@pytest.fixture
def quote(maple, bookkeeper):
    return sent_quote(client=maple, user=bookkeeper)


def send(api, ref, **body):
    return api.post(f"{URL}{ref}/send/", body, format="json")


def links(api, ref):
    response = api.get(f"{URL}{ref}/links/")
    assert response.status_code == 200, response.content
    return response.json()


def revoke(api, ref, link_id, **body):
    return api.post(f"{URL}{ref}/links/{link_id}/revoke/", body, format="json")


def link_in(received) -> str:
    return LINK.search(received.text()).group(0)


# --- Sending --------------------------------------------------------------------------------
def test_the_client_gets_a_link_that_opens_the_quote_until_it_is_revoked(
    api, bookkeeper, quote, smtp, client
):
    response = send(api, quote.number)

    assert response.status_code == 202, response.json()
    [answer] = response.json()
    assert answer["status"] == MessageStatus.SENT
    assert (answer["kind"], answer["quote"], answer["invoice"]) == ("quote", quote.number, None)
    assert answer["to"] == "ann@maple.example.com"
    assert answer["subject"] == f"Quote {quote.number} from My Business"
    assert [attempt["outcome"] for attempt in answer["attempts"]] == ["sent"]
    [received] = smtp.received
    assert received.rcpt_tos == ["ann@maple.example.com"]
    [(name, _pdf)] = received.attachments()
    assert name == f"{quote.number}.pdf"
    link = link_in(received)
    assert link.startswith("http://testserver/q/")
    # The outbox keeps the text with the link masked, and the API shows nothing else.
    assert MASKED_LINK in answer["body"] and link not in response.text

    [listed] = links(api, quote.number)
    assert set(listed) == LINK_FIELDS
    assert (listed["recipient"], listed["live"], listed["view_count"]) == (
        "ann@maple.example.com",
        True,
        0,
    )
    assert listed["first_viewed_at"] is None and listed["revoked_at"] is None

    page = client.get(link)
    assert page.status_code == 200
    assert quote.number in page.text and "Kitchen cabinets" in page.text

    listing = api.get(f"{URL}{quote.number}/links/")
    [viewed] = listing.json()
    assert viewed["view_count"] == 1
    assert viewed["first_viewed_at"] and viewed["last_viewed_at"]
    link_row = DocumentLink.objects.get()
    assert token_of(link) not in listing.text and link_row.token_hash not in listing.text

    revoked = revoke(api, quote.number, viewed["id"], reason="Sent to the wrong person")
    assert revoked.status_code == 200, revoked.json()
    assert revoked.json()["live"] is False and revoked.json()["revoked_at"]
    assert revoked.json()["revoke_reason"] == "Sent to the wrong person"
    assert client.get(link).status_code == 404
    assert links(api, quote.number)[0]["live"] is False
    link_row.refresh_from_db()
    assert link_row.revoked_by == bookkeeper

    again = revoke(api, quote.number, viewed["id"])
    assert "already revoked" in refused(again, 409, "__all__")


def test_a_draft_is_marked_sent_and_each_to_address_gets_its_own_link(api, maple, smtp, client):
    draft = services.create_quote(client=maple, acting_user=None, lines=[line()])

    response = send(
        api,
        draft.pk,
        to="ann@maple.example.com, bob@maple.example.com",
        subject="Our quote {quote_number}",
        body="Hello {contact_person}, here it is: {link}",
    )

    assert response.status_code == 202, response.json()
    draft.refresh_from_db()
    assert (draft.status, draft.number) == (QuoteStatus.SENT, "Q-0001")
    answers = response.json()
    assert [m["to"] for m in answers] == ["ann@maple.example.com", "bob@maple.example.com"]
    assert {(m["subject"], m["quote"]) for m in answers} == {("Our quote Q-0001", "Q-0001")}
    assert len(smtp.received) == 2
    assert all(r.text().startswith("Hello Ann Smith, here it is: http") for r in smtp.received)
    sent_links = [link_in(received) for received in smtp.received]
    assert len(set(sent_links)) == 2
    assert all(client.get(link).status_code == 200 for link in sent_links)
    assert sorted(link["recipient"] for link in links(api, "Q-0001")) == [
        "ann@maple.example.com",
        "bob@maple.example.com",
    ]


def test_sending_again_replaces_the_recipients_link(api, quote, smtp, client):
    assert send(api, quote.number).status_code == 202
    assert send(api, quote.number).status_code == 202

    first, second = (link_in(received) for received in smtp.received)
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200
    newer, older = links(api, quote.number)  # newest first
    assert (newer["live"], older["live"]) == (True, False)
    assert older["revoke_reason"] == "replaced" and newer["view_count"] == 1


# --- Refusals -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"to": "not-an-address"}, "to"),
        ({"to": ""}, "to"),
        ({"cc": "a@example.com\r\nBcc: victim@example.com"}, "cc"),
        ({"subject": "Your quote {link}"}, "subject"),
        ({"subject": "Quote {total_due}"}, "subject"),
        ({"body": "{nope}"}, "body"),
        ({"subject": ["a list"]}, "subject"),
    ],
)
def test_bad_input_is_refused_naming_the_field(api, quote, smtp, fields, field):
    refused(send(api, quote.number, **fields), 400, field)

    assert smtp.received == [] and not Message.objects.exists()
    assert not DocumentLink.objects.exists()


def test_a_draft_refused_keeps_no_number(api, maple, smtp):
    draft = services.create_quote(client=maple, acting_user=None, lines=[line()])

    refused(send(api, draft.pk, to="nobody"), 400, "to")

    draft.refresh_from_db()
    assert draft.status == QuoteStatus.DRAFT and draft.number is None


def test_nothing_is_sent_without_smtp_settings(api, quote):
    assert not get_business_settings().smtp_configured

    assert "E-mail is not set up" in refused(send(api, quote.number), 400, "__all__")
    assert not Message.objects.exists()


def test_a_withdrawn_expired_or_answered_quote_is_not_sent(api, quote, maple, bookkeeper, smtp):
    services.withdraw_quote(quote=quote, acting_user=bookkeeper)
    assert "was withdrawn" in refused(send(api, quote.number), 409, "__all__")

    old = expired_quote(client=maple, user=bookkeeper)
    assert "expired on" in refused(send(api, old.number), 409, "__all__")

    accepted = sent_quote(client=maple, user=bookkeeper)
    services.record_answer(
        quote=accepted,
        acting_user=bookkeeper,
        answer=Answer.ACCEPTED,
        name="Ann Smith",
        channel=Channel.PHONE,
    )
    assert "was accepted" in refused(send(api, accepted.number), 409, "__all__")
    assert smtp.received == [] and not Message.objects.exists()


def test_an_unknown_quote_or_link_is_not_found(api, quote, maple, bookkeeper, smtp):
    assert send(api, "Q-9999").status_code == 404
    assert api.get(f"{URL}Q-9999/links/").status_code == 404
    assert send(api, quote.number).status_code == 202
    link = DocumentLink.objects.get()
    other = sent_quote(client=maple, user=bookkeeper)

    for ref, link_id in [(other.number, link.pk), (quote.number, "x"), (quote.number, 10**30)]:
        response = revoke(api, ref, link_id)
        assert response.status_code == 404, response.content
        assert response.json()["code"] == "not_found"
    link.refresh_from_db()
    assert link.revoked_at is None
    assert links(api, other.number) == []


def test_a_viewer_reads_the_links_but_neither_sends_nor_revokes(viewer, api, quote, smtp):
    assert send(api, quote.number).status_code == 202
    link = DocumentLink.objects.get()
    viewer_api = token_client(viewer)

    assert send(viewer_api, quote.number).status_code == 403
    assert revoke(viewer_api, quote.number, link.pk).status_code == 403
    assert [listed["id"] for listed in links(viewer_api, quote.number)] == [link.pk]
    assert len(smtp.received) == 1 and Message.objects.count() == 1
    link.refresh_from_db()
    assert link.revoked_at is None
