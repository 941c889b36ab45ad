"""The entry point's batch form, billing.accounting.post_in_bulk: history loaded in bulk gets
the entries ``post`` would write (kind, sign and memo from ledger.events.RULES), and the
balances move with them in one go."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing import accounting
from billing.accounting import BulkEvent
from billing.selectors import clients_breaking_invariant
from ledger import journal
from ledger.events import CREDIT, DEBIT, RULES, Event
from ledger.models import Account, LedgerEntry
from ledger.selectors import client_balance, stored_balance
from otb.fields import MAX_AMOUNT
from otb.operations import InvalidInput
from tests.factories import ClientFactory, issued

pytestmark = pytest.mark.django_db
D = Decimal
DAY = datetime.date(2026, 3, 2)
# Enough for every memo of the table.
VALUES = {
    "number": "INV-0042",
    "code": "C0099",
    "old": D("100.00"),
    "new": D("120.00"),
    "method": "Cheque",
    "reference": " 7781",
    "where": "INV-0042",
    "invoice": "INV-0042",
    "reason": "Returned by the bank",
}
POSTING_EVENTS = [event for event in Event if RULES[event].entry_kind is not None]


def signed(event: str, amount: str) -> Decimal:
    """``amount`` with the sign the event's rule asks for (either way: as given)."""
    return -D(amount) if RULES[event].sign == DEBIT else D(amount)


def bulk(client, event, amount, **fields) -> BulkEvent:
    return BulkEvent(
        event=event,
        client_id=client.pk,
        amount=amount,
        currency=client.default_currency,
        date=fields.pop("date", DAY),
        **fields,
    )


@pytest.mark.parametrize("event", POSTING_EVENTS)
def test_an_event_in_bulk_posts_the_entry_post_writes(event, business):
    """Same event, same values: the same kind, amount, date and memo as the one path."""
    memo = "Prepaid retainer" if RULES[event].manual else None
    amount = signed(event, "25.00")
    one, many = ClientFactory(), ClientFactory()
    accounting.post(
        event, client=one, amount=amount, date=DAY, memo=memo, values=VALUES, acting_user=None
    )
    assert accounting.post_in_bulk([bulk(many, event, amount, memo=memo, values=VALUES)]) == 1

    def written(client):
        return list(
            LedgerEntry.objects.filter(client=client).values_list("kind", "amount", "date", "memo")
        )

    assert written(many) == written(one)
    assert written(many)[0][0] == RULES[event].entry_kind


def test_an_event_of_the_wrong_sign_is_refused_and_nothing_is_written(business):
    client = ClientFactory()
    good = bulk(client, Event.MANUAL_CREDIT, D("10.00"), memo="Prepaid")
    wrong = bulk(client, Event.PAYMENT_CONFIRMED, D("-5.00"), values=VALUES, invoice_id=None)
    with pytest.raises(
        ValueError, match="payment_confirmed: an amount of -5.00 has the wrong sign"
    ):
        accounting.post_in_bulk([good, wrong])
    assert not LedgerEntry.objects.exists()
    assert not Account.objects.exists()


def test_events_that_post_no_entry_are_checked_and_skipped(business):
    """Client credit applied posts nothing, as with ``post``; its sign is checked all the
    same, and a change that leaves the total as it was posts nothing either."""
    client = ClientFactory()
    written = accounting.post_in_bulk(
        [
            bulk(client, Event.CREDIT_APPLIED, D("30.00")),
            bulk(client, Event.INVOICE_CHANGED, D("0.00"), values=VALUES),
            bulk(client, Event.MANUAL_DEBIT, D("-4.00"), memo="Fee"),
        ]
    )
    assert written == 1
    assert list(LedgerEntry.objects.values_list("memo", flat=True)) == ["Fee"]
    with pytest.raises(ValueError, match="wrong sign"):
        accounting.post_in_bulk([bulk(client, Event.CREDIT_APPLIED, D("-30.00"))])


def test_the_balances_move_by_the_sum_of_the_entries(business):
    """An account that exists (from a live event) moves by its entries' sum; one that does
    not is opened with it; the ledger invariant holds for every client."""
    busy, new = ClientFactory(), ClientFactory()
    invoice = issued(client=busy)  # 113.00 owed, posted by the one path
    accounting.post_in_bulk(
        [
            bulk(busy, Event.MANUAL_CREDIT, D("50.00"), memo="Goodwill"),
            bulk(new, Event.MANUAL_DEBIT, D("-20.00"), memo="Fee"),
            bulk(busy, Event.MANUAL_DEBIT, D("-7.50"), memo="Fee"),
            bulk(new, Event.MANUAL_CREDIT, D("5.00"), memo="Refund of the fee, in part"),
        ]
    )
    assert stored_balance(busy) == client_balance(busy) == -invoice.total + D("42.50")
    assert stored_balance(new) == client_balance(new) == D("-15.00")
    assert clients_breaking_invariant() == []


def test_an_entry_is_recorded_when_the_source_says(business):
    client = ClientFactory()
    then = datetime.datetime(2024, 5, 6, 14, 1, tzinfo=datetime.UTC)
    accounting.post_in_bulk(
        [
            bulk(client, Event.MANUAL_CREDIT, D("1.00"), memo="Old", recorded_at=then),
            bulk(client, Event.MANUAL_CREDIT, D("2.00"), memo="Now"),
        ]
    )
    recorded = dict(LedgerEntry.objects.values_list("memo", "created_at"))
    assert recorded["Old"] == then
    assert recorded["Now"] > then


def test_a_balance_beyond_the_books_is_refused_and_nothing_is_written(business):
    client = ClientFactory()
    near_the_top = [
        bulk(client, Event.MANUAL_CREDIT, MAX_AMOUNT - D("1.00"), memo="Large"),
        bulk(client, Event.MANUAL_CREDIT, D("2.00"), memo="Over"),
    ]
    with pytest.raises(InvalidInput, match=f"client #{client.pk} beyond the largest amount"):
        accounting.post_in_bulk(near_the_top)
    assert not LedgerEntry.objects.exists()
    assert not Account.objects.exists()


def test_an_account_opened_meanwhile_is_moved_not_opened_twice(business, monkeypatch):
    """Another transaction's first entry may open the account after the load found none:
    the load then moves that account instead of failing on the unique constraint."""
    client = ClientFactory()
    insert_entries = journal._insert_entries

    def with_an_account_opened_meanwhile(postings):
        insert_entries(postings)
        Account.objects.create(client=client, currency="CAD", balance=D("-10.00"))

    monkeypatch.setattr(journal, "_insert_entries", with_an_account_opened_meanwhile)
    accounting.post_in_bulk([bulk(client, Event.MANUAL_CREDIT, D("25.00"), memo="Credit")])
    assert list(Account.objects.values_list("balance", flat=True)) == [D("15.00")]


def test_the_queries_do_not_grow_with_the_events(business):
    clients = [ClientFactory() for _ in range(3)]

    def queries_to_load(n):
        events = [
            bulk(clients[i % 3], Event.MANUAL_CREDIT, D("1.00"), memo=f"Credit {i}")
            for i in range(n)
        ]
        with CaptureQueriesContext(connection) as queries:
            assert accounting.post_in_bulk(events) == n
        return len(queries)

    queries_to_load(3)  # every account opened
    assert queries_to_load(30) == queries_to_load(300) <= 5
    assert clients_breaking_invariant() == []


MANUAL = st.tuples(
    st.integers(min_value=0, max_value=2),
    st.sampled_from([CREDIT, DEBIT]),
    st.decimals(min_value=D("0.01"), max_value=D("100000.00"), places=2),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(MANUAL, max_size=30))
def test_any_load_keeps_every_balance_the_sum_of_its_entries(business, load):
    """Hypothesis: whatever the mix of credits and debits over clients with and without an
    account, each stored balance is its entries' sum and the ledger invariant holds."""
    with transaction.atomic():
        clients = [ClientFactory() for _ in range(3)]
        issued(client=clients[0])  # one account there before the load
        before = [stored_balance(client) for client in clients]
        events = [
            bulk(
                clients[i],
                Event.MANUAL_CREDIT if sign == CREDIT else Event.MANUAL_DEBIT,
                amount * sign,
                memo="Loaded",
            )
            for i, sign, amount in load
        ]
        assert accounting.post_in_bulk(events) == len(events)
        for i, client in enumerate(clients):
            moved = sum((amount * sign for j, sign, amount in load if j == i), D("0.00"))
            assert stored_balance(client) == client_balance(client) == before[i] + moved
        assert clients_breaking_invariant() == []
        transaction.set_rollback(True)
