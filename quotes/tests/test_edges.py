"""Edges a review of the quotes found: a link's token in Django's own log, a conversion
that took a service's taxes as they stand now, a converted draft deleted, a quote date
with no "valid until" after it, a link revoked while its page was open."""

import logging
from decimal import Decimal

import pytest
from django.test import Client

from billing.errors import InvalidTransition
from billing.models import Service
from billing.services import delete_draft
from links.services import revoke_link
from links.tests.helpers import link_for, page_url, pdf_url, sent_quote
from otb.operations import InvalidInput
from quotes import services
from quotes.models import QuoteStatus
from tests.factories import line, quebec_client

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def quote(business, bookkeeper):
    return sent_quote(user=bookkeeper)


def test_a_scanner_s_head_and_a_refused_method_log_no_token(client, quote, caplog):
    _link, token = link_for(quote)
    with caplog.at_level(logging.INFO):
        assert client.head(page_url(token)).status_code == 200
        assert client.head(pdf_url(token)).status_code == 200
        assert client.put(page_url(token)).status_code == 405
        assert client.delete(pdf_url(token)).status_code == 405
    assert "Method Not Allowed" in caplog.text
    assert "/q/[token]/" in caplog.text and token not in caplog.text
    # A HEAD is no view.
    assert _link.views.count() == 0


def test_a_refused_csrf_logs_no_token(quote, caplog):
    _link, token = link_for(quote)
    strict = Client(enforce_csrf_checks=True)
    with caplog.at_level(logging.INFO):
        assert strict.post(page_url(token), {"answer": "accept"}).status_code == 403
    assert token not in caplog.text


def test_a_conversion_keeps_the_quote_s_taxes_when_the_service_changed(business, bookkeeper):
    """A line of a service that carried every tax keeps them on the invoice, though the
    service now names GST only: the accepted figures never change."""
    from settings_app.models import Tax

    client = quebec_client()
    service = Service.objects.create(code="CAB", name="Cabinets", unit_price=D("100"))
    quote = services.create_quote(
        client=client, acting_user=bookkeeper, lines=[line("1", "100.00", service=service)]
    )
    assert quote.total == D("114.98")  # GST 5.00 + QST 9.98
    services.mark_sent(quote=quote, acting_user=bookkeeper)
    service.taxes.set([Tax.objects.get(label="GST")])

    invoice = services.convert_quote(quote=quote, acting_user=bookkeeper)

    assert invoice.total == D("114.98")
    assert [(t.label, t.amount) for t in invoice.taxes.all()] == [
        ("GST", D("5.00")),
        ("QST", D("9.98")),
    ]


def test_the_draft_a_quote_became_is_not_deleted_but_says_why(client, quote, bookkeeper):
    invoice = services.convert_quote(quote=quote, acting_user=bookkeeper)
    with pytest.raises(InvalidTransition, match=f"made from quote {quote.number}"):
        delete_draft(invoice=invoice, acting_user=bookkeeper)
    client.force_login(bookkeeper)
    page = client.post(f"/invoices/id/{invoice.pk}/delete/", follow=True)
    assert page.status_code == 200 and f"made from quote {quote.number}" in page.text
    quote.refresh_from_db()
    assert quote.invoice == invoice


def test_a_quote_date_in_the_last_days_of_9999_is_refused_by_field(business, bookkeeper):
    draft = services.create_quote(
        client=quebec_client(), acting_user=bookkeeper, lines=[line("1", "10.00")]
    )
    with pytest.raises(InvalidInput, match="Quote date: .* check the year") as info:
        services.mark_sent(quote=draft, acting_user=bookkeeper, issue_date="9999-12-25")
    assert info.value.field == "issue_date"
    draft.refresh_from_db()
    assert draft.status == QuoteStatus.DRAFT and draft.number is None


def test_a_link_revoked_while_its_page_was_open_answers_nothing(client, quote, bookkeeper):
    link, token = link_for(quote)
    version = client.get(page_url(token)).context["version"]
    revoke_link(link=link, acting_user=bookkeeper)
    answer = client.post(
        page_url(token),
        {"version": version, "name": "Ann", "agreed": "on", "answer": "accept"},
    )
    assert answer.status_code == 404
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SENT


def test_the_operation_checks_the_link_under_the_quote_s_lock(quote, bookkeeper):
    from billing.errors import NotFound
    from quotes.document import load_quote, quote_data, version_key

    link, _token = link_for(quote)
    revoke_link(link=link, acting_user=bookkeeper)
    with pytest.raises(NotFound, match="no longer opens the quote"):
        services.decline_by_link(
            quote=quote,
            shown_key=version_key(quote_data(load_quote(pk=quote.pk))),
            name="Ann",
            reason="",
            ip_address=None,
            user_agent="",
            link_id=link.pk,
        )
