"""Quotes sent and converted at once from several OS processes against the real database
(SPEC: Quotes, Scale): Q numbers stay gapless and unique, and a quote converted by two
processes at once makes one invoice. On the Galera cluster of scripts/test_galera.sh each
process writes through its own node."""

import random

import pytest

from billing.models import Invoice, InvoiceNumberCounter
from quotes import services
from quotes.models import Channel, Quote, QuoteAnswer, QuoteStatus
from tests.factories import ClientFactory, line
from tests.processes import run_in_processes

PROCESSES = 4
QUOTES = 60
pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def counter(business, migration_rows):
    counter = InvoiceNumberCounter.objects.get(name=services.COUNTER_NAME)
    assert counter.last_number == 0
    return counter


def _draft(client):
    return services.create_quote(client=client, acting_user=None, lines=[line("2", "150.00")])


def _send_each(quote_pks):
    for pk in quote_pks:
        services.mark_sent(quote=Quote.objects.get(pk=pk), acting_user=None)
    return len(quote_pks)


def test_quotes_sent_at_once_from_several_processes_get_gapless_unique_numbers():
    clients = ClientFactory.create_batch(PROCESSES)
    pks = [_draft(clients[n % PROCESSES]).pk for n in range(QUOTES)]
    random.Random(19).shuffle(pks)
    # Each process sends some quotes twice: a second send numbers nothing.
    shares = [pks[n::PROCESSES] + pks[n::PROCESSES][:3] for n in range(PROCESSES)]

    counts = run_in_processes(_send_each, shares)

    assert sum(counts) == QUOTES + 3 * PROCESSES
    rows = list(Quote.objects.order_by("sequence").values_list("sequence", "number", "status"))
    assert [sequence for sequence, _, _ in rows] == list(range(1, QUOTES + 1))
    assert [number for _, number, _ in rows] == [f"Q-{n:04d}" for n in range(1, QUOTES + 1)]
    assert {status for _, _, status in rows} == {QuoteStatus.SENT}
    counter = InvoiceNumberCounter.objects.get(name=services.COUNTER_NAME)
    assert counter.last_number == QUOTES
    # The invoices' series is another row, untouched.
    assert InvoiceNumberCounter.objects.get(name="invoice").last_number == 0


def _convert(quote_pk):
    invoice = services.convert_quote(quote=Quote.objects.get(pk=quote_pk), acting_user=None)
    return invoice.pk


def test_a_quote_converted_by_several_processes_at_once_makes_one_invoice():
    quote = _draft(ClientFactory())
    services.mark_sent(quote=quote, acting_user=None)

    invoice_pks = run_in_processes(_convert, [quote.pk] * PROCESSES, timeout=180)

    assert len(set(invoice_pks)) == 1
    assert Invoice.objects.count() == 1
    quote.refresh_from_db()
    assert quote.invoice_id == invoice_pks[0] and quote.status == QuoteStatus.ACCEPTED
    # One acceptance, recorded by the conversion that won.
    answer = QuoteAnswer.objects.get(quote=quote)
    assert answer.channel == Channel.CONVERSION
