"""The ledger is append-only (SPEC: Client ledger): no ORM path the app uses can change or
delete an entry, and the records an entry points to cannot be deleted under it."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from billing.models import Client, Invoice, Payment
from billing.services import post_manual_credit
from ledger.models import Account, EntryKind, LedgerEntry, LedgerIsAppendOnly
from ledger.selectors import stored_balance
from otb.operations import InvalidInput
from tests.factories import ClientFactory, issued, pay

D = Decimal
pytestmark = pytest.mark.django_db


def stored(entry):
    return LedgerEntry.objects.filter(pk=entry.pk).values().get()


@pytest.fixture
def entry(business):
    return post_manual_credit(
        client=ClientFactory(), amount=D("25.00"), memo="Goodwill", acting_user=None
    )


def _save_changed_instance(entry):
    entry.amount = D("999.00")
    entry.save()


def _save_changed_field_only(entry):
    entry.memo = "Rewritten"
    entry.save(update_fields=["memo"])


def _save_a_copy_with_the_same_id(entry):
    # A new instance is "adding", but with its id set Django tries an UPDATE first.
    LedgerEntry(
        pk=entry.pk,
        client_id=entry.client_id,
        date=entry.date,
        kind=EntryKind.MANUAL_CREDIT,
        amount=D("999.00"),
        memo="Rewritten",
        created_at=entry.created_at,
    ).save()


def _update_or_create(entry):
    LedgerEntry.objects.update_or_create(pk=entry.pk, defaults={"amount": D("999.00")})


def _bulk_update(entry):
    entry.amount = D("999.00")
    LedgerEntry.objects.bulk_update([entry], ["amount"])


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(_save_changed_instance, id="instance-save"),
        pytest.param(_save_changed_field_only, id="instance-save-update-fields"),
        pytest.param(_save_a_copy_with_the_same_id, id="new-instance-with-existing-id"),
        pytest.param(_update_or_create, id="update-or-create"),
        pytest.param(_bulk_update, id="bulk-update"),
        pytest.param(
            lambda e: LedgerEntry.objects.filter(pk=e.pk).update(amount=D("999.00")),
            id="queryset-update",
        ),
        pytest.param(
            lambda e: (
                LedgerEntry.objects.select_for_update().filter(pk=e.pk).update(memo="Rewritten")
            ),
            id="locked-queryset-update",
        ),
        pytest.param(
            lambda e: e.client.ledger_entries.update(amount=D("999.00")),
            id="related-manager-update",
        ),
    ],
)
def test_entry_cannot_be_changed(entry, change):
    before = stored(entry)
    with pytest.raises((LedgerIsAppendOnly, IntegrityError)), transaction.atomic():
        change(LedgerEntry.objects.get(pk=entry.pk))
    assert stored(entry) == before


@pytest.mark.parametrize(
    "delete",
    [
        pytest.param(lambda e: e.delete(), id="instance-delete"),
        pytest.param(lambda e: LedgerEntry.objects.filter(pk=e.pk).delete(), id="queryset-delete"),
        pytest.param(lambda e: LedgerEntry.objects.all().delete(), id="delete-all"),
        pytest.param(lambda e: e.client.ledger_entries.all().delete(), id="related-delete"),
    ],
)
def test_entry_cannot_be_deleted(entry, delete):
    before = stored(entry)
    with pytest.raises(LedgerIsAppendOnly), transaction.atomic():
        delete(LedgerEntry.objects.get(pk=entry.pk))
    assert stored(entry) == before


@pytest.mark.parametrize(
    "delete",
    [
        pytest.param(lambda c: c.delete(), id="instance"),
        pytest.param(lambda c: Client.objects.filter(pk=c.pk).delete(), id="queryset"),
    ],
)
def test_client_with_entries_cannot_be_deleted(entry, delete):
    before = stored(entry)
    with pytest.raises(ProtectedError) as exc, transaction.atomic():
        delete(entry.client)
    # Its entries, and its account that holds their balance.
    assert set(exc.value.protected_objects) == {entry, Account.objects.get(client=entry.client)}
    assert Client.objects.filter(pk=entry.client_id).exists()
    assert stored(entry) == before


def test_issued_invoice_with_entries_cannot_be_deleted(business):
    invoice = issued()
    (issued_entry,) = invoice.ledger_entries.all()
    before = stored(issued_entry)
    with pytest.raises(ProtectedError) as exc, transaction.atomic():
        Invoice.objects.get(pk=invoice.pk).delete()
    assert set(exc.value.protected_objects) == {issued_entry}
    assert Invoice.objects.filter(pk=invoice.pk).exists()
    assert invoice.lines.exists()
    assert stored(issued_entry) == before


def test_payment_with_entries_cannot_be_deleted(business):
    payment = pay(issued(), "50.00")
    (payment_entry,) = payment.ledger_entries.all()
    before = stored(payment_entry)
    with pytest.raises(ProtectedError) as exc, transaction.atomic():
        Payment.objects.get(pk=payment.pk).delete()
    assert set(exc.value.protected_objects) == {payment_entry}
    assert Payment.objects.filter(pk=payment.pk).exists()
    assert stored(payment_entry) == before


def test_new_entries_can_still_be_added(entry):
    post_manual_credit(client=entry.client, amount=D("5.00"), memo="More", acting_user=None)
    assert entry.client.ledger_entries.count() == 2


def test_an_entry_that_would_overflow_the_stored_balance_is_refused_and_leaves_nothing():
    client = ClientFactory()
    post_manual_credit(
        client=client, amount=Decimal("999999999999.99"), memo="Big", acting_user=None
    )

    with pytest.raises(InvalidInput, match="beyond the largest amount the books can hold"):
        post_manual_credit(client=client, amount=Decimal("0.01"), memo="One more", acting_user=None)

    assert stored_balance(client) == Decimal("999999999999.99")
    assert LedgerEntry.objects.filter(client=client).count() == 1
