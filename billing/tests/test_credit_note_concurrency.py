"""Credit notes and refunds at once from several OS processes against the real database
(SPEC: Credit notes, Payments, Scale): an invoice is never credited beyond its total, nor
paid and credited beyond it; credit note numbers stay gapless and unique, also when some
are refused; refunds never pay back more than the client's credit. In
scripts/test_galera.sh each process writes through a node of its own (tests.processes),
where row locks of different nodes do not block each other and the loser's commit fails as
a deadlock instead, to be retried whole.
"""

import random
import time
from collections import Counter
from decimal import Decimal

import pytest

from billing import services
from billing.errors import CreditInsufficient, InvalidTransition
from billing.models import (
    Client,
    CreditKind,
    CreditNote,
    CreditNoteStatus,
    Invoice,
    InvoiceNumberCounter,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
)
from billing.outstanding import stale
from billing.selectors import available_credit, clients_breaking_invariant
from billing.services import CreditLineData, locking
from billing.services.credit_notes import COUNTER_NAME
from ledger.events import EntryKind
from ledger.models import LedgerEntry
from otb.operations import InvalidInput
from settings_app.selectors import business_today
from tests.factories import ClientFactory, issued, line, pay
from tests.processes import run_in_processes

D = Decimal
PROCESSES = 8
pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def counter(business, migration_rows):
    counter = InvoiceNumberCounter.objects.get(name=COUNTER_NAME)
    assert counter.last_number == 0
    return counter


# How long each operation keeps its client's lock before it goes on (hold_client_locks).
HOLD_SECONDS = 0.1


def hold_client_locks(monkeypatch):
    """From here on, every operation holds its client's lock (the first of the lock order)
    a moment before it reads anything else, so the processes released at once really meet
    there, however fast the machine: without the pause each one's work is over in a few
    milliseconds, and they may as well run one after the other. On a Galera cluster they
    do not wait for each other but all work at once, and all but one fail at commit and
    start over."""
    lock_clients = locking.lock_clients

    def lock_and_hold(client_ids):
        clients = lock_clients(client_ids)
        time.sleep(HOLD_SECONDS)
        return clients

    # The forked processes inherit the patch.
    monkeypatch.setattr(locking, "lock_clients", lock_and_hold)


def _issue_each(note_pks):
    """Issue each draft; a refusal (it no longer fits what its invoice has left) is
    reported as (error type, field, message)."""
    issued_pks, refusals = [], []
    for pk in note_pks:
        try:
            note = services.issue_credit_note(
                credit_note=CreditNote.objects.get(pk=pk), acting_user=None
            )
        except (InvalidInput, InvalidTransition) as exc:
            refusals.append((type(exc).__name__, exc.field, exc.message))
        else:
            issued_pks.append(note.pk)
    return {"issued": issued_pks, "refused": refusals}


def _draft(invoice, amount):
    return services.create_credit_note(
        invoice=invoice, acting_user=None, kind=CreditKind.AMOUNT, amount=amount
    )


def _draft_for_quantity(invoice, quantity):
    work = invoice.lines.get()
    return services.create_credit_note(
        invoice=invoice,
        acting_user=None,
        kind=CreditKind.LINES,
        lines=[CreditLineData(invoice_line=work.pk, quantity=quantity)],
    )


def _full_draft(invoice):
    return services.create_credit_note(invoice=invoice, acting_user=None, kind=CreditKind.FULL)


# Each draft is for 60 % of the 1,130.00 invoice: whichever is issued first leaves 452.00.
SIXTY_PERCENT = {
    "amount": (
        lambda invoice: _draft(invoice, "678.00"),
        "amount",
        "Amount: this would credit more than invoice INV-0001 has left to credit (452.00 CAD). "
        "Credit at most that, or choose “all that remains”.",
    ),
    "lines": (
        lambda invoice: _draft_for_quantity(invoice, "6"),
        "lines.0.quantity",
        "Line 1, quantity: at most 4 of “Work” is left to credit.",
    ),
}


@pytest.mark.parametrize("writers", [2, PROCESSES])
@pytest.mark.parametrize("kind", SIXTY_PERCENT)
def test_credit_notes_issued_at_once_on_one_invoice_never_credit_more_than_its_total(
    kind, writers, monkeypatch
):
    make_draft, field, message = SIXTY_PERCENT[kind]
    invoice = issued(lines=[line("10", "100.00")])
    assert invoice.total == D("1130.00")
    drafts = [make_draft(invoice).pk for _ in range(writers)]
    assert {note.total for note in CreditNote.objects.all()} == {D("678.00")}

    hold_client_locks(monkeypatch)
    reports = run_in_processes(_issue_each, [[pk] for pk in drafts])

    [issued_pk] = [pk for report in reports for pk in report["issued"]]
    refusals = [refusal for report in reports for refusal in report["refused"]]
    assert refusals == [("InvalidInput", field, message)] * (writers - 1)
    invoice = Invoice.objects.get(pk=invoice.pk)
    assert invoice.amount_credited == D("678.00")
    assert invoice.balance_due == D("452.00")
    assert invoice.status == InvoiceStatus.PENDING
    note = CreditNote.objects.get(pk=issued_pk)
    assert (note.number, note.total) == ("CN-0001", D("678.00"))
    # The refused drafts are left as they were: drafts, unnumbered, for 678.00 each.
    refused = CreditNote.objects.exclude(pk=issued_pk)
    assert list(refused.values_list("status", "number", "total")) == [
        (CreditNoteStatus.DRAFT, None, D("678.00"))
    ] * (writers - 1)
    entries = LedgerEntry.objects.filter(kind=EntryKind.CREDIT_NOTE_ISSUED)
    assert list(entries.values_list("credit_note_id", "amount")) == [(issued_pk, D("678.00"))]
    assert InvoiceNumberCounter.objects.get(name=COUNTER_NAME).last_number == 1
    assert clients_breaking_invariant() == []
    assert stale() == []


INVOICES = 32


def _sixty(invoice):
    return _draft(invoice, "60.00")


def _sixty_percent_of_the_line(invoice):
    return _draft_for_quantity(invoice, "0.6")  # 67.80


# The drafts on each invoice of 113.00, of which exactly one can be issued, and how the
# other one is refused: 60.00 alone; two of 60.00; 60.00 and 67.80; two in full (the
# second finds the invoice credited in full).
ONE_FITS = [
    ([_sixty], None),
    ([_sixty, _sixty], "InvalidInput"),
    ([_sixty, _sixty_percent_of_the_line], "InvalidInput"),
    ([_full_draft, _full_draft], "InvalidTransition"),
]


def test_credit_notes_issued_at_once_get_gapless_unique_numbers_even_when_some_are_refused():
    clients = ClientFactory.create_batch(4)
    pks, expected_refusals = [], Counter()
    for n in range(INVOICES):
        invoice = issued(client=clients[n % 4], lines=[line("1", "100.00")])
        make_drafts, refusal = ONE_FITS[n % len(ONE_FITS)]
        pks += [make_draft(invoice).pk for make_draft in make_drafts]
        if refusal:
            expected_refusals[refusal] += 1
    random.Random(2026).shuffle(pks)

    reports = run_in_processes(_issue_each, [pks[n::PROCESSES] for n in range(PROCESSES)])

    refusals = [refusal for report in reports for refusal in report["refused"]]
    assert Counter(kind for kind, _field, _message in refusals) == expected_refusals
    issued_pks = [pk for report in reports for pk in report["issued"]]
    assert len(issued_pks) == INVOICES == len(pks) - len(refusals)
    rows = list(
        CreditNote.objects.filter(status=CreditNoteStatus.ISSUED)
        .order_by("sequence")
        .values_list("sequence", "number", "invoice_id")
    )
    assert [sequence for sequence, _, _ in rows] == list(range(1, INVOICES + 1))
    assert [number for _, number, _ in rows] == [f"CN-{n:04d}" for n in range(1, INVOICES + 1)]
    assert len({invoice_id for _, _, invoice_id in rows}) == INVOICES
    assert not CreditNote.objects.filter(status=CreditNoteStatus.DRAFT, number__isnull=False)
    assert InvoiceNumberCounter.objects.get(name=COUNTER_NAME).last_number == INVOICES
    for invoice in Invoice.objects.all():
        [note] = invoice.credit_notes.filter(status=CreditNoteStatus.ISSUED)
        assert invoice.amount_credited == note.total <= invoice.total
    assert LedgerEntry.objects.filter(kind=EntryKind.CREDIT_NOTE_ISSUED).count() == INVOICES
    assert clients_breaking_invariant() == []
    assert stale() == []


def _credit_or_pay(work):
    """Issue a draft credit note, or record a confirmed payment; a refusal is reported."""
    what, pk = work
    if what == "credit":
        return _issue_each([pk])
    try:
        payment = services.record_payment(
            invoice=Invoice.objects.get(pk=pk),
            amount="250.00",
            date=business_today(),
            method=PaymentMethod.CASH,
            acting_user=None,
        )
    except InvalidTransition as exc:
        return {"paid": [], "refused_payment": exc.message}
    return {"paid": [payment.pk]}


def test_credit_notes_and_payments_at_once_never_count_more_than_the_total(monkeypatch):
    """Four drafts of 339.00 (30 %) and four payments of 250.00 on 1,130.00 at once: three
    credit notes fit, whatever the payments did; what is paid is capped at what is left
    (113.00), and the rest of the money is the client's credit."""
    invoice = issued(lines=[line("10", "100.00")])
    drafts = [_draft(invoice, "339.00").pk for _ in range(4)]
    work = [("credit", pk) for pk in drafts] + [("pay", invoice.pk)] * 4
    random.Random(17).shuffle(work)

    hold_client_locks(monkeypatch)
    reports = run_in_processes(_credit_or_pay, work)

    credited = [pk for report in reports for pk in report.get("issued", [])]
    assert len(credited) == 3
    assert [refusal for report in reports for refusal in report.get("refused", [])] == [
        (
            "InvalidInput",
            "amount",
            "Amount: this would credit more than invoice INV-0001 has left to credit "
            "(113.00 CAD). Credit at most that, or choose “all that remains”.",
        )
    ]
    paid = [pk for report in reports for pk in report.get("paid", [])]
    assert 1 <= len(paid) <= 4
    assert [report["refused_payment"] for report in reports if "refused_payment" in report] == [
        "Invoice INV-0001 is already paid. Record the payment without an invoice to put it "
        "on the client's account as credit."
    ] * (4 - len(paid))
    invoice = Invoice.objects.get(pk=invoice.pk)
    received = D("250.00") * len(paid)
    assert invoice.amount_credited == D("1017.00")
    assert invoice.amount_paid == min(received, D("113.00"))
    assert invoice.amount_paid + invoice.amount_credited <= invoice.total
    assert invoice.status == InvoiceStatus.PAID
    assert available_credit(invoice.client) == received - invoice.amount_paid
    assert sorted(
        Payment.objects.filter(status=PaymentStatus.CONFIRMED).values_list("pk", flat=True)
    ) == sorted(paid)
    assert clients_breaking_invariant() == []
    assert stale() == []


REFUND = D("10.00")
REFUNDS_EACH = 3


def _refund_each(client_pk):
    client = Client.objects.get(pk=client_pk)
    refunded, refused = [], []
    for _ in range(REFUNDS_EACH):
        try:
            refund = services.record_refund(
                client=client,
                amount=REFUND,
                date=business_today(),
                method=PaymentMethod.CHEQUE,
                acting_user=None,
            )
        except CreditInsufficient as exc:
            refused.append(exc.field)
        else:
            refunded.append(refund.pk)
    return {"refunded": refunded, "refused": refused}


def test_refunds_at_once_never_pay_back_more_than_the_credit_a_credit_note_left(monkeypatch):
    """An invoice of 113.00 paid in full, then credited in full: 113.00 of credit, of
    which 8 × 3 refunds of 10.00 at once can pay back eleven."""
    invoice = issued(lines=[line("1", "100.00")])
    pay(invoice, "113.00")
    services.issue_credit_note(credit_note=_full_draft(invoice), acting_user=None)
    client = invoice.client
    assert available_credit(client) == D("113.00")

    hold_client_locks(monkeypatch)
    reports = run_in_processes(_refund_each, [client.pk] * PROCESSES)

    refunded = sorted(pk for report in reports for pk in report["refunded"])
    refused = [field for report in reports for field in report["refused"]]
    assert len(refunded) == 11
    assert refused == ["amount"] * (PROCESSES * REFUNDS_EACH - 11)
    assert sorted(Refund.objects.values_list("pk", flat=True)) == refunded
    assert LedgerEntry.objects.filter(kind=EntryKind.REFUND_PAID).count() == 11
    assert available_credit(client) == D("3.00")
    assert clients_breaking_invariant() == []
