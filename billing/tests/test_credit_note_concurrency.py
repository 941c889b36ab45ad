"""Credit notes issued at once from several OS processes against the real database (SPEC:
Credit notes, Scale): an invoice is never credited beyond its total, and credit note numbers
stay gapless and unique, also when some are refused. In scripts/test_galera.sh each process
writes through a node of its own (tests.processes), where row locks of different nodes do
not block each other and the loser's commit fails as a deadlock instead.
"""

import random
from decimal import Decimal

import pytest

from billing import services
from billing.models import CreditNote, CreditNoteStatus, Invoice, InvoiceNumberCounter
from billing.selectors import clients_breaking_invariant
from billing.services.credit_notes import COUNTER_NAME
from ledger.events import EntryKind
from ledger.models import LedgerEntry
from otb.operations import InvalidInput
from tests.factories import ClientFactory, issued, line
from tests.processes import run_in_processes

D = Decimal
PROCESSES = 8
pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def counter(business, migration_rows):
    counter = InvoiceNumberCounter.objects.get(name=COUNTER_NAME)
    assert counter.last_number == 0
    return counter


def _issue_each(note_pks):
    """Issue each draft; a refusal (no longer fits what the invoice has left) is counted."""
    issued_pks, refused = [], 0
    for pk in note_pks:
        try:
            note = services.issue_credit_note(
                credit_note=CreditNote.objects.get(pk=pk), acting_user=None
            )
        except InvalidInput:
            refused += 1
        else:
            issued_pks.append(note.pk)
    return {"issued": issued_pks, "refused": refused}


def _draft(invoice, amount):
    return services.create_credit_note(
        invoice=invoice, acting_user=None, kind="amount", amount=amount
    )


def test_credit_notes_issued_at_once_on_one_invoice_never_credit_more_than_its_total():
    invoice = issued(lines=[line("10", "100.00")])
    assert invoice.total == D("1130.00")
    # Each for 60 % of the total: only one of them fits.
    drafts = [_draft(invoice, "678.00").pk for _ in range(PROCESSES)]

    reports = run_in_processes(_issue_each, [[pk] for pk in drafts])

    issued_pks = [pk for report in reports for pk in report["issued"]]
    assert len(issued_pks) == 1
    assert sum(report["refused"] for report in reports) == PROCESSES - 1
    invoice = Invoice.objects.get(pk=invoice.pk)
    assert invoice.amount_credited == D("678.00")
    assert invoice.balance_due == D("452.00")
    assert CreditNote.objects.get(pk=issued_pks[0]).number == "CN-0001"
    assert CreditNote.objects.filter(status=CreditNoteStatus.ISSUED).count() == 1
    assert LedgerEntry.objects.filter(kind=EntryKind.CREDIT_NOTE_ISSUED).count() == 1
    assert InvoiceNumberCounter.objects.get(name=COUNTER_NAME).last_number == 1
    assert clients_breaking_invariant() == []


def test_credit_notes_issued_at_once_get_gapless_unique_numbers_even_when_some_are_refused():
    clients = ClientFactory.create_batch(4)
    pks, doomed = [], 0
    for n in range(32):
        invoice = issued(client=clients[n % 4], lines=[line("1", "100.00")])  # 113.00
        pks.append(_draft(invoice, "60.00").pk)
        if n % 4 == 0:  # a second draft for 60.00 of 113.00: one of the two is refused
            pks.append(_draft(invoice, "60.00").pk)
            doomed += 1
    random.Random(2026).shuffle(pks)

    reports = run_in_processes(_issue_each, [pks[n::PROCESSES] for n in range(PROCESSES)])

    issued_count = sum(len(report["issued"]) for report in reports)
    assert sum(report["refused"] for report in reports) == doomed
    assert issued_count == len(pks) - doomed
    rows = list(
        CreditNote.objects.filter(status=CreditNoteStatus.ISSUED)
        .order_by("sequence")
        .values_list("sequence", "number")
    )
    assert [sequence for sequence, _ in rows] == list(range(1, issued_count + 1))
    assert [number for _, number in rows] == [f"CN-{n:04d}" for n in range(1, issued_count + 1)]
    assert not CreditNote.objects.filter(status=CreditNoteStatus.DRAFT, number__isnull=False)
    assert InvoiceNumberCounter.objects.get(name=COUNTER_NAME).last_number == issued_count
    for invoice in Invoice.objects.all():
        assert invoice.amount_credited <= invoice.total
    assert clients_breaking_invariant() == []
