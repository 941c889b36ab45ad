"""The ledger invariant of SPEC.md, checked after every step of random sequences of
operations: drafts, issuing, edits, cancellations, payments (pending, confirmed, from client
credit, on account), confirmations, reversals, manual entries, credit notes (in full, for a
line's quantity, for an amount; drafts issued later or refused) and refunds.

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
from django.db.models import Sum
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
    CreditKind,
    CreditNote,
    CreditNoteLine,
    CreditNoteStatus,
    CreditNoteTax,
    Invoice,
    InvoiceChange,
    InvoiceLine,
    InvoiceNumberCounter,
    InvoiceStatus,
    InvoiceTax,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
)
from billing.money import MINOR_UNIT_DECIMALS
from billing.outstanding import stale
from billing.selectors import available_credit, client_currencies, expected_balance
from billing.services import COUNTER_NAME, LineData, post_manual_credit, post_manual_debit
from billing.services.credit_notes import COUNTER_NAME as CREDIT_NOTE_COUNTER
from billing.services.credit_notes import remaining
from ledger.models import EntryKind, LedgerEntry
from ledger.selectors import client_balance
from otb.operations import DomainError
from settings_app.models import Tax
from settings_app.selectors import get_business_settings
from tests.factories import TEST_RATES, ClientFactory, store_test_rates

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
    CreditNote,
    CreditNoteLine,
    CreditNoteTax,
    Refund,
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
    if invoice.amount_credited > 0 and invoice.amount_credited == invoice.total:
        return InvoiceStatus.CREDITED
    if invoice.total - invoice.amount_paid - invoice.amount_credited <= 0:
        return InvoiceStatus.PAID
    if invoice.due_date < TODAY:
        return InvoiceStatus.OVERDUE
    if invoice.amount_paid > 0:
        return InvoiceStatus.PARTIAL
    return InvoiceStatus.PENDING


def credited_by_issued_notes(invoice: Invoice) -> Decimal:
    return sum((n.total for n in invoice.credit_notes.filter(status=CreditNoteStatus.ISSUED)), ZERO)


def credit_left(client: Client, currency: str) -> Decimal:
    """Available credit in ``currency`` without the ledger: money received in it (not from
    credit) and manual entries, less refunds and everything applied to the client's live
    invoices in it. (Credit notes raise the balance and lower the balance due alike: they
    leave it as it is.)"""
    refunded = sum(
        (r.amount for r in client.refunds.filter(reversed_at__isnull=True, currency=currency)),
        ZERO,
    )
    received = sum(
        (
            p.amount
            for p in client.payments.filter(
                status=PaymentStatus.CONFIRMED, currency=currency
            ).exclude(method=PaymentMethod.CLIENT_CREDIT)
        ),
        ZERO,
    )
    manual = sum(
        (
            e.amount
            for e in client.ledger_entries.filter(
                kind__in=[EntryKind.MANUAL_CREDIT, EntryKind.MANUAL_DEBIT], currency=currency
            )
        ),
        ZERO,
    )
    applied = sum(
        (
            i.amount_paid
            for i in client.invoices.filter(currency=currency).exclude(
                status__in=["draft", InvoiceStatus.CANCELLED]
            )
        ),
        ZERO,
    )
    return received - refunded + manual - applied


def is_payable(invoice: Invoice) -> bool:
    return not invoice.is_draft and not invoice.is_cancelled and invoice.balance_due > 0


def is_locked(invoice: Invoice) -> bool:
    return (
        invoice.is_cancelled
        or invoice.payments.exclude(status=PaymentStatus.REVERSED).exists()
        or invoice.credit_notes.filter(status=CreditNoteStatus.ISSUED).exists()
    )


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
    credit_notes = Bundle("credit_notes")
    refunds = Bundle("refunds")

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
            store_test_rates()
            self.clients = [
                ClientFactory(),
                ClientFactory(tax_exempt=True),
                ClientFactory(country="US", default_currency="USD"),
                ClientFactory(default_currency="JPY"),
            ]
            counter, _ = InvoiceNumberCounter.objects.get_or_create(name=COUNTER_NAME)
            self.first_number = counter.last_number
            counter, _ = InvoiceNumberCounter.objects.get_or_create(name=CREDIT_NOTE_COUNTER)
            self.first_credit_note = counter.last_number
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
        other_currency=st.booleans(),
    )
    def create_draft(self, client, lines, discount, other_currency):
        client = self.clients[client]
        kind, value = discount
        subtotal = sum((line_amount(line, client.default_currency) for line in lines), ZERO)
        # A CAD client's USD invoice, and the other way round: a ledger per currency. (Both
        # have cents, so what fits the client's currency fits the invoice's.)
        currency = {"CAD": "USD", "USD": "CAD"}.get(client.default_currency)
        invoice = self.attempt(
            lambda: services.create_draft(
                client=client,
                acting_user=None,
                lines=lines,
                discount_kind=kind,
                discount_value=value,
                currency=currency if other_currency else None,
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
        limit = min(invoice.balance_due, credit_left(invoice.client, invoice.currency))
        amount = aimed_amount(aim, limit, amount)
        allowed = is_payable(invoice) and amount <= invoice.balance_due
        allowed = allowed and fits(amount, invoice.client)
        # Pending or confirmed: a client-credit payment beyond the credit is refused when it
        # is recorded (and checked again when it is confirmed).
        allowed = allowed and amount <= credit_left(invoice.client, invoice.currency)
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
        credit = credit_left(invoice.client, invoice.currency)
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
                payment.invoice.balance_due, credit_left(payment.client, payment.currency)
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

    # --- Credit notes and refunds ---------------------------------------------------------
    @rule(
        target=credit_notes,
        invoice=invoices,
        kind=st.sampled_from(CreditKind.values),
        aim=st.sampled_from(AIMS),
        amount=amounts,
        share=st.sampled_from([D(1), D("0.5"), D("0.333")]),
        issue=st.booleans(),
    )
    def credit(self, invoice, kind, aim, amount, share, issue):
        invoice = Invoice.objects.get(pk=invoice)
        creditable = not invoice.is_draft and not invoice.is_cancelled
        creditable = creditable and invoice.amount_credited < invoice.total
        left = remaining(invoice).total if creditable else ZERO
        lines, succeeds = [], None
        if kind == CreditKind.FULL:
            succeeds = creditable
        elif kind == CreditKind.AMOUNT:
            amount = aimed_amount(aim, left, amount)
            if not creditable or amount > left or not fits(amount, invoice.client):
                succeeds = False
            elif amount == left:
                succeeds = True
        else:
            first = invoice.lines.order_by("position").first()
            quantity = (first.quantity * share).quantize(D("0.001")) if first else D(0)
            lines = [
                services.CreditLineData(invoice_line=first.pk if first else 0, quantity=quantity)
            ]
            if not creditable:
                succeeds = False
        note = self.attempt(
            lambda: services.create_credit_note(
                invoice=invoice, acting_user=None, kind=kind, amount=amount, lines=lines
            ),
            succeeds=succeeds,
        )
        if note is None:
            return multiple()
        if issue:
            self.issue_credit_note(note.pk)
        return note.pk

    @rule(note=credit_notes)
    def issue_credit_note(self, note):
        note = CreditNote.objects.get(pk=note)
        # A draft is computed again when issued: it may no longer fit what its invoice has
        # left (another credit note came first, or the draft invoice was changed).
        self.attempt(
            lambda: services.issue_credit_note(credit_note=note, acting_user=None),
            succeeds=None if note.is_draft else False,
        )

    @rule(target=refunds, client=st.integers(0, 3), aim=st.sampled_from(AIMS), amount=amounts)
    def refund(self, client, aim, amount):
        client = self.clients[client]
        amount = aimed_amount(aim, credit_left(client, client.default_currency), amount)
        made = self.attempt(
            lambda: services.record_refund(
                client=client, amount=amount, date=TODAY, method="cheque", acting_user=None
            ),
            succeeds=fits(amount, client)
            and amount <= credit_left(client, client.default_currency),
        )
        return made.pk if made else multiple()

    @rule(refund=refunds)
    def reverse_refund(self, refund):
        refund = Refund.objects.get(pk=refund)
        self.attempt(
            lambda: services.reverse_refund(refund=refund, reason="Returned", acting_user=None),
            succeeds=not refund.is_reversed,
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
        """Per currency (SPEC): a CAD client's USD invoices have a ledger of their own."""
        for client in Client.objects.all():
            for currency in client_currencies(client):
                where = (client.code, currency)
                assert client_balance(client, currency) == expected_balance(client, currency), where
                assert available_credit(client, currency) == credit_left(client, currency), where

    @invariant()
    def invoice_figures_follow_lines_and_payments(self):
        for invoice in Invoice.objects.all():
            amounts = [line.amount for line in invoice.lines.all()]
            assert amounts == [line_amount(line, invoice.currency) for line in invoice.lines.all()]
            assert invoice.subtotal == sum(amounts, ZERO)
            assert invoice.total == invoice.subtotal - invoice.discount_total + invoice.tax_total
            credited = credited_by_issued_notes(invoice)
            assert invoice.amount_credited == credited
            assert invoice.amount_paid == min(
                invoice.total - credited, paid_by_confirmed_payments(invoice)
            )
            assert ZERO <= invoice.balance_due == invoice.total - invoice.amount_paid - credited
            assert invoice.status == spec_status(invoice), invoice

    @invariant()
    def credit_notes_never_credit_more_than_their_invoice_per_figure(self):
        for invoice in Invoice.objects.exclude(amount_credited=0):
            notes = list(invoice.credit_notes.filter(status=CreditNoteStatus.ISSUED))
            assert sum((n.subtotal for n in notes), ZERO) <= invoice.subtotal
            for position, tax in enumerate(invoice.taxes.all()):
                credited = [list(n.taxes.all())[position] for n in notes]
                assert sum((t.amount for t in credited), ZERO) <= tax.amount
                assert sum((t.base for t in credited), ZERO) <= tax.base
            for note in notes:
                posted = sum((e.amount for e in note.ledger_entries.all()), ZERO)
                assert posted == note.total > 0

    @invariant()
    def base_figures_add_up_and_a_fully_credited_invoice_nets_to_zero(self):
        """SPEC: Currencies and exchange rates. Each figure × the frozen rate, rounded to
        the cent (the base is CAD); a credit note at its invoice's rate; nothing twice."""
        documents = [
            *Invoice.objects.exclude(status=InvoiceStatus.DRAFT),
            *CreditNote.objects.filter(status=CreditNoteStatus.ISSUED),
        ]
        for document in documents:
            rate = TEST_RATES.get(document.currency, D(1))
            assert document.exchange_rate == rate, document
            taxes = list(document.taxes.all())
            assert document.tax_in_base == sum((t.amount_in_base for t in taxes), ZERO)
            assert document.total_in_base == (
                document.subtotal_in_base - document.discount_in_base + document.tax_in_base
            )
            converted = [document.subtotal, document.discount_total, *(t.amount for t in taxes)]
            in_base = [
                document.subtotal_in_base,
                document.discount_in_base,
                *(t.amount_in_base for t in taxes),
            ]
            for figure, base in zip(converted, in_base, strict=True):
                # Exact, except the credit note that took all that remained (± the cents
                # the others' rounding left).
                assert abs(base - (figure * rate).quantize(D("0.01"), ROUND_HALF_UP)) <= D(
                    "0.01"
                ) * len(documents), document
        for payment in Payment.objects.filter(status=PaymentStatus.CONFIRMED):
            # At its own rate, the test's one for its currency; what it settles is at the
            # invoice's rate, the same here: a difference of a rounding cent at most.
            rate = TEST_RATES.get(payment.currency, D(1))
            assert payment.exchange_rate == rate, payment
            exact = (payment.amount * rate).quantize(D("0.01"), ROUND_HALF_UP)
            assert payment.amount_in_base == exact, payment
            assert abs(payment.exchange_difference) <= D("0.01") * len(documents), payment
        for invoice in Invoice.objects.filter(
            status=InvoiceStatus.PAID, amount_credited=0, amount_paid__gt=0
        ):
            # Paid by payments alone: together they settle its base total to the cent.
            settled = invoice.payments.filter(status=PaymentStatus.CONFIRMED).aggregate(
                s=Sum("settled_in_base")
            )["s"]
            assert settled == invoice.total_in_base, invoice
        for invoice in Invoice.objects.filter(status=InvoiceStatus.CREDITED):
            notes = list(invoice.credit_notes.filter(status=CreditNoteStatus.ISSUED))
            for field in ("subtotal_in_base", "discount_in_base", "tax_in_base", "total_in_base"):
                credited = sum((getattr(n, field) for n in notes), ZERO)
                assert credited == getattr(invoice, field), (invoice, field)

    @invariant()
    def credit_note_numbers_are_gapless_and_the_spans_current(self):
        last = InvoiceNumberCounter.objects.get(name=CREDIT_NOTE_COUNTER).last_number
        numbered = list(
            CreditNote.objects.exclude(number=None)
            .order_by("sequence")
            .values_list("sequence", "number")
        )
        assert [s for s, _ in numbered] == list(range(self.first_credit_note + 1, last + 1))
        assert [n for _, n in numbered] == [f"CN-{s:04d}" for s, _ in numbered]
        assert stale() == []

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
