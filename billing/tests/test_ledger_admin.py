"""The ledger in the back office: manual entries are added, nothing is ever edited."""

from decimal import Decimal

import pytest
from django.urls import reverse

from ledger.models import EntryKind, LedgerEntry
from ledger.selectors import client_balance
from tests.factories import ClientFactory, issued

pytestmark = pytest.mark.django_db


@pytest.fixture
def office(client, bookkeeper, business):
    client.force_login(bookkeeper)
    return client


def manual(acme, **fields):
    return {
        "client": str(acme.pk),
        "kind": EntryKind.MANUAL_CREDIT,
        "amount": "25.00",
        "memo": "Goodwill",
        "date": "2026-03-01",
        **fields,
    }


def test_manual_credit_and_debit_are_posted(office):
    acme = ClientFactory()
    url = reverse("admin:ledger_ledgerentry_add")
    assert office.post(url, manual(acme)).status_code == 302
    assert (
        office.post(url, manual(acme, kind=EntryKind.MANUAL_DEBIT, amount="5")).status_code == 302
    )
    assert client_balance(acme) == Decimal("20.00")
    entry = LedgerEntry.objects.get(kind=EntryKind.MANUAL_CREDIT)
    assert entry.created_by.username == "books1"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        # The ledger page's form and the operation's messages (billing/forms/ledger.py).
        ({"amount": "0"}, "Amount: must be more than 0"),
        ({"amount": "-5"}, "Amount: must be more than 0"),
        ({"amount": "1.234"}, "Amount: use at most 2 decimal places"),
        ({"amount": "x"}, "is not a number"),
        ({"amount": "1e5"}, "Amount: “1e5” is not a number"),
        ({"memo": ""}, "This field is required"),
        ({"date": "2026-02-30"}, "Enter a valid date"),
        ({"kind": EntryKind.INVOICE_ISSUED}, "Select a valid choice"),
        ({"client": "999999"}, "Select a valid choice"),
    ],
)
def test_bad_manual_entry_is_refused_on_the_form(office, fields, message):
    acme = ClientFactory()
    response = office.post(reverse("admin:ledger_ledgerentry_add"), manual(acme, **fields))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not LedgerEntry.objects.exists()


def test_entries_cannot_be_changed_or_deleted_in_the_admin(client, administrator, business):
    client.force_login(administrator)
    invoice = issued()
    entry = LedgerEntry.objects.get(invoice=invoice)
    change = reverse("admin:ledger_ledgerentry_change", args=[entry.pk])
    delete = reverse("admin:ledger_ledgerentry_delete", args=[entry.pk])
    assert 'name="amount"' not in client.get(change).content.decode()
    assert client.post(change, {"amount": "1.00", "memo": "x"}).status_code == 403
    assert client.post(delete, {"post": "yes"}).status_code == 403
    entry.refresh_from_db()
    assert entry.amount == Decimal("-113.00")


def test_ledger_list_colours_amounts(office):
    invoice = issued()
    page = office.get(reverse("admin:ledger_ledgerentry_changelist")).content.decode()
    assert 'class="otb-negative">-113.00' in page
    assert invoice.client.code in page


def test_smallest_manual_amount_is_accepted(office):
    acme = ClientFactory()
    response = office.post(reverse("admin:ledger_ledgerentry_add"), manual(acme, amount="0.01"))
    assert response.status_code == 302
    assert client_balance(acme) == Decimal("0.01")
