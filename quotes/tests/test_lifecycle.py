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
    second = services.create_quote(
        client=quote.client, acting_user=bookkeeper, lines=[line()]
    )
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
