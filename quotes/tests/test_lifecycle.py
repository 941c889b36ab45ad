"""The quote lifecycle (SPEC: Quotes): drafts, numbering at the first send, changes while
sent, withdrawal, answers and conversion; every refusal with its message."""

import datetime
from decimal import Decimal

import pytest
import time_machine

from billing.errors import InvalidTransition
from billing.models import Invoice, InvoiceStatus
from otb.operations import InvalidInput
from quotes import services
from quotes.models import Answer, Channel, QuoteChange, QuoteStatus
from quotes.rules import shown_state
from tests.factories import ClientFactory, line, quebec_client

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def quote(business, bookkeeper):
    return services.create_quote(
        client=ClientFactory(),
        acting_user=bookkeeper,
        lines=[line("10", "85.00", description="Kitchen cabinets"), line("1", "250.00")],
        discount_kind="percent",
        discount_value=D("10"),
    )


def test_a_draft_has_figures_from_the_money_function_and_no_number(quote):
    # 850.00 + 250.00 = 1,100.00; less 10 % = 990.00; HST 13 % = 128.70; total 1,118.70.
    assert (quote.subtotal, quote.discount_total, quote.tax_total, quote.total) == (
        D("1100.00"),
        D("110.00"),
        D("128.70"),
        D("1118.70"),
    )
    assert quote.number is None and quote.status == QuoteStatus.DRAFT
    assert [t.label for t in quote.taxes.all()] == ["HST"]
    assert quote.terms  # the settings' quote terms


def test_the_first_send_numbers_it_and_a_second_send_does_not(quote, bookkeeper, business):
    sent = services.mark_sent(quote=quote, acting_user=bookkeeper)
    assert sent.number == "Q-0001" and sent.status == QuoteStatus.SENT
    assert sent.valid_until == sent.issue_date + datetime.timedelta(days=30)
    again = services.mark_sent(quote=quote, acting_user=bookkeeper)
    assert again.number == "Q-0001"
    second = services.create_quote(client=quote.client, acting_user=bookkeeper, lines=[line()])
    assert services.mark_sent(quote=second, acting_user=bookkeeper).number == "Q-0002"


def test_a_change_to_a_sent_quote_is_recorded(quote, bookkeeper):
    services.mark_sent(quote=quote, acting_user=bookkeeper)
    changed = services.update_quote(
        quote=quote, acting_user=bookkeeper, lines=[line("2", "100.00")]
    )
    assert changed.total == D("203.40")  # 200 less 10 % = 180, HST 23.40
    (change,) = QuoteChange.objects.filter(quote=quote)
    assert set(change.changes) >= {"lines", "total"}


def test_expired_is_derived_in_the_business_time_zone(quote, bookkeeper):
    with time_machine.travel(datetime.datetime(2026, 3, 1, 12, tzinfo=datetime.UTC), tick=False):
        sent = services.mark_sent(quote=quote, acting_user=bookkeeper)
    assert sent.valid_until == datetime.date(2026, 3, 31)
    assert shown_state(sent, today=datetime.date(2026, 3, 31)) == "sent"
    assert shown_state(sent, today=datetime.date(2026, 4, 1)) == "expired"


def test_accepted_quote_never_changes(quote, bookkeeper):
    services.mark_sent(quote=quote, acting_user=bookkeeper)
    answer = services.record_answer(
        quote=quote, acting_user=bookkeeper, answer=Answer.ACCEPTED, name="Ann", channel="phone"
    )
    assert answer.channel == Channel.PHONE and len(answer.pdf_sha256) == 64
    with pytest.raises(InvalidTransition, match="was accepted and never changes"):
        services.update_quote(quote=quote, acting_user=bookkeeper, notes="x")


def test_conversion_makes_one_draft_with_the_quote_snapshot(business, bookkeeper):
    client = quebec_client()
    quote = services.create_quote(
        client=client,
        acting_user=bookkeeper,
        lines=[line("1", "100.00"), line("1", "50.00", taxes=["GST"])],
    )
    services.mark_sent(quote=quote, acting_user=bookkeeper)
    invoice = services.convert_quote(quote=quote, acting_user=bookkeeper)
    assert invoice.status == InvoiceStatus.DRAFT
    assert invoice.total == quote.total
    assert [t.label for t in invoice.taxes.all()] == ["GST", "QST"]
    assert services.convert_quote(quote=quote, acting_user=bookkeeper) == invoice
    assert Invoice.objects.count() == 1
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.ACCEPTED and quote.invoice == invoice
    assert quote.answer.channel == Channel.CONVERSION


def test_a_draft_cannot_be_answered_or_converted(quote, bookkeeper):
    with pytest.raises(InvalidTransition, match="draft"):
        services.convert_quote(quote=quote, acting_user=bookkeeper)
    with pytest.raises(InvalidInput, match="Name"):
        services.record_answer(
            quote=quote, acting_user=bookkeeper, answer="accepted", name=" ", channel="phone"
        )


# --- Every transition's refusal, with its message ------------------------------------------
@pytest.fixture
def sent(quote, bookkeeper):
    return services.mark_sent(quote=quote, acting_user=bookkeeper)


def _answer(quote, user, answer=Answer.ACCEPTED, channel="email"):
    return services.record_answer(
        quote=quote, acting_user=user, answer=answer, name="Ann Client", channel=channel
    )


def test_a_draft_refuses_withdrawal_and_a_quote_without_an_amount_is_not_sent(quote, bookkeeper):
    with pytest.raises(InvalidTransition, match="draft: delete it instead"):
        services.withdraw_quote(quote=quote, acting_user=bookkeeper)
    empty = services.create_quote(client=quote.client, acting_user=bookkeeper)
    with pytest.raises(InvalidTransition, match="Add a line with an amount"):
        services.mark_sent(quote=empty, acting_user=bookkeeper)
    empty.refresh_from_db()
    assert empty.number is None
    with pytest.raises(InvalidInput, match="Valid until: cannot be before the quote date"):
        services.mark_sent(
            quote=quote,
            acting_user=bookkeeper,
            issue_date="2026-05-10",
            valid_until="2026-05-09",
        )
    quote.refresh_from_db()
    assert quote.number is None and quote.status == QuoteStatus.DRAFT
    services.delete_quote(quote=quote, acting_user=bookkeeper)


def test_a_sent_quote_keeps_its_client_currency_and_number(sent, bookkeeper):
    with pytest.raises(InvalidInput, match="keeps its client") as info:
        services.update_quote(quote=sent, acting_user=bookkeeper, client=ClientFactory())
    assert info.value.field == "client"
    with pytest.raises(InvalidInput, match="was sent in CAD and keeps it"):
        services.update_quote(quote=sent, acting_user=bookkeeper, currency="USD")
    with pytest.raises(InvalidInput, match="keeps at least one line"):
        services.update_quote(quote=sent, acting_user=bookkeeper, lines=[])
    with pytest.raises(InvalidTransition, match="has been sent and keeps its number"):
        services.delete_quote(quote=sent, acting_user=bookkeeper)
    assert not QuoteChange.objects.exists()


def test_withdrawn_and_declined_quotes_are_closed(sent, bookkeeper):
    declined = services.duplicate_quote(quote=sent, acting_user=bookkeeper)
    services.mark_sent(quote=declined, acting_user=bookkeeper)
    _answer(declined, bookkeeper, Answer.DECLINED)
    withdrawn = services.withdraw_quote(quote=sent, acting_user=bookkeeper, reason="Priced wrong")
    assert withdrawn.status == QuoteStatus.WITHDRAWN and withdrawn.withdraw_reason
    for closed, word in ((withdrawn, "withdrawn"), (declined, "declined")):
        with pytest.raises(InvalidTransition, match=f"was {word} and is closed"):
            services.update_quote(quote=closed, acting_user=bookkeeper, notes="again")
        with pytest.raises(InvalidTransition, match=f"was {word}"):
            services.convert_quote(quote=closed, acting_user=bookkeeper)
        with pytest.raises(InvalidTransition, match=f"was (already )?{word}"):
            _answer(closed, bookkeeper)
        with pytest.raises(InvalidTransition, match=f"was {word}"):
            services.mark_sent(quote=closed, acting_user=bookkeeper)
    with pytest.raises(InvalidTransition, match="was withdrawn"):
        services.withdraw_quote(quote=withdrawn, acting_user=bookkeeper)
    # Offered again: a new draft with the same lines.
    again = services.duplicate_quote(quote=declined, acting_user=bookkeeper)
    assert again.is_draft and again.total == declined.total


def test_an_accepted_quote_refuses_every_change_but_its_conversion(sent, bookkeeper):
    _answer(sent, bookkeeper)
    with pytest.raises(InvalidTransition, match="already accepted"):
        _answer(sent, bookkeeper, Answer.DECLINED)
    with pytest.raises(InvalidTransition, match="accepted and never changes"):
        services.withdraw_quote(quote=sent, acting_user=bookkeeper)
    with pytest.raises(InvalidTransition, match="keeps its number"):
        services.delete_quote(quote=sent, acting_user=bookkeeper)
    invoice = services.convert_quote(quote=sent, acting_user=bookkeeper)
    assert invoice.lines.count() == 2
    sent.refresh_from_db()
    assert sent.answer.channel == Channel.EMAIL  # the conversion added no second answer


def test_staff_answers_name_a_channel_and_the_user(sent, bookkeeper):
    with pytest.raises(InvalidInput, match="Channel: choose how the client answered"):
        _answer(sent, bookkeeper, channel="link")
    with pytest.raises(InvalidInput, match="Answer: choose accepted or declined"):
        _answer(sent, bookkeeper, answer="maybe")
    answer = _answer(sent, bookkeeper, channel="in_person")
    assert (answer.recorded_by, answer.name, answer.after_expiry) == (
        bookkeeper,
        "Ann Client",
        False,
    )


def test_the_pdf_accepted_is_archived_and_hashes_to_its_recorded_sha256(sent, bookkeeper):
    import hashlib

    answer = _answer(sent, bookkeeper)
    content = bytes(answer.document.content)
    assert content.startswith(b"%PDF")
    assert hashlib.sha256(content).hexdigest() == answer.pdf_sha256 == answer.document.sha256


def test_a_viewer_changes_nothing(sent, viewer):
    from otb.operations import NotPermitted

    with pytest.raises(NotPermitted):
        services.update_quote(quote=sent, acting_user=viewer, notes="x")
    with pytest.raises(NotPermitted):
        _answer(sent, viewer)
    with pytest.raises(NotPermitted):
        services.convert_quote(quote=sent, acting_user=viewer)


# --- The client's answer through its link (the operations; the pages are test_links) -------
def _shown_key(quote):
    from quotes.document import load_quote, quote_data, version_key

    return version_key(quote_data(load_quote(pk=quote.pk)))


def _accept(quote, key, **kwargs):
    values = {"name": "Ann Client", "agreed": True, "ip_address": "203.0.113.9"}
    return services.accept_by_link(
        quote=quote, shown_key=key, user_agent="Firefox", **(values | kwargs)
    )


def test_the_client_accepts_the_version_it_read(sent):
    key = _shown_key(sent)
    with pytest.raises(InvalidInput, match="tick the box") as info:
        _accept(sent, key, agreed=False)
    assert info.value.field == "agreed"
    with pytest.raises(InvalidInput, match="Name: type the name"):
        _accept(sent, key, name="   ")
    answer = _accept(sent, key)
    assert (answer.channel, answer.recorded_by, answer.ip_address, answer.user_agent) == (
        Channel.LINK,
        None,
        "203.0.113.9",
        "Firefox",
    )
    sent.refresh_from_db()
    assert sent.status == QuoteStatus.ACCEPTED


def test_a_version_changed_since_it_was_read_is_not_accepted(sent, bookkeeper):
    key = _shown_key(sent)
    services.update_quote(quote=sent, acting_user=bookkeeper, lines=[line("1", "999.00")])
    with pytest.raises(services.QuoteChanged, match="has changed since you opened it"):
        _accept(sent, key)
    sent.refresh_from_db()
    assert sent.status == QuoteStatus.SENT
    assert _accept(sent, _shown_key(sent)).answer == Answer.ACCEPTED


def test_the_client_declines_with_a_reason(sent):
    answer = services.decline_by_link(
        quote=sent,
        shown_key=_shown_key(sent),
        name="Ann Client",
        reason="Too dear",
        ip_address=None,
        user_agent="",
    )
    assert (answer.answer, answer.reason, answer.document) == (Answer.DECLINED, "Too dear", None)


# --- Expiry, in the business's time zone (America/Toronto) ----------------------------------
def _at(utc_hour, day):
    return time_machine.travel(datetime.datetime(2026, 3, day, utc_hour, tzinfo=datetime.UTC))


def test_the_client_cannot_accept_an_expired_quote_but_staff_can(quote, bookkeeper):
    with _at(15, 1):
        sent = services.mark_sent(quote=quote, acting_user=bookkeeper)
        key = _shown_key(sent)
    assert sent.valid_until == datetime.date(2026, 3, 31)
    # 1 April 03:00 UTC is still 31 March, 23:00 in Toronto: valid.
    with time_machine.travel(datetime.datetime(2026, 4, 1, 3, tzinfo=datetime.UTC)):
        assert shown_state(sent, today=_business_today()) == "sent"
    with time_machine.travel(datetime.datetime(2026, 4, 1, 5, tzinfo=datetime.UTC)):
        assert shown_state(sent, today=_business_today()) == "expired"
        with pytest.raises(InvalidTransition, match="expired on .* can no longer be accepted"):
            _accept(sent, _shown_key(sent))
        answer = _answer(sent, bookkeeper)
    assert answer.after_expiry is True
    assert key  # the version read before expiry is irrelevant: expiry refuses first


def _business_today():
    from settings_app.selectors import business_today

    return business_today()


def test_converting_an_expired_quote_records_the_override(quote, bookkeeper):
    with _at(15, 1):
        sent = services.mark_sent(quote=quote, acting_user=bookkeeper)
    with time_machine.travel(datetime.datetime(2026, 5, 1, 12, tzinfo=datetime.UTC)):
        invoice = services.convert_quote(quote=sent, acting_user=bookkeeper)
    sent.refresh_from_db()
    assert sent.invoice == invoice and sent.status == QuoteStatus.ACCEPTED
    assert (sent.answer.channel, sent.answer.after_expiry, sent.answer.recorded_by) == (
        Channel.CONVERSION,
        True,
        bookkeeper,
    )


def test_the_state_shown_in_queries_is_the_state_the_rule_derives(quote, bookkeeper):
    """``quotes.selectors.with_shown_state`` (SQL, for lists, the API and the report) and
    ``quotes.rules.shown_state`` agree on every status, the day before, of and after
    "valid until"."""
    from quotes.models import Quote
    from quotes.selectors import with_shown_state

    sent = services.mark_sent(
        quote=quote, acting_user=bookkeeper, issue_date="2026-03-01", valid_until="2026-03-31"
    )
    others = []
    for answer in (Answer.ACCEPTED, Answer.DECLINED, None, "withdraw"):
        other = services.duplicate_quote(quote=sent, acting_user=bookkeeper)
        services.mark_sent(
            quote=other, acting_user=bookkeeper, issue_date="2026-03-01", valid_until="2026-03-31"
        )
        if answer == "withdraw":
            services.withdraw_quote(quote=other, acting_user=bookkeeper)
        elif answer:
            _answer(other, bookkeeper, answer)
        others.append(other)
    services.duplicate_quote(quote=sent, acting_user=bookkeeper)  # a draft
    for day in (30, 31, 32):
        today = datetime.date(2026, 3, 1) + datetime.timedelta(days=day - 1)
        shown = with_shown_state(Quote.objects.all(), today=today)
        assert {q.pk: q.shown_state for q in shown} == {
            q.pk: shown_state(q, today=today) for q in Quote.objects.all()
        }
    assert {q.shown_state for q in with_shown_state(Quote.objects.all(), today=today)} == {
        "draft",
        "expired",
        "accepted",
        "declined",
        "withdrawn",
    }
