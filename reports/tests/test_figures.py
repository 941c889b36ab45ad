"""Every report figure against a computation from scratch over a random history.

Hypothesis writes a history of days: invoices issued (taxable or not), changed while
unlocked, cancelled, credited (in full, or half of what remains); payments in cash or from
client credit, pending or confirmed, dated on the day or a few days back, confirmed later,
reversed; manual credits and debits. The test keeps its own account of what happened and
when, from the rules of SPEC.md, and checks the outstanding/aging report, the revenue
summary (a cancellation a negative in its own month), the tax report, the receivables and
the statement against it on month ends, on the days things happened and on the days before
them.

Each example runs in a savepoint rolled back at its end.
"""

from __future__ import annotations

import contextlib
import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import pytest
import time_machine
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing import services
from billing.models import CreditKind, PaymentMethod
from billing.services import LineData, post_manual_credit, post_manual_debit
from otb.operations import DomainError
from reports import selectors
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

D = Decimal
ZERO = D("0.00")
START = datetime.date(2026, 1, 1)


def noon(day: datetime.date) -> datetime.datetime:
    """Noon in Toronto, the business's time zone: "today" is ``day``."""
    return datetime.datetime.combine(day, datetime.time(17, 0), tzinfo=datetime.UTC)


def tax_of(amount: Decimal) -> Decimal:
    return (amount * D("0.13")).quantize(D("0.01"), rounding=ROUND_HALF_UP)


@dataclass
class Inv:
    obj: object
    client: int
    issue_day: datetime.date
    due_day: datetime.date
    taxable: bool
    totals: list = field(default_factory=list)  # (day, total, tax)
    cancelled_day: datetime.date | None = None
    credits: list = field(default_factory=list)  # issued credit notes: (day, total, tax)

    def figures_at(self, day):
        found = [entry for entry in self.totals if entry[0] <= day]
        return found[-1][1:] if found else (ZERO, ZERO)

    @property
    def total(self):
        return self.totals[-1][1]

    @property
    def tax(self):
        return self.totals[-1][2]

    def credited_at(self, day) -> Decimal:
        return sum((total for when, total, _tax in self.credits if when <= day), ZERO)

    @property
    def credited(self) -> Decimal:
        return self.credited_at(datetime.date.max)


@dataclass
class Pay:
    obj: object
    client: int
    invoice: Inv | None
    amount: Decimal
    date: datetime.date
    credit: bool  # from client credit
    confirmed: bool
    reversed_day: datetime.date | None = None


@dataclass
class Books:
    """What happened, kept by the test."""

    invoices: list = field(default_factory=list)
    payments: list = field(default_factory=list)
    manual: list = field(default_factory=list)  # (client, day, signed amount)

    def paid_at(self, invoice: Inv, day) -> Decimal:
        return sum(
            (
                p.amount
                for p in self.payments
                if p.invoice is invoice
                and p.confirmed
                and p.date <= day
                and not (p.reversed_day and p.reversed_day <= day)
            ),
            ZERO,
        )

    def balance_at(self, invoice: Inv, day) -> Decimal:
        if invoice.issue_day > day or (invoice.cancelled_day and invoice.cancelled_day <= day):
            return ZERO
        total, _tax = invoice.figures_at(day)
        total -= invoice.credited_at(day)
        return total - min(total, self.paid_at(invoice, day))

    def paid_now(self, invoice: Inv) -> Decimal:
        return self.paid_at(invoice, datetime.date.max)

    def ledger_at(self, client: int, day) -> Decimal:
        balance = ZERO
        for invoice in (i for i in self.invoices if i.client == client):
            previous = ZERO
            for when, total, _tax in invoice.totals:
                if when <= day:
                    balance -= total - previous
                previous = total
            if invoice.cancelled_day and invoice.cancelled_day <= day:
                balance += invoice.figures_at(invoice.cancelled_day)[0]
            balance += invoice.credited_at(day)
        for p in self.payments:
            if p.client == client and p.confirmed and not p.credit:
                if p.date <= day:
                    balance += p.amount
                if p.reversed_day and p.reversed_day <= day:
                    balance -= p.amount
        balance += sum(
            (amount for c, when, amount in self.manual if c == client and when <= day), ZERO
        )
        return balance

    def credit_now(self, client: int, today) -> Decimal:
        open_due = sum(
            (self.balance_at(i, today) for i in self.invoices if i.client == client), ZERO
        )
        return self.ledger_at(client, today) + open_due


def bucket(as_of, due) -> str:
    late = (as_of - due).days
    if late <= 0:
        return "current"
    if late <= 30:
        return "days_1_30"
    if late <= 60:
        return "days_31_60"
    if late <= 90:
        return "days_61_90"
    return "over_90"


amounts = st.decimals(min_value=D("1.00"), max_value=D("900.00"), places=2)
steps = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=40),  # days since the step before
        st.one_of(
            st.tuples(
                st.just("issue"),
                st.integers(0, 1),
                amounts,
                st.booleans(),
                st.sampled_from([0, 15, 30, 45]),
            ),
            st.tuples(
                st.just("pay"),
                st.integers(0, 30),
                st.sampled_from(["full", "half", "more"]),
                st.booleans(),
                st.booleans(),
                st.integers(0, 6),
            ),
            st.tuples(st.just("confirm"), st.integers(0, 30)),
            st.tuples(st.just("reverse"), st.integers(0, 30)),
            st.tuples(st.just("cancel"), st.integers(0, 30)),
            st.tuples(st.just("credit"), st.integers(0, 30), st.sampled_from(["full", "half"])),
            st.tuples(st.just("change"), st.integers(0, 30), amounts),
            st.tuples(st.just("manual"), st.integers(0, 1), amounts, st.booleans()),
        ),
    ),
    min_size=4,
    max_size=20,
)


def play(history) -> tuple[Books, list, datetime.date]:
    """Carry out the history through the services, day by day; the books and the days."""
    books = Books()
    clients = [ClientFactory(code="ALPHA", country="CA"), ClientFactory(code="BETA", country="CA")]
    day = START
    days = []
    for gap, (action, *args) in history:
        day += datetime.timedelta(days=gap)
        days.append(day)
        # A refusal by a rule (locked, too little credit) changes nothing.
        with time_machine.travel(noon(day), tick=False), contextlib.suppress(DomainError):
            act(books, clients, day, action, args)
    return books, clients, day


def pick(items, index):
    return items[index % len(items)] if items else None


def act(books: Books, clients, day, action, args) -> None:
    if action == "issue":
        client_index, amount, taxable, terms = args
        draft = services.create_draft(
            client=clients[client_index],
            lines=[LineData(description="Work", quantity=D(1), unit_price=amount, taxable=taxable)],
            acting_user=None,
        )
        due = day + datetime.timedelta(days=terms)
        invoice = services.issue_invoice(invoice=draft, acting_user=None, due_date=due)
        tax = tax_of(amount) if taxable else ZERO
        assert invoice.total == amount + tax
        books.invoices.append(
            Inv(
                obj=invoice,
                client=client_index,
                issue_day=day,
                due_day=due,
                taxable=taxable,
                totals=[(day, amount + tax, tax)],
            )
        )
    elif action == "pay":
        index, aim, from_credit, confirmed, back = args
        invoice = pick([i for i in books.invoices if not i.cancelled_day], index)
        if invoice is None:
            return
        owed = invoice.total - invoice.credited
        due_now = owed - min(owed, books.paid_now(invoice))
        amount = {
            "full": due_now,
            "half": (due_now / 2).quantize(D("0.01")),
            "more": due_now + D("25.00"),
        }[aim]
        if amount <= 0:
            return
        credit = from_credit and books.credit_now(invoice.client, day) >= amount
        method = PaymentMethod.CLIENT_CREDIT if credit else PaymentMethod.CHEQUE
        date = day - datetime.timedelta(days=back)
        payment = services.record_payment(
            invoice=invoice.obj,
            amount=amount,
            date=date,
            method=method,
            acting_user=None,
            confirmed=confirmed,
        )
        books.payments.append(
            Pay(
                obj=payment,
                client=invoice.client,
                invoice=invoice,
                amount=amount,
                date=date,
                credit=credit,
                confirmed=confirmed,
            )
        )
    elif action == "confirm":
        payment = pick(
            [p for p in books.payments if not p.confirmed and not p.reversed_day], args[0]
        )
        if payment is not None:
            services.confirm_payment(payment=payment.obj, acting_user=None)
            payment.confirmed = True
    elif action == "reverse":
        payment = pick([p for p in books.payments if not p.reversed_day], args[0])
        if payment is not None:
            services.reverse_payment(payment=payment.obj, reason="Bounced", acting_user=None)
            payment.reversed_day = day
    elif action == "cancel":
        invoice = pick([i for i in books.invoices if not i.cancelled_day], args[0])
        if invoice is not None:
            services.cancel_invoice(invoice=invoice.obj, acting_user=None, reason="Mistake")
            invoice.cancelled_day = day
    elif action == "credit":
        index, how = args
        invoice = pick(
            [i for i in books.invoices if not i.cancelled_day and i.credited < i.total], index
        )
        if invoice is None:
            return
        remaining = invoice.total - invoice.credited
        if how == "full":
            kwargs = {"kind": CreditKind.FULL}
            # SPEC: the credit note that credits all that remains takes exactly that.
            total = remaining
            tax = invoice.tax - sum((tax for _day, _total, tax in invoice.credits), ZERO)
        else:
            total = (remaining / 2).quantize(D("0.01"))
            if total <= 0:
                return
            kwargs = {"kind": CreditKind.AMOUNT, "amount": total}
            # SPEC: a free amount's tax is split in the invoice's proportions.
            tax = (invoice.tax * total / invoice.total).quantize(D("0.01"), ROUND_HALF_UP)
        note = services.create_credit_note(invoice=invoice.obj, acting_user=None, **kwargs)
        note = services.issue_credit_note(credit_note=note, acting_user=None)
        assert (note.issue_date, note.total, note.tax_total) == (day, total, tax)
        invoice.credits.append((day, total, tax))
    elif action == "change":
        index, amount = args
        invoice = pick([i for i in books.invoices if not i.cancelled_day], index)
        if invoice is not None:
            services.update_invoice(
                invoice=invoice.obj,
                acting_user=None,
                lines=[
                    LineData(
                        description="Work",
                        quantity=D(1),
                        unit_price=amount,
                        taxable=invoice.taxable,
                    )
                ],
            )
            tax = tax_of(amount) if invoice.taxable else ZERO
            invoice.totals.append((day, amount + tax, tax))
    elif action == "manual":
        client_index, amount, is_credit = args
        post = post_manual_credit if is_credit else post_manual_debit
        post(client=clients[client_index], amount=amount, memo="Adjustment", acting_user=None)
        books.manual.append((client_index, day, amount if is_credit else -amount))


def days_to_check(days: list, last: datetime.date) -> list:
    month_ends = []
    month = START
    while month <= last:
        month_ends.append(selectors.period_end(month, "month"))
        month = month_ends[-1] + datetime.timedelta(days=1)
    checked = set(month_ends) | set(days) | {d - datetime.timedelta(days=1) for d in days}
    return sorted(checked)


def expected_aging(books: Books, clients, as_of) -> dict:
    found = defaultdict(lambda: dict.fromkeys(selectors.BUCKET_KEYS, ZERO))
    for invoice in books.invoices:
        balance = books.balance_at(invoice, as_of)
        if balance > 0:
            found[clients[invoice.client].code][bucket(as_of, invoice.due_day)] += balance
    return dict(found)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=steps)
def test_every_report_figure_matches_a_computation_from_scratch(business, history):
    with transaction.atomic():
        business.tax_local_clients_only = True
        business.save()
        books, clients, last = play(history)
        _check_every_report(books, clients, history, last)
        transaction.set_rollback(True)


def _check_every_report(books: Books, clients, history, last) -> None:
    today = last
    # The last day is "today": answered from the stored figures; the others are not.
    with time_machine.travel(noon(today), tick=False):
        for as_of in days_to_check(list(_days(history)), last):
            report = selectors.aging(as_of)
            got = {row.code: row.buckets for row in report.rows}
            assert got == expected_aging(books, clients, as_of), as_of
            for row in report.rows:
                assert row.total == sum(row.buckets.values())
            balances = selectors.ledger_balances(as_of, [(client.pk, "CAD") for client in clients])
            # What the clients owe net of their credit: −(their ledgers' sum) that day.
            owed = ZERO - sum((books.ledger_at(index, as_of) for index in range(2)), ZERO)
            assert selectors.receivables(as_of).get("CAD", ZERO) == owed, as_of
            for index, client in enumerate(clients):
                assert balances[(client.pk, "CAD")] == books.ledger_at(index, as_of)
                statement = selectors.statement(client, START, as_of)
                assert statement.closing == books.ledger_at(index, as_of)
                assert {i.number: i.balance_at for i in statement.open_invoices} == {
                    i.obj.number: books.balance_at(i, as_of)
                    for i in books.invoices
                    if i.client == index and books.balance_at(i, as_of) > 0
                }

        _check_revenue_and_tax(books, today)


def _days(history):
    day = START
    for gap, _action in history:
        day += datetime.timedelta(days=gap)
        yield day


def _check_revenue_and_tax(books: Books, today) -> None:
    periods = selectors.revenue(START, today, period="month", today=today)
    got = {p.start: p for p in periods}
    for month_start in selectors.period_starts(START, today, "month"):
        month_end = selectors.period_end(month_start, "month")
        # Issued in the month, cancelled since or not: a cancellation counts as a negative
        # in the month it was made (SPEC: Exports and imports), with the figures it had then.
        issued = [i for i in books.invoices if month_start <= i.issue_day <= month_end]
        cancelled = [
            i
            for i in books.invoices
            if i.cancelled_day and month_start <= i.cancelled_day <= month_end
        ]
        credits = [
            (total, tax)
            for i in books.invoices
            for when, total, tax in i.credits
            if month_start <= when <= month_end
        ]
        credited = sum((total for total, _tax in credits), ZERO)
        cancelled_total = sum((i.total for i in cancelled), ZERO)
        invoiced = sum((i.total for i in issued), ZERO) - credited - cancelled_total
        tax = (
            sum((i.tax for i in issued), ZERO)
            - sum((tax for _total, tax in credits), ZERO)
            - sum((i.tax for i in cancelled), ZERO)
        )
        collected = ZERO
        for p in books.payments:
            if p.credit or not p.confirmed:
                continue
            if month_start <= p.date <= month_end:
                collected += p.amount
            if p.reversed_day and month_start <= p.reversed_day <= month_end:
                collected -= p.amount
        outstanding = sum(
            (books.balance_at(i, min(month_end, today)) for i in books.invoices), ZERO
        )
        row = got.get(month_start)
        figures = (
            (row.invoiced, row.tax, row.credited, row.cancelled, row.collected, row.outstanding)
            if row
            else (ZERO,) * 6
        )
        assert figures == (
            invoiced,
            tax,
            -credited,
            -cancelled_total,
            collected,
            outstanding,
        ), month_start
        # No discounts here: income (net of tax) is what was invoiced less its tax.
        assert (row.income if row else ZERO) == invoiced - tax, month_start

    tax_rows = selectors.tax_report(START, today, period="quarter")
    by_quarter = defaultdict(lambda: ZERO)
    for row in tax_rows:
        assert row["label"] == "HST" and row["rate"] == D("13.0000")
        by_quarter[row["start"]] += row["amount"]
    expected = defaultdict(lambda: ZERO)

    def quarter(day):
        return datetime.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)

    for i in books.invoices:
        expected[quarter(i.issue_day)] += i.tax
        if i.cancelled_day:
            expected[quarter(i.cancelled_day)] -= i.tax
        for when, _total, tax in i.credits:
            expected[quarter(when)] -= tax
    assert {k: v for k, v in by_quarter.items() if v} == {k: v for k, v in expected.items() if v}


def test_a_changed_invoice_counts_with_its_new_total_from_the_day_of_the_change(business):
    history = [
        (0, ("issue", 0, D("100.00"), True, 30)),
        (10, ("change", 0, D("200.00"))),
    ]
    books, clients, last = play(history)
    [invoice] = books.invoices
    assert [total for _day, total, _tax in invoice.totals] == [D("113.00"), D("226.00")]
    before = selectors.aging(START + datetime.timedelta(days=9))
    after = selectors.aging(START + datetime.timedelta(days=10))
    assert [row.total for row in before.rows] == [D("113.00")]
    assert [row.total for row in after.rows] == [D("226.00")]


def test_credit_notes_count_in_every_report_from_their_own_date(business):
    """Invoices credited in halves and in full, across month and quarter ends, around
    payments; every report checked against the test's own account, as above."""
    history = [
        (0, ("issue", 0, D("100.00"), True, 30)),  # 113.00 on 1 Jan
        (5, ("pay", 0, "half", False, True, 0)),  # 56.50
        (40, ("credit", 0, "half")),  # 15 Feb: 56.50, of which 6.50 HST
        (3, ("issue", 1, D("200.00"), True, 15)),  # 226.00 on 18 Feb
        (45, ("credit", 1, "half")),  # 4 Apr, a new quarter: 113.00, 13.00 HST
        (1, ("pay", 1, "more", False, True, 0)),  # pays the rest and 25.00 more
        (2, ("credit", 1, "full")),  # 7 Apr: the rest of the second one, paid: client credit
        (1, ("credit", 0, "full")),  # 8 Apr: the first one's other half, paid: client credit
    ]
    books, clients, last = play(history)
    credits = [(when, total, tax) for i in books.invoices for when, total, tax in i.credits]
    assert len(credits) == 4
    _check_every_report(books, clients, history, last)
