"""The database is the last line of defence: raw writes that bypass the operations hit the
named constraints of the models and are refused with IntegrityError, on SQLite and MariaDB."""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.models import (
    Client,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Service,
)
from ledger.models import EntryKind, LedgerEntry
from settings_app.models import BusinessSettings
from tests.factories import ClientFactory, ServiceFactory, draft, issued, pay

D = Decimal
pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 3, 10)


def assert_refused_by(constraint_names, write):
    """``write`` fails in the database, and the error names one of ``constraint_names``.

    SQLite names a unique constraint by its columns ("billing_client.code") and a check by
    its name; MariaDB names both by the constraint's name. Matching the name makes sure the
    constraint under test refused the row, not some NOT NULL or foreign key by accident.
    """
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        write()
    message = str(exc.value)
    assert any(name in message for name in constraint_names), message


@pytest.fixture
def invoice(business):
    return issued()


def test_duplicate_client_code_is_refused():
    ClientFactory(code="ACME")
    assert_refused_by(
        ["client_code_unique", "billing_client.code"],
        lambda: Client.objects.create(
            code="ACME", name="Another", country="CA", default_currency="CAD"
        ),
    )


def test_duplicate_service_code_is_refused():
    ServiceFactory(code="WEB")
    assert_refused_by(
        ["service_code_unique", "billing_service.code"],
        lambda: Service.objects.create(code="WEB", name="Other", unit_price=D("1")),
    )


def test_negative_service_price_is_refused():
    service = ServiceFactory()
    assert_refused_by(
        ["service_price_gte_0"],
        lambda: Service.objects.filter(pk=service.pk).update(unit_price=D("-0.0001")),
    )


def test_duplicate_invoice_number_is_refused(business):
    first, second = issued(), issued()
    assert_refused_by(
        ["invoice_number_unique", "billing_invoice.number"],
        lambda: Invoice.objects.filter(pk=second.pk).update(number=first.number),
    )


def test_duplicate_invoice_sequence_is_refused(business):
    first, second = issued(), issued()
    assert_refused_by(
        ["invoice_sequence_unique", "billing_invoice.sequence"],
        lambda: Invoice.objects.filter(pk=second.pk).update(sequence=first.sequence),
    )


def test_issued_invoice_without_number_is_refused(business):
    invoice = draft()
    assert_refused_by(
        ["invoice_issued_has_number"],
        lambda: Invoice.objects.filter(pk=invoice.pk).update(
            status=InvoiceStatus.PENDING, issue_date=TODAY
        ),
    )


def test_draft_with_a_number_is_refused(business):
    invoice = draft()
    assert_refused_by(
        ["invoice_issued_has_number"],
        lambda: Invoice.objects.filter(pk=invoice.pk).update(number="INV-9999", sequence=9999),
    )


def test_amount_paid_above_total_is_refused(invoice):
    assert_refused_by(
        ["invoice_paid_and_credited_within_total"],
        lambda: Invoice.objects.filter(pk=invoice.pk).update(amount_paid=invoice.total + D("0.01")),
    )


def test_negative_amount_paid_is_refused(invoice):
    assert_refused_by(
        ["invoice_paid_and_credited_within_total"],
        lambda: Invoice.objects.filter(pk=invoice.pk).update(amount_paid=D("-0.01")),
    )


def test_invoice_discount_above_subtotal_is_refused(invoice):
    assert_refused_by(
        ["invoice_discount_within_subtotal"],
        lambda: Invoice.objects.filter(pk=invoice.pk).update(
            discount_total=invoice.subtotal + D("0.01")
        ),
    )


def test_negative_invoice_total_is_refused(invoice):
    assert_refused_by(
        ["invoice_amounts_gte_0"],
        lambda: Invoice.objects.filter(pk=invoice.pk).update(
            total=D("-1.00"), amount_paid=D("-1.00")
        ),
    )


@pytest.mark.parametrize("amount", ["0.00", "-0.01", "-100.00"])
def test_payment_of_zero_or_less_is_refused(invoice, amount):
    assert_refused_by(
        ["payment_amount_gt_0"],
        lambda: Payment.objects.create(
            client=invoice.client,
            invoice=invoice,
            amount=D(amount),
            date=TODAY,
            method=PaymentMethod.CASH,
            status=PaymentStatus.PENDING,
        ),
    )


def test_reversed_payment_without_reason_is_refused(invoice):
    payment = pay(invoice, "10.00")
    assert_refused_by(
        ["payment_reversal_has_reason"],
        lambda: Payment.objects.filter(pk=payment.pk).update(
            status=PaymentStatus.REVERSED, reversed_at=timezone.now(), reversal_reason=""
        ),
    )


def test_reversed_payment_without_time_is_refused(invoice):
    payment = pay(invoice, "10.00")
    assert_refused_by(
        ["payment_reversal_has_reason"],
        lambda: Payment.objects.filter(pk=payment.pk).update(
            status=PaymentStatus.REVERSED, reversal_reason="Bounced"
        ),
    )


def test_confirmed_payment_without_time_is_refused(invoice):
    payment = pay(invoice, "10.00", confirmed=False)
    assert_refused_by(
        ["payment_confirmed_has_time"],
        lambda: Payment.objects.filter(pk=payment.pk).update(status=PaymentStatus.CONFIRMED),
    )


def test_client_credit_payment_without_invoice_is_refused(invoice):
    assert_refused_by(
        ["payment_credit_needs_invoice"],
        lambda: Payment.objects.create(
            client=invoice.client,
            invoice=None,
            amount=D("5.00"),
            date=TODAY,
            method=PaymentMethod.CLIENT_CREDIT,
            status=PaymentStatus.PENDING,
        ),
    )


def test_negative_line_quantity_is_refused(invoice):
    assert_refused_by(
        ["line_quantity_gte_0"],
        lambda: InvoiceLine.objects.filter(invoice=invoice).update(quantity=D("-1")),
    )


def test_negative_line_price_is_refused(invoice):
    assert_refused_by(
        ["line_price_gte_0"],
        lambda: InvoiceLine.objects.filter(invoice=invoice).update(unit_price=D("-0.0001")),
    )


@pytest.mark.parametrize("percent", ["100.001", "-0.001"])
def test_line_discount_outside_0_to_100_is_refused(invoice, percent):
    assert_refused_by(
        ["line_discount_0_to_100"],
        lambda: InvoiceLine.objects.filter(invoice=invoice).update(discount_percent=D(percent)),
    )


@pytest.mark.parametrize(
    ("kind", "amount"),
    [
        (EntryKind.MANUAL_CREDIT, "-1.00"),
        (EntryKind.PAYMENT_CONFIRMED, "-1.00"),
        (EntryKind.INVOICE_CANCELLED, "-1.00"),
        (EntryKind.MANUAL_DEBIT, "1.00"),
        (EntryKind.PAYMENT_REVERSED, "1.00"),
        (EntryKind.INVOICE_ISSUED, "1.00"),
    ],
)
def test_ledger_entry_with_the_wrong_sign_for_its_kind_is_refused(kind, amount):
    client = ClientFactory()
    assert_refused_by(
        ["ledger_entry_sign_matches_kind"],
        lambda: LedgerEntry.objects.create(
            client=client, date=TODAY, kind=kind, amount=D(amount), memo="raw write"
        ),
    )


@pytest.mark.parametrize("kind", [EntryKind.MANUAL_CREDIT, EntryKind.MANUAL_DEBIT])
def test_manual_ledger_entry_of_zero_is_refused(kind):
    client = ClientFactory()
    assert_refused_by(
        ["ledger_manual_entry_not_zero"],
        lambda: LedgerEntry.objects.create(
            client=client, date=TODAY, kind=kind, amount=D("0.00"), memo="raw write"
        ),
    )


def test_second_business_settings_row_is_refused(business):
    assert_refused_by(
        ["business_settings_singleton"], lambda: BusinessSettings.objects.create(pk=2)
    )
    assert BusinessSettings.objects.count() == 1


def test_smtp_with_both_starttls_and_ssl_is_refused(business):
    assert_refused_by(
        ["business_settings_tls_xor_ssl"],
        lambda: BusinessSettings.objects.filter(pk=business.pk).update(
            smtp_use_tls=True, smtp_use_ssl=True
        ),
    )


def test_a_payment_with_a_base_amount_but_no_rate_is_refused(invoice):
    payment = pay(invoice, "10.00")
    assert payment.exchange_rate == 1  # CAD: the base currency
    assert_refused_by(
        ["payment_in_base_has_rate"],
        lambda: Payment.objects.filter(pk=payment.pk).update(exchange_rate=None, rate_date=None),
    )
    assert_refused_by(
        ["payment_rate_gt_0"],
        lambda: Payment.objects.filter(pk=payment.pk).update(
            exchange_rate=D("0"), amount_in_base=None, settled_in_base=None
        ),
    )


def test_base_figures_that_do_not_add_up_are_refused(invoice):
    assert_refused_by(
        ["invoice_in_base_adds_up"],
        lambda: Invoice.objects.filter(pk=invoice.pk).update(total_in_base=D("1.00")),
    )
    assert_refused_by(
        ["invoice_in_base_adds_up"],
        lambda: Invoice.objects.filter(pk=invoice.pk).update(exchange_rate=None),
    )
