"""A quote's own link (SPEC: Quotes; Client portal and document links): the client's page
without a login, the same answer for every link that opens nothing, no other quote
reachable, CSRF, the version shown, expiry, and what an answer records."""

import datetime
import hashlib
import logging

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from links.models import DocumentLink, DocumentView
from links.services import issue_link, revoke_link
from links.tests.helpers import link_for, page_url, pdf_url, sent_quote
from quotes import services
from quotes.models import Answer, Channel, QuoteStatus
from tests.factories import ClientFactory, issued, line
from tests.pdf import pdf_text

pytestmark = pytest.mark.django_db

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


@pytest.fixture
def quote(business, bookkeeper):
    return sent_quote(user=bookkeeper)


@pytest.fixture
def token(quote, bookkeeper):
    return link_for(quote, user=bookkeeper)[1]


def answer(client, token, *, version=None, meta=None, **fields):
    """Post an answer with the version the page showed (unless told another); ``meta``:
    the request's headers and address."""
    if version is None:
        version = client.get(page_url(token)).context["version"]
    return client.post(page_url(token), {"version": version, **fields}, follow=True, **(meta or {}))


def accept(client, token, name="Ann Smith", **extra):
    return answer(client, token, name=name, agreed="on", answer="accept", **extra)


# --- The page -----------------------------------------------------------------------------
def test_the_page_shows_the_quote_its_terms_and_the_answer_form(client, quote, token):
    page = client.get(page_url(token))

    assert page.status_code == 200
    text = page.text
    assert quote.number in text and "Kitchen cabinets" in text and "1,243.00" in text
    assert "Work starts once the quote is accepted." in text  # the settings' quote terms
    assert text.index("Work starts once") < text.index('name="answer" value="accept"')
    assert 'name="agreed"' in text and 'name="name"' in text and 'name="reason"' in text
    assert 'name="answer" value="decline"' in text
    assert f'name="version" value="{page.context["version"]}"' in text
    assert pdf_url(token) in text
    assert '<meta name="robots" content="noindex, nofollow">' in text
    assert page["Referrer-Policy"] == "no-referrer"
    assert "noindex" in page["X-Robots-Tag"]
    assert "no-store" in page["Cache-Control"]
    assert "Log out" not in text  # no office menu


def test_the_page_says_what_to_do_and_where(client, quote, token):
    text = client.get(page_url(token)).text

    # The badge in the client's words; the document itself (what is accepted) keeps its own.
    assert 'status-sent">Awaiting your answer</span>' in text
    assert 'Read the quote below, then <a href="#answer">accept or decline it' in text
    assert 'id="answer"' in text and 'action="#answer"' in text  # a refusal lands at the form
    assert f'href="{pdf_url(token)}" download="{quote.number}.pdf"' in text
    assert "Your answer was not recorded" not in text


def test_every_opening_is_recorded_as_a_view(client, quote, token):
    client.get(page_url(token), REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT=FIREFOX)
    client.get(pdf_url(token), REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT=FIREFOX)

    link = quote.links.get()
    assert link.view_count == 2 and link.first_viewed_at and link.last_viewed_at
    assert [(v.ip_address, v.user_agent) for v in DocumentView.objects.all()] == [
        ("203.0.113.9", FIREFOX),
        ("203.0.113.9", FIREFOX),
    ]


def test_the_pdf_is_the_quotes(client, quote, token):
    response = client.get(pdf_url(token))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Referrer-Policy"] == "no-referrer"
    text = pdf_text(response.content)
    assert quote.number in text and "Kitchen cabinets" in text and "1,243.00" in text


# --- Links that open nothing --------------------------------------------------------------
def test_every_link_that_opens_nothing_gets_the_same_answer(client, quote, bookkeeper, caplog):
    _link, expired = link_for(quote, "old@maple.example.com", bookkeeper)
    revoked_link, revoked = link_for(quote, "gone@maple.example.com", bookkeeper)
    revoke_link(link=revoked_link, acting_user=bookkeeper)
    _link, replaced = link_for(quote, "ann@maple.example.com", bookkeeper)
    link_for(quote, "ann@maple.example.com", bookkeeper)
    invoice = issued(client=ClientFactory(), lines=[line()])
    _link, of_an_invoice = issue_link(
        document=invoice, recipient="ann@example.com", acting_user=bookkeeper
    )
    unknown = "A" * 43
    garbage = ["x", "%00", "A" * 500, "..", "%2e%2e", "<script>"]
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=91)

    answers = []
    with caplog.at_level(logging.DEBUG):
        for token in [replaced, revoked, of_an_invoice, unknown, *garbage]:
            for url in (page_url(token), pdf_url(token)):
                answers.append((token, client.get(url)))
            answers.append((token, client.post(page_url(token), {"answer": "accept"})))
        with time_machine.travel(later):
            answers.append((expired, client.get(page_url(expired))))
            answers.append((expired, client.get(pdf_url(expired))))

    for url in ("/q/", f"/q/{replaced}/more/", f"/q/{replaced}/pdf/x", f"/q/{unknown}"):
        answers.append((replaced, client.get(url, follow=True)))

    first = answers[0][1]
    assert first.status_code == 404 and "This link does not open anything" in first.text
    for _token, response in answers:
        assert response.status_code == 404
        assert response.content == first.content
        assert response["Referrer-Policy"] == "no-referrer"
        assert response.get("Set-Cookie") is None
    for token, _response in answers:
        assert token not in caplog.text
    assert not DocumentView.objects.exists()


def test_a_link_opens_its_own_quote_and_no_other(client, quote, token, bookkeeper):
    other = sent_quote(
        client=ClientFactory(name="Birch Co", email="x@birch.example.com"),
        user=bookkeeper,
        description="Roof repair",
    )
    link_for(other, "x@birch.example.com", bookkeeper)

    page = client.get(page_url(token), {"quote": other.pk, "pk": other.pk, "id": other.pk})
    assert quote.number in page.text and other.number not in page.text
    assert "Roof repair" not in page.text
    assert other.number not in pdf_text(client.get(pdf_url(token)).content)
    version = client.get(page_url(token)).context["version"]
    client.post(
        page_url(token),
        {
            "name": "Ann",
            "agreed": "on",
            "version": version,
            "answer": "accept",
            "quote": other.pk,
        },
    )

    quote.refresh_from_db()
    other.refresh_from_db()
    assert quote.status == QuoteStatus.ACCEPTED
    assert other.status == QuoteStatus.SENT


def test_a_draft_is_never_shown(client, business, bookkeeper, quote, token):
    """No link is issued for a draft (links.tests.test_links); one written straight into
    the database still shows nothing."""
    draft = services.create_quote(client=ClientFactory(), acting_user=bookkeeper, lines=[line()])
    DocumentLink.objects.filter(quote=quote).update(quote=draft, client=draft.client)

    assert client.get(page_url(token)).status_code == 404
    assert client.get(pdf_url(token)).status_code == 404


# --- Answering ------------------------------------------------------------------------------
def test_an_answer_without_the_csrf_token_is_refused(quote, token, caplog):
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(page_url(token))
    fields = {
        "name": "Ann Smith",
        "agreed": "on",
        "version": page.context["version"],
        "answer": "accept",
    }

    with caplog.at_level(logging.DEBUG):
        refused = browser.post(page_url(token), fields)

    assert refused.status_code == 403
    assert "CSRF" in caplog.text and token not in caplog.text
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SENT
    # The same post with the page's token is taken: only the token was missing.
    token_field = page.context["csrf_token"]
    taken = browser.post(page_url(token), {**fields, "csrfmiddlewaretoken": token_field})
    assert taken.status_code == 303
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.ACCEPTED


def test_an_acceptance_records_who_when_where_and_the_pdf_accepted(client, quote, token):
    page = accept(client, token, meta={"REMOTE_ADDR": "198.51.100.7", "HTTP_USER_AGENT": FIREFOX})

    quote.refresh_from_db()
    assert quote.status == QuoteStatus.ACCEPTED
    answer = quote.answer
    assert (answer.answer, answer.channel, answer.name) == (
        Answer.ACCEPTED,
        Channel.LINK,
        "Ann Smith",
    )
    assert (answer.ip_address, answer.user_agent) == ("198.51.100.7", FIREFOX)
    assert answer.recorded_by is None and answer.answered_at is not None
    archived = bytes(answer.document.content)
    assert hashlib.sha256(archived).hexdigest() == answer.pdf_sha256
    assert quote.number in pdf_text(archived) and "1,243.00" in pdf_text(archived)
    # The page now shows the answer, and no form.
    assert page.redirect_chain[-1][1] == 303
    assert "Accepted by Ann Smith on" in page.text
    assert 'value="accept"' not in page.text
    # Its PDF is the exact document accepted.
    assert client.get(pdf_url(token)).content == archived


def test_a_decline_records_the_reason(client, quote, token):
    page = answer(
        client, token, name="Ann Smith", reason="We chose another firm.", answer="decline"
    )

    quote.refresh_from_db()
    assert quote.status == QuoteStatus.DECLINED
    assert (quote.answer.answer, quote.answer.reason) == (Answer.DECLINED, "We chose another firm.")
    assert quote.answer.pdf_sha256 == ""
    assert "Declined by Ann Smith on" in page.text and "We chose another firm." in page.text


def test_an_acceptance_needs_the_name_and_the_box_ticked(client, quote, token):
    no_box = answer(client, token, name="Ann Smith", answer="accept")
    assert no_box.context["form"].errors["agreed"] == [
        "I accept these terms: tick the box to accept the quote."
    ]
    no_name = answer(client, token, name="  ", agreed="on", answer="accept")
    assert no_name.context["form"].errors["name"] == [
        "Name: type the name of the person answering."
    ]
    assert "Your answer was not recorded: <a" in no_name.text  # "see below", to the form
    neither_button = answer(client, token, name="Ann", agreed="on")
    assert "Press Accept or Decline" in neither_button.text
    tampered = answer(client, token, name="Ann", agreed="on", answer="maybe")
    assert "Select a valid choice" in tampered.text
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SENT


def test_an_acceptance_of_a_version_that_changed_since_it_was_shown_is_refused(
    client, quote, token, bookkeeper
):
    shown = client.get(page_url(token)).context["version"]
    services.update_quote(quote=quote, acting_user=bookkeeper, lines=[line("12", "85.00")])

    refused = accept(client, token, version=shown)

    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SENT
    assert "has changed since you opened it" in refused.text
    # The page now shows the new version, which can be accepted.
    assert refused.context["version"] != shown
    assert "1,152.60" in refused.text  # 12 × 85.00 = 1,020.00 and 13 % HST
    accept(client, token, version=refused.context["version"])
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.ACCEPTED


def test_an_expired_quote_cannot_be_accepted_through_its_link(client, quote, token):
    # The day after "valid until", in the business's time zone (Toronto, UTC-5 in winter).
    after = datetime.datetime.combine(
        quote.valid_until + datetime.timedelta(days=1), datetime.time(5, 30), datetime.UTC
    )
    with time_machine.travel(after, tick=False):
        shown = client.get(page_url(token))
        assert "expired on" in shown.text and 'value="accept"' not in shown.text
        refused = accept(client, token, version=shown.context["version"])

    assert "can no longer be accepted here" in refused.text
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SENT


def test_the_last_day_in_the_business_time_zone_still_accepts(client, quote, token):
    # 04:30 UTC on the day after "valid until" is still that day in Toronto.
    late = datetime.datetime.combine(
        quote.valid_until + datetime.timedelta(days=1), datetime.time(4, 30), datetime.UTC
    )
    with time_machine.travel(late, tick=False):
        accept(client, token)
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.ACCEPTED


def test_a_withdrawn_quote_shows_as_withdrawn(client, quote, token, bookkeeper):
    services.withdraw_quote(quote=quote, acting_user=bookkeeper)

    page = client.get(page_url(token))

    assert page.status_code == 200
    assert "withdrew this quote" in page.text and 'value="accept"' not in page.text
    refused = accept(client, token, version=page.context["version"])
    assert "was withdrawn; it can no longer be answered" in refused.text


def test_an_answered_quote_cannot_be_answered_again(client, quote, token):
    version = client.get(page_url(token)).context["version"]
    accept(client, token, version=version)

    again = answer(client, token, version=version, name="Bob", reason="", answer="decline")

    assert "was already accepted" in again.text
    quote.refresh_from_db()
    assert quote.answer.name == "Ann Smith"


def test_the_office_page_is_not_reachable_through_the_link(client, quote, token):
    response = client.get(reverse("quotes:detail", args=[quote.pk]))
    assert response.status_code == 302 and "/login/" in response.url
