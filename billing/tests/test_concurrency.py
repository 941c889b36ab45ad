"""Operations run at once from several OS processes against the real database (SPEC:
Invoice lifecycle, Payments, Scale): numbers stay gapless and unique, payments are never lost
or counted twice, and client credit is never drawn beyond what is available.

Each test commits its data and runs the work in forked processes (tests.processes).
"""

import random
from decimal import Decimal

import pytest

from billing import services
from billing.models import (
    Client,
    Invoice,
    InvoiceNumberCounter,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
)
from billing.selectors import available_credit, clients_breaking_invariant
from billing.services import COUNTER_NAME, CreditInsufficient, InvalidTransition, post_manual_credit
from ledger.models import EntryKind, LedgerEntry
from ledger.selectors import client_balance
from otb.operations import InvalidInput
from tests.factories import ClientFactory, draft, issued, line
from tests.processes import run_in_processes

D = Decimal
PROCESSES = 8
pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def counter(business, migration_rows):
    counter = InvoiceNumberCounter.objects.get(name=COUNTER_NAME)
    assert counter.last_number == 0
    return counter


def confirmed_sum(invoice) -> Decimal:
    return sum(
        (p.amount for p in Payment.objects.filter(invoice=invoice, status="confirmed")), D("0.00")
    )


# --- Numbering --------------------------------------------------------------------------
DRAFTS = 200


def _issue_each(invoice_pks):
    for pk in invoice_pks:
        services.issue_invoice(invoice=Invoice.objects.get(pk=pk), acting_user=None)
    return len(invoice_pks)


def test_drafts_issued_at_once_from_several_processes_get_gapless_unique_numbers():
    clients = ClientFactory.create_batch(PROCESSES)
    pks = [draft(client=clients[n % PROCESSES]).pk for n in range(DRAFTS)]
    random.Random(2026).shuffle(pks)

    issued_counts = run_in_processes(_issue_each, [pks[n::PROCESSES] for n in range(PROCESSES)])

    assert sum(issued_counts) == DRAFTS
    rows = list(Invoice.objects.order_by("sequence").values_list("sequence", "number", "status"))
    assert [sequence for sequence, _, _ in rows] == list(range(1, DRAFTS + 1))
    assert [number for _, number, _ in rows] == [f"INV-{n:04d}" for n in range(1, DRAFTS + 1)]
    assert {status for _, _, status in rows} == {InvoiceStatus.PENDING}
    assert InvoiceNumberCounter.objects.get(name=COUNTER_NAME).last_number == DRAFTS
    issued_entries = LedgerEntry.objects.filter(kind=EntryKind.INVOICE_ISSUED)
    assert sorted(issued_entries.values_list("invoice_id", flat=True)) == sorted(pks)
    assert clients_breaking_invariant() == []


# --- Payments on one invoice ------------------------------------------------------------
def _pay_confirm_and_reverse(invoice_pk):
    """Four confirmed payments, one pending then confirmed, then the first one reversed.
    Payments refused because the invoice is paid in full by then are counted, not raised."""
    invoice = Invoice.objects.get(pk=invoice_pk)
    recorded, reversed_, refused = [], [], 0
    for method in [PaymentMethod.CASH, PaymentMethod.CHEQUE, PaymentMethod.CARD, "e_transfer"]:
        try:
            payment = services.record_payment(
                invoice=invoice, amount="40.00", date="2026-03-10", method=method, acting_user=None
            )
        except InvalidTransition:
            refused += 1
        else:
            recorded.append(payment.pk)
    try:
        pending = services.record_payment(
            invoice=invoice,
            amount="25.00",
            date="2026-03-10",
            method=PaymentMethod.BANK_TRANSFER,
            acting_user=None,
            confirmed=False,
        )
    except InvalidTransition:
        refused += 1
    else:
        recorded.append(pending.pk)
        services.confirm_payment(payment=pending, acting_user=None)
    if recorded:
        first = Payment.objects.get(pk=recorded[0])
        services.reverse_payment(payment=first, reason="Entered in error", acting_user=None)
        reversed_.append(first.pk)
    return {"recorded": recorded, "reversed": reversed_, "refused": refused}


def test_payments_on_one_invoice_from_several_processes_are_all_counted():
    # 1130.00 due; the processes try to pay 8 × 185.00 = 1480.00 and reverse 8 × 40.00.
    invoice = issued(lines=[line("10", "100.00")])
    assert invoice.total == D("1130.00")

    reports = run_in_processes(_pay_confirm_and_reverse, [invoice.pk] * PROCESSES)

    recorded = sorted(pk for report in reports for pk in report["recorded"])
    reversed_ = sorted(pk for report in reports for pk in report["reversed"])
    assert sorted(Payment.objects.values_list("pk", flat=True)) == recorded
    assert (
        sorted(Payment.objects.filter(status=PaymentStatus.REVERSED).values_list("pk", flat=True))
        == reversed_
    )
    assert not Payment.objects.filter(status=PaymentStatus.PENDING).exists()
    invoice.refresh_from_db()
    paid = confirmed_sum(invoice)
    assert invoice.amount_paid == min(invoice.total, paid)
    assert invoice.balance_due == invoice.total - invoice.amount_paid
    assert invoice.status == (
        InvoiceStatus.PAID if paid >= invoice.total else InvoiceStatus.PARTIAL
    )
    # Every confirmation and every reversal was posted exactly once.
    entries = LedgerEntry.objects.filter(client=invoice.client)
    assert entries.filter(kind=EntryKind.PAYMENT_CONFIRMED).count() == len(recorded)
    assert entries.filter(kind=EntryKind.PAYMENT_REVERSED).count() == len(reversed_)
    assert client_balance(invoice.client) == paid - invoice.total
    assert clients_breaking_invariant() == []


# --- Client credit ----------------------------------------------------------------------
CREDIT = D("120.00")
DRAW = D("1.00")
DRAWS_EACH = 24  # 8 × 24 × 1.00 = 192.00 asked of 120.00


def _draw_on_credit(invoice_pks):
    """Draw DRAW from the client's credit DRAWS_EACH times, round the given invoices; every
    third draw is recorded pending and then confirmed."""
    drawn, refused = [], 0
    for n in range(DRAWS_EACH):
        invoice = Invoice.objects.get(pk=invoice_pks[n % len(invoice_pks)])
        try:
            if n % 3 == 2:
                payment = services.record_payment(
                    invoice=invoice,
                    amount=DRAW,
                    date="2026-03-10",
                    method=PaymentMethod.CLIENT_CREDIT,
                    acting_user=None,
                    confirmed=False,
                )
                services.confirm_payment(payment=payment, acting_user=None)
            else:
                payment = services.record_payment(
                    invoice=invoice,
                    amount=DRAW,
                    date="2026-03-10",
                    method=PaymentMethod.CLIENT_CREDIT,
                    acting_user=None,
                )
        except CreditInsufficient:
            refused += 1
        else:
            drawn.append(payment.pk)
    return {"drawn": drawn, "refused": refused}


def test_client_credit_drawn_at_once_never_exceeds_the_credit():
    client = ClientFactory()
    invoices = [issued(client=client).pk for _ in range(4)]  # 113.00 each
    post_manual_credit(client=client, amount=CREDIT, memo="Prepaid", acting_user=None)
    assert available_credit(client) == CREDIT

    shares = [random.Random(n).sample(invoices, len(invoices)) for n in range(PROCESSES)]
    reports = run_in_processes(_draw_on_credit, shares)

    drawn = sorted(pk for report in reports for pk in report["drawn"])
    assert len(drawn) * DRAW == CREDIT
    assert sum(report["refused"] for report in reports) == PROCESSES * DRAWS_EACH - len(drawn)
    confirmed = Payment.objects.filter(
        client=client, method=PaymentMethod.CLIENT_CREDIT, status=PaymentStatus.CONFIRMED
    )
    assert sorted(confirmed.values_list("pk", flat=True)) == drawn
    assert available_credit(client) == D("0.00")
    for invoice in Invoice.objects.filter(pk__in=invoices):
        assert invoice.amount_paid == min(invoice.total, confirmed_sum(invoice))
        assert invoice.status == (
            InvoiceStatus.PARTIAL if invoice.amount_paid else InvoiceStatus.PENDING
        )
    assert clients_breaking_invariant() == []


# --- Unique codes -------------------------------------------------------------------------
def _create_client_coded(code):
    try:
        services.create_client(
            acting_user=None, code=code, name="Race Ltd", country="CA", default_currency="CAD"
        )
    except InvalidInput as exc:
        assert exc.field == "code", exc.message
        return "refused"
    return "created"


def test_one_client_code_taken_at_once_from_several_processes_is_one_client_and_refusals():
    for round_ in range(5):
        code = f"RACE{round_}"
        outcomes = run_in_processes(_create_client_coded, [code] * 4)
        assert outcomes.count("created") == 1, outcomes
        assert outcomes.count("refused") == 3, outcomes
        assert Client.objects.filter(code=code).count() == 1
