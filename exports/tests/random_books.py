"""Random books for the exports' property tests (hypothesis): a list of steps (invoices,
payments in any currency and at a typed rate, reversals, credit notes, cancellations,
manual entries, refunds), played one a few days apart through the app's own operations.
A step the app refuses (a locked invoice, not enough credit) is skipped, as it would be."""

import contextlib
import datetime
from decimal import Decimal

import time_machine
from hypothesis import strategies as st

from billing import services
from billing.models import DiscountKind, Invoice, Payment, PaymentStatus
from billing.services.credit_notes import create_credit_note, issue_credit_note
from otb.operations import DomainError
from settings_app.selectors import get_business_settings
from tests.factories import quebec_client, store_test_rates

from .conftest import TORONTO

D = Decimal
FIRST_DAY = datetime.date(2026, 1, 5)
DAYS_APART = 3

INVOICE_STEP = st.tuples(
    st.just("invoice"),
    st.integers(0, 2),
    st.lists(
        st.tuples(
            st.decimals("0.5", "40", places=1),
            st.decimals("0.01", "900", places=2),
            st.sampled_from([D(0), D(0), D("12.5")]),
        ),
        min_size=1,
        max_size=3,
    ),
    st.sampled_from([D(0), D(0), D(5), D("7.5")]),
)
PICK = st.integers(0, 50)
STEP = st.one_of(
    INVOICE_STEP,
    st.tuples(
        st.just("pay"),
        PICK,
        st.sampled_from([D("0.3"), D(1), D("1.2")]),
        st.sampled_from([None, D("1.31"), D("1.42")]),
    ),
    st.tuples(st.just("reverse"), PICK),
    st.tuples(st.just("credit"), PICK, st.sampled_from([D("0.25"), D(1)])),
    st.tuples(st.just("cancel"), PICK),
    st.tuples(st.just("manual"), st.integers(0, 2), st.decimals("-300", "300", places=2)),
    st.tuples(st.just("refund"), st.integers(0, 2), st.decimals("1", "200", places=2)),
)
# Books start with an invoice; then invoices come about as often as all else together.
BOOKS = st.builds(
    lambda first, rest: [first, *rest],
    INVOICE_STEP,
    st.lists(st.one_of(INVOICE_STEP, STEP), min_size=4, max_size=13),
)


def play(steps) -> list[datetime.date]:
    """The books of ``steps``, each on its own day at noon in Toronto; the days."""
    clients = _world()
    days = [FIRST_DAY + datetime.timedelta(days=DAYS_APART * n) for n in range(len(steps))]
    for step, day in zip(steps, days, strict=True):
        moment = datetime.datetime.combine(day, datetime.time(12), tzinfo=TORONTO)
        with time_machine.travel(moment, tick=False), contextlib.suppress(DomainError):
            _play(step, clients, day)
    return days


def _world():
    """A CAD business; a Quebec client (GST and QST), an Ontario one (the default set, none
    here) and a US one in USD, whose names a spreadsheet or QuickBooks would misread."""
    settings = get_business_settings()
    settings.local_country, settings.default_currency = "CA", "CAD"
    settings.time_zone, settings.tax_local_clients_only = "America/Toronto", True
    settings.save()
    store_test_rates()
    return [
        quebec_client("QC"),
        services.create_client(acting_user=None, code="ON", name="Ontario: Ltd", country="CA"),
        services.create_client(
            acting_user=None, code="US", name="=Yankee Co", country="US", default_currency="USD"
        ),
    ]


def _play(step, clients, day) -> None:
    kind = step[0]
    invoices = list(Invoice.objects.exclude(number=None).order_by("sequence"))
    payments = list(Payment.objects.filter(status=PaymentStatus.CONFIRMED).order_by("pk"))
    if kind == "invoice":
        _kind, client, lines, discount = step
        draft = services.create_draft(
            client=clients[client],
            acting_user=None,
            lines=[
                services.LineData(description="Work", quantity=q, unit_price=p, discount_percent=d)
                for q, p, d in lines
            ],
            discount_kind=DiscountKind.PERCENT if discount else DiscountKind.NONE,
            discount_value=discount,
        )
        services.issue_invoice(invoice=draft, acting_user=None, issue_date=day)
    elif kind == "pay" and invoices:
        _kind, pick, share, rate = step
        invoice = invoices[pick % len(invoices)]
        amount = max((invoice.balance_due * share).quantize(D("0.01")), D("0.01"))
        services.record_payment(
            invoice=invoice,
            amount=amount,
            date=day,
            method="bank_transfer",
            acting_user=None,
            exchange_rate=rate if invoice.currency != "CAD" else None,
        )
    elif kind == "reverse" and payments:
        payment = payments[step[1] % len(payments)]
        services.reverse_payment(payment=payment, reason="Bounced", acting_user=None)
    elif kind == "credit" and invoices:
        invoice = invoices[step[1] % len(invoices)]
        amount = max((invoice.total * step[2]).quantize(D("0.01")), D("0.01"))
        note = create_credit_note(invoice=invoice, acting_user=None, kind="amount", amount=amount)
        issue_credit_note(credit_note=note, acting_user=None, issue_date=day)
    elif kind == "cancel" and invoices:
        invoice = invoices[step[1] % len(invoices)]
        services.cancel_invoice(invoice=invoice, acting_user=None, reason="Wrong client")
    elif kind == "manual" and step[2]:
        post = services.post_manual_credit if step[2] > 0 else services.post_manual_debit
        post(client=clients[step[1]], amount=abs(step[2]), memo="Adjustment", acting_user=None)
    elif kind == "refund":
        services.record_refund(
            client=clients[step[1]], amount=step[2], date=day, method="cheque", acting_user=None
        )
