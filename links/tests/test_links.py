"""Document links (SPEC: Client portal and document links): random tokens of 256 bits stored
only as their SHA-256, one live link per document and recipient, expiry, revocation, and the
views the business sees."""

import datetime
import hashlib
import math

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.errors import InvalidTransition
from links import services
from links.documents import TOKEN_SHAPE, Statement, hash_token
from links.models import REPLACED, DocumentLink, DocumentView, LinkKind
from links.selectors import links_of, open_link
from links.tests.helpers import link_for, sent_quote
from otb.operations import InvalidInput, NotPermitted
from quotes import services as quotes
from tests.factories import ClientFactory, issued, line

pytestmark = pytest.mark.django_db

NOON = datetime.datetime(2026, 3, 2, 17, tzinfo=datetime.UTC)


@pytest.fixture
def quote(business, bookkeeper):
    return sent_quote(user=bookkeeper)


def test_a_token_has_256_random_bits_in_url_safe_characters(quote, bookkeeper):
    tokens = [link_for(quote, f"person{n}@example.com", bookkeeper)[1] for n in range(50)]

    assert len(set(tokens)) == 50
    for token in tokens:
        assert TOKEN_SHAPE.fullmatch(token)
        # 43 characters of a 64-letter alphabet: 258 bits written, 256 of them random.
        assert len(token) * math.log2(64) >= 256
    assert set("".join(tokens)) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    )
    # Fifty tokens use most of the alphabet: not a counter nor a hex string.
    assert len(set("".join(tokens))) > 60


def test_only_the_hash_of_the_token_is_stored(quote, bookkeeper):
    link, token = link_for(quote, user=bookkeeper)

    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    stored = [str(value) for row in DocumentLink.objects.values() for value in row.values()]
    assert not any(token in value for value in stored)
    assert open_link(token, kind=LinkKind.QUOTE) == link


def test_the_recipient_is_one_address_in_lower_case(quote, bookkeeper):
    link, _token = link_for(quote, "  Ann@Maple.Example.COM ", bookkeeper)
    assert link.recipient == "ann@maple.example.com"
    with pytest.raises(InvalidInput, match="Recipient: “not an address” is not a valid"):
        link_for(quote, "not an address", bookkeeper)


def test_a_link_expires_after_the_settings_days(quote, bookkeeper, business):
    business.document_link_days = 10
    business.save()
    with time_machine.travel(NOON, tick=False):
        link, token = link_for(quote, user=bookkeeper)
    assert link.expires_at == NOON + datetime.timedelta(days=10)

    with time_machine.travel(NOON + datetime.timedelta(days=10, seconds=-1), tick=False):
        assert open_link(token, kind=LinkKind.QUOTE) == link
    with time_machine.travel(NOON + datetime.timedelta(days=10), tick=False):
        assert open_link(token, kind=LinkKind.QUOTE) is None
        assert DocumentLink.objects.get().is_expired


def test_a_revoked_link_opens_nothing_and_says_who_revoked_it(quote, bookkeeper):
    link, token = link_for(quote, user=bookkeeper)

    services.revoke_link(link=link, acting_user=bookkeeper, reason="Sent to the wrong person")

    link.refresh_from_db()
    assert open_link(token, kind=LinkKind.QUOTE) is None
    assert link.revoked_by == bookkeeper and link.revoked_at is not None
    assert link.revoke_reason == "Sent to the wrong person"
    with pytest.raises(InvalidTransition, match="was already revoked on"):
        services.revoke_link(link=link, acting_user=bookkeeper)


def test_a_new_link_for_the_same_recipient_replaces_the_old_one(quote, bookkeeper):
    first, first_token = link_for(quote, "ann@maple.example.com", bookkeeper)
    other, other_token = link_for(quote, "bob@maple.example.com", bookkeeper)

    second, second_token = link_for(quote, "ANN@maple.example.com", bookkeeper)

    first.refresh_from_db()
    assert first.revoked_at is not None and first.revoke_reason == REPLACED
    assert open_link(first_token, kind=LinkKind.QUOTE) is None
    assert open_link(second_token, kind=LinkKind.QUOTE) == second
    assert open_link(other_token, kind=LinkKind.QUOTE) == other  # another recipient's stays
    assert list(links_of(quote)) == [second, other, first]


def test_the_database_keeps_one_live_link_per_document_and_recipient(quote, bookkeeper):
    link, _token = link_for(quote, user=bookkeeper)
    copy = DocumentLink.objects.values().get(pk=link.pk)
    copy.pop("id")
    copy["token_hash"] = hash_token("another")
    with pytest.raises(IntegrityError), transaction.atomic():
        DocumentLink.objects.create(**copy)


def test_the_database_refuses_a_link_without_the_document_of_its_kind(quote, bookkeeper):
    link, _token = link_for(quote, user=bookkeeper)
    with pytest.raises(IntegrityError), transaction.atomic():
        DocumentLink.objects.filter(pk=link.pk).update(kind=LinkKind.INVOICE)
    with pytest.raises(IntegrityError), transaction.atomic():
        DocumentLink.objects.filter(pk=link.pk).update(quote=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        DocumentLink.objects.filter(pk=link.pk).update(revoked_at=timezone.now())


def test_a_token_opens_only_its_kind_of_document(business, bookkeeper):
    invoice = issued(client=ClientFactory(), lines=[line()])
    link, token = services.issue_link(
        document=invoice, recipient="ann@example.com", acting_user=bookkeeper
    )
    assert link.kind == LinkKind.INVOICE and link.invoice == invoice
    assert link.client == invoice.client
    assert open_link(token, kind=LinkKind.QUOTE) is None
    assert open_link(token, kind=LinkKind.INVOICE) == link


def test_malformed_tokens_are_not_looked_up(quote, bookkeeper):
    link, token = link_for(quote, user=bookkeeper)
    for garbage in ("", "x", token + "A", token[:-1], token.upper(), "../" + token, None, 12):
        assert open_link(garbage, kind=LinkKind.QUOTE) is None


def test_a_statement_link_names_its_client_and_dates(business, bookkeeper):
    client = ClientFactory()
    statement = Statement(client, datetime.date(2026, 1, 1), datetime.date(2026, 3, 31))
    link, token = services.issue_link(
        document=statement, recipient="ann@example.com", acting_user=bookkeeper
    )
    assert (link.kind, link.client, link.statement_start, link.statement_end) == (
        LinkKind.STATEMENT,
        client,
        statement.start,
        statement.end,
    )
    assert list(links_of(statement)) == [link]
    assert open_link(token, kind=LinkKind.STATEMENT) == link


def test_a_draft_gets_no_link(business, bookkeeper):
    draft = quotes.create_quote(client=ClientFactory(), acting_user=bookkeeper, lines=[line()])
    with pytest.raises(InvalidTransition, match="A draft is never shown through a link"):
        link_for(draft, user=bookkeeper)


def test_a_viewer_can_neither_issue_nor_revoke_a_link(quote, bookkeeper, viewer):
    with pytest.raises(NotPermitted):
        link_for(quote, user=viewer)
    link, _token = link_for(quote, user=bookkeeper)
    with pytest.raises(NotPermitted):
        services.revoke_link(link=link, acting_user=viewer)


def test_each_view_is_recorded_with_the_first_and_last_time(quote, bookkeeper):
    link, _token = link_for(quote, user=bookkeeper)
    with time_machine.travel(NOON, tick=False):
        services.record_view(link=link, ip_address="203.0.113.9", user_agent="Firefox")
    later = NOON + datetime.timedelta(hours=3)
    with time_machine.travel(later, tick=False):
        services.record_view(link=link, ip_address=None, user_agent="x" * 900)

    link.refresh_from_db()
    assert (link.view_count, link.first_viewed_at, link.last_viewed_at) == (2, NOON, later)
    first, second = DocumentView.objects.order_by("viewed_at")
    assert (first.ip_address, first.user_agent) == ("203.0.113.9", "Firefox")
    assert second.ip_address is None and len(second.user_agent) == 500


def test_the_back_office_lists_links_read_only_without_their_hash(
    client, administrator, quote, bookkeeper
):
    link, _token = link_for(quote, user=bookkeeper)
    client.force_login(administrator)

    listing = client.get("/admin/links/documentlink/")
    detail = client.get(f"/admin/links/documentlink/{link.pk}/change/")

    assert listing.status_code == 200 and "ann@maple.example.com" in listing.text
    assert detail.status_code == 200 and "ann@maple.example.com" in detail.text
    assert link.token_hash not in detail.text and "Save" not in detail.text
    assert client.get("/admin/links/documentlink/add/").status_code == 403
