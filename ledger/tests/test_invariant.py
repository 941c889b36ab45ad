"""The ledger invariant of SPEC.md, checked after every step of random sequences of
operations: drafts, issuing, edits, cancellations, payments (pending, confirmed, from client
credit, on account), confirmations, reversals and manual entries.

Each example runs in a savepoint that is rolled back at its end, inside the transaction
pytest-django opens for the test, so examples never see each other's rows. Before each step
the machine predicts from the rules of the spec whether the operation must succeed or be
refused; a refusal must be a DomainError that leaves every row as it was.
"""

import datetime
from decimal import ROUND_HALF_UP, Decimal, localcontext

import pytest
import time_machine
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
)

from billing import services
from billing.models import (
    Client,
    Invoice,
    InvoiceChange,
    InvoiceLine,
    InvoiceNumberCounter,
    InvoiceStatus,
    InvoiceTax,
    Payment,
    PaymentMethod,
    PaymentStatus,
)
from billing.money import MINOR_UNIT_DECIMALS
from billing.selectors import available_credit, expected_balance
from billing.services import COUNTER_NAME, LineData, post_manual_credit, post_manual_debit
from ledger.models import EntryKind, LedgerEntry
from ledger.selectors import client_balance
from otb.operations import DomainError
from settings_app.models import Tax
from settings_app.selectors import get_business_settings
from tests.factories import ClientFactory

D = Decimal
ZERO = D("0.00")
pytestmark = pytest.mark.django_db

# Noon in Toronto: the business's "today" is 2026-03-10.
NOON = datetime.datetime(2026, 3, 10, 17, 0, tzinfo=datetime.UTC)
TODAY = datetime.date(2026, 3, 10)
WATCHED = (
    Client,
    Invoice,
    InvoiceLine,
    InvoiceTax,
    InvoiceChange,
    InvoiceNumberCounter,
    Payment,
    LedgerEntry,
)
CASH_METHODS = [m for m in PaymentMethod.values if m != PaymentMethod.CLIENT_CREDIT]
INVOICE_KINDS = [EntryKind.INVOICE_ISSUED, EntryKind.INVOICE_CHANGED, EntryKind.INVOICE_CANCELLED]


def database_state() -> dict:
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in WATCHED}


def line_amount(line: LineData, currency: str) -> Decimal:
    """SPEC: round(quantity × unit price × (1 − line discount / 100)), half up, to the
    currency's minor unit; written out here rather than taken from billing.money."""
    with localcontext() as ctx:
        ctx.prec = 60
        exact = D(line.quantity) * D(line.unit_price) * (100 - D(line.discount_percent)) / 100
        minor = D(1).scaleb(-MINOR_UNIT_DECIMALS.get(currency, 2))
        return exact.quantize(minor, rounding=ROUND_HALF_UP).quantize(D("0.01"))


def paid_by_confirmed_payments(invoice: Invoice) -> Decimal:
    return sum((p.amount for p in invoice.payments.filter(status=PaymentStatus.CONFIRMED)), ZERO)


def spec_status(invoice: Invoice) -> str:
    """SPEC "Invoice lifecycle": the status from the facts alone."""
    if invoice.number is None:
        return InvoiceStatus.DRAFT
    if invoice.cancelled_at is not None:
        return InvoiceStatus.CANCELLED
    if invoice.total - invoice.amount_paid <= 0:
        return InvoiceStatus.PAID
    if invoice.due_date < TODAY:
        return InvoiceStatus.OVERDUE
    if invoice.amount_paid > 0:
        return InvoiceStatus.PARTIAL
    return InvoiceStatus.PENDING


def credit_left(client: Client) -> Decimal:
    """Available credit without the ledger: money received (not from credit) and manual
    entries, less everything applied to the client's live invoices."""
    received = sum(
        (
            p.amount
            for p in client.payments.filter(status=PaymentStatus.CONFIRMED).exclude(
                method=PaymentMethod.CLIENT_CREDIT
            )
        ),
        ZERO,
    )
    manual = sum(
        (
            e.amount
            for e in client.ledger_entries.filter(
                kind__in=[EntryKind.MANUAL_CREDIT, EntryKind.MANUAL_DEBIT]
            )
        ),
        ZERO,
    )
    applied = sum(
        (
            i.amount_paid
            for i in client.invoices.exclude(status__in=["draft", InvoiceStatus.CANCELLED])
        ),
        ZERO,
    )
    return received + manual - applied


def is_payable(invoice: Invoice) -> bool:
    return not invoice.is_draft and not invoice.is_cancelled and invoice.balance_due > 0


def is_locked(invoice: Invoice) -> bool:
    return invoice.is_cancelled or invoice.payments.exclude(status=PaymentStatus.REVERSED).exists()


amounts = st.decimals(min_value=D("0.01"), max_value=D("400.00"), places=2)
# How a payment's amount relates to what it may be: the limit itself, a cent more, half of
# it, or a random amount.
AIMS = ["exact", "cent-more", "half", "random"]


def fits(amount, client) -> bool:
    """The amount has no fraction its client's currency lacks (a yen has no cents)."""
    return amount == amount.quantize(unit_of(client.default_currency))


def unit_of(currency: str) -> Decimal:
    return Decimal(1).scaleb(-MINOR_UNIT_DECIMALS.get(currency, 2))


def aimed_amount(aim: str, limit: Decimal, random_amount: Decimal) -> Decimal:
    if aim == "exact" and limit > 0:
        return limit
    if aim == "cent-more" and limit >= 0:
        return limit + D("0.01")
    if aim == "half" and limit >= D("0.02"):
        return (limit / 2).quantize(D("0.01"))
    return random_amount


invoice_lines = st.builds(
    LineData,
    description=st.just("Work"),
    quantity=st.decimals(min_value=D(0), max_value=D(5), places=3),
    unit_price=st.decimals(min_value=D(0), max_value=D(250), places=4),
    discount_percent=st.sampled_from([D(0), D(0), D(10), D("12.5"), D("33.333"), D(100)]),
    taxable=st.booleans(),
)
# A line that comes to more than 0.00 in every currency: an issued invoice has one.
billable_lines = st.builds(
    LineData,
    description=st.just("Work"),
    quantity=st.decimals(min_value=D(1), max_value=D(5), places=3),
    unit_price=st.decimals(min_value=D(1), max_value=D(250), places=4),
    discount_percent=st.sampled_from([D(0), D(10), D("33.333")]),
    taxable=st.booleans(),
)
discounts = st.one_of(
    st.just(("", D(0))),
    st.tuples(st.just("percent"), st.decimals(min_value=D(0), max_value=D(100), places=3)),
    st.tuples(st.just("fixed"), st.decimals(min_value=D(0), max_value=D(300), places=2)),
)


class LedgerMachine(RuleBasedStateMachine):
    invoices = Bundle("invoices")
    payments = Bundle("payments")

    def __init__(self):
        super().__init__()
        self.clock = time_machine.travel(NOON)
        self.clock.start()
        self.savepoint = transaction.atomic()
        self.savepoint.__enter__()
        try:
            business = get_business_settings()
            Tax.objects.create(label="HST", rate=D("13"))
            business.local_country = "CA"
            business.tax_local_clients_only = True
            business.time_zone = "America/Toronto"
            business.save()
            self.clients = [
                ClientFactory(),
                ClientFactory(tax_exempt=True),
                ClientFactory(country="US", default_currency="USD"),
                ClientFactory(default_currency="JPY"),
            ]
            counter, _ = InvoiceNumberCounter.objects.get_or_create(name=COUNTER_NAME)
            self.first_number = counter.last_number
        except BaseException:
            self.teardown()
            raise

    def teardown(self):
        transaction.set_rollback(True)
        self.savepoint.__exit__(None, None, None)
        self.clock.stop()

    def attempt(self, call, *, succeeds):
        """Run ``call``. ``succeeds``: True when the rules allow it, False when they refuse
        it, None when either is right. A refusal must leave every row as it was."""
        before = database_state()
        try:
            result = call()
        except DomainError as exc:
            assert succeeds is not True, f"refused although the rules allow it: {exc}"
            assert database_state() == before, f"a refusal changed the database: {exc}"
            return None
        assert succeeds is not False, "accepted although the rules refuse it"
        return result

    # --- Invoices -----------------------------------------------------------------------
    @initialize(
        target=invoices,
        client=st.integers(0, 3),
        lines=st.tuples(billable_lines, st.lists(invoice_lines, max_size=2)).map(
            lambda drawn: [drawn[0], *drawn[1]]
        ),
    )
    def start_with_an_issued_invoice(self, client, lines):
        invoice = services.create_draft(client=self.clients[client], acting_user=None, lines=lines)
        return services.issue_invoice(invoice=invoice, acting_user=None).pk

    @initialize(client=st.integers(0, 3), amount=amounts)
    def start_with_credit(self, client, amount):
        client = self.clients[client]
        unit = unit_of(client.default_currency)
        amount = max(unit, amount.quantize(unit, rounding=ROUND_HALF_UP))
        post_manual_credit(client=client, amount=amount, memo="Prepaid", acting_user=None)

    @rule(
        target=invoices,
        client=st.integers(0, 3),
        lines=st.lists(invoice_lines, max_size=3),
        discount=discounts,
    )
    def create_draft(self, client, lines, discount):
        client = self.clients[client]
        kind, value = discount
        subtotal = sum((line_amount(line, client.default_currency) for line in lines), ZERO)
        invoice = self.attempt(
            lambda: services.create_draft(
                client=client,
                acting_user=None,
                lines=lines,
                discount_kind=kind,
                discount_value=value,
            ),
            succeeds=not (kind == "fixed" and (value > subtotal or not fits(value, client))),
        )
        return invoice.pk if invoice else multiple()

    @rule(invoice=invoices, days_ago=st.integers(0, 60))
    def issue(self, invoice, days_ago):
        invoice = Invoice.objects.get(pk=invoice)
        self.attempt(
            lambda: services.issue_invoice(
                invoice=invoice,
                acting_user=None,
                issue_date=TODAY - datetime.timedelta(days=days_ago),
            ),
            # An invoice of nothing is not issued (issue 16, item 7).
            succeeds=invoice.is_draft and invoice.lines.exclude(amount=0).exists(),
        )

    @rule(
        invoice=invoices, lines=st.lists(invoice_lines, min_size=1, max_size=3), discount=discounts
    )
    def edit(self, invoice, lines, discount):
        invoice = Invoice.objects.get(pk=invoice)
        kind, value = discount
        subtotal = sum((line_amount(line, invoice.currency) for line in lines), ZERO)
        locked = is_locked(invoice)
        entries_before = LedgerEntry.objects.count()
        edited = self.attempt(
            lambda: services.update_invoice(
                invoice=invoice,
                acting_user=None,
                lines=lines,
                discount_kind=kind,
                discount_value=value,
            ),
            # Locked: refused, unless the "edit" changes nothing.
            succeeds=None
            if locked
            else not (kind == "fixed" and (value > subtotal or not fits(value, invoice.client)))
            and (invoice.is_draft or any(line_amount(x, invoice.currency) for x in lines)),
        )
        if edited is not None and locked:
            assert edited.total == invoice.total
            assert LedgerEntry.objects.count() == entries_before

    @rule(invoice=invoices)
    def cancel(self, invoice):
        invoice = Invoice.objects.get(pk=invoice)
        self.attempt(
            lambda: services.cancel_invoice(invoice=invoice, acting_user=None, reason="Wrong"),
            succeeds=not invoice.is_draft and not is_locked(invoice),
        )

    # --- Payments -----------------------------------------------------------------------
    @rule(
        target=payments,
        invoice=invoices,
        aim=st.sampled_from(AIMS),
        amount=amounts,
        method=st.sampled_from(CASH_METHODS),
        confirmed=st.booleans(),
    )
    def pay_invoice(self, invoice, aim, amount, method, confirmed):
        invoice = Invoice.objects.get(pk=invoice)
        amount = aimed_amount(aim, invoice.balance_due, amount)
        payment = self.attempt(
            lambda: services.record_payment(
                invoice=invoice,
                amount=amount,
                date=TODAY,
                method=method,
                acting_user=None,
                confirmed=confirmed,
            ),
            succeeds=is_payable(invoice) and fits(amount, invoice.client),
        )
        return payment.pk if payment else multiple()

    @rule(target=payments, client=st.integers(0, 3), amount=amounts, confirmed=st.booleans())
    def pay_on_account(self, client, amount, confirmed):
        payment = self.attempt(
            lambda: services.record_payment(
                client=self.clients[client],
                amount=amount,
                date=TODAY,
                method=PaymentMethod.BANK_TRANSFER,
                acting_user=None,
                confirmed=confirmed,
            ),
            succeeds=fits(amount, self.clients[client]),
        )
        return payment.pk if payment else multiple()

    @rule(
        target=payments,
        invoice=invoices,
        aim=st.sampled_from(AIMS),
        amount=amounts,
        confirmed=st.booleans(),
    )
    def pay_from_credit(self, invoice, aim, amount, confirmed):
        invoice = Invoice.objects.get(pk=invoice)
        limit = min(invoice.balance_due, credit_left(invoice.client))
        amount = aimed_amount(aim, limit, amount)
        allowed = is_payable(invoice) and amount <= invoice.balance_due
        allowed = allowed and fits(amount, invoice.client)
        # Pending or confirmed: a client-credit payment beyond the credit is refused when it
        # is recorded (and checked again when it is confirmed).
        allowed = allowed and amount <= credit_left(invoice.client)
        payment = self.attempt(
            lambda: services.record_payment(
                invoice=invoice,
                amount=amount,
                date=TODAY,
                method=PaymentMethod.CLIENT_CREDIT,
                acting_user=None,
                confirmed=confirmed,
            ),
            succeeds=allowed,
        )
        return payment.pk if payment else multiple()

    @rule(target=payments, invoice=invoices)
    def apply_all_available_credit(self, invoice):
        invoice = Invoice.objects.get(pk=invoice)
        credit = credit_left(invoice.client)
        payment = self.attempt(
            lambda: services.apply_client_credit(invoice=invoice, acting_user=None),
            succeeds=is_payable(invoice) and credit > 0,
        )
        if payment is None:
            return multiple()
        assert payment.amount == min(credit, invoice.balance_due)
        return payment.pk

    @rule(payment=payments)
    def confirm(self, payment):
        payment = Payment.objects.select_related("invoice").get(pk=payment)
        allowed = payment.status == PaymentStatus.PENDING
        if allowed and payment.method == PaymentMethod.CLIENT_CREDIT:
            allowed = payment.amount <= min(
                payment.invoice.balance_due, credit_left(payment.client)
            )
        self.attempt(
            lambda: services.confirm_payment(payment=payment, acting_user=None),
            succeeds=allowed,
        )

    @rule(payment=payments, reason=st.sampled_from(["Cheque bounced", "Entered twice"]))
    def reverse(self, payment, reason):
        payment = Payment.objects.get(pk=payment)
        self.attempt(
            lambda: services.reverse_payment(payment=payment, reason=reason, acting_user=None),
            succeeds=payment.status != PaymentStatus.REVERSED,
        )

    # Mostly credits, so that there is credit to draw on.
    @rule(client=st.integers(0, 3), amount=amounts, credit=st.sampled_from([True, True, False]))
    def manual_entry(self, client, amount, credit):
        post = post_manual_credit if credit else post_manual_debit
        self.attempt(
            lambda: post(
                client=self.clients[client], amount=amount, memo="Adjustment", acting_user=None
            ),
            succeeds=fits(amount, self.clients[client]),
        )

    @rule(invoice=invoices, amount=st.sampled_from(["0", "-1", "0.001", "abc", None]))
    def pay_nonsense(self, invoice, amount):
        invoice = Invoice.objects.get(pk=invoice)
        self.attempt(
            lambda: services.record_payment(
                invoice=invoice,
                amount=amount,
                date=TODAY,
                method=PaymentMethod.CASH,
                acting_user=None,
            ),
            succeeds=False,
        )

    # --- What must hold after every step ------------------------------------------------
    @invariant()
    def ledger_balance_matches_invoices_and_payments(self):
        for client in Client.objects.all():
            assert client_balance(client) == expected_balance(client), client.code
            assert available_credit(client) == credit_left(client), client.code

    @invariant()
    def invoice_figures_follow_lines_and_payments(self):
        for invoice in Invoice.objects.all():
            amounts = [line.amount for line in invoice.lines.all()]
            assert amounts == [line_amount(line, invoice.currency) for line in invoice.lines.all()]
            assert invoice.subtotal == sum(amounts, ZERO)
            assert invoice.total == invoice.subtotal - invoice.discount_total + invoice.tax_total
            assert invoice.amount_paid == min(invoice.total, paid_by_confirmed_payments(invoice))
            assert ZERO <= invoice.balance_due == invoice.total - invoice.amount_paid
            assert invoice.status == spec_status(invoice), invoice

    @invariant()
    def each_invoice_is_posted_as_its_current_total(self):
        for invoice in Invoice.objects.all():
            posted = sum(
                (e.amount for e in invoice.ledger_entries.filter(kind__in=INVOICE_KINDS)), ZERO
            )
            counts = not invoice.is_draft and not invoice.is_cancelled
            assert posted == (-invoice.total if counts else ZERO), invoice

    @invariant()
    def each_payment_is_posted_once_while_it_counts(self):
        for payment in Payment.objects.all():
            posted = sum((e.amount for e in payment.ledger_entries.all()), ZERO)
            counts = (
                payment.status == PaymentStatus.CONFIRMED
                and payment.method != PaymentMethod.CLIENT_CREDIT
            )
            assert posted == (payment.amount if counts else ZERO), payment.pk

    @invariant()
    def numbers_are_gapless(self):
        last = InvoiceNumberCounter.objects.get(name=COUNTER_NAME).last_number
        numbered = list(
            Invoice.objects.exclude(number=None)
            .order_by("sequence")
            .values_list("sequence", "number")
        )
        assert [s for s, _ in numbered] == list(range(self.first_number + 1, last + 1))
        assert [n for _, n in numbered] == [f"INV-{s:04d}" for s, _ in numbered]


LedgerMachine.TestCase.settings = settings(
    max_examples=30,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestLedgerStaysConsistentWithInvoicesAndPayments = LedgerMachine.TestCase
