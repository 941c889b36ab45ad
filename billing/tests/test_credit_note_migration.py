"""The credit notes migration (billing 0015, ledger 0005, settings_app 0011, outbox 0005),
forward and back, on books written before it: every stored figure, amount paid and status
stays as it was, amount credited is 0.00, and the credit note counter row is there."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

D = Decimal
BEFORE = [
    ("billing", "0014_tax_sets"),
    ("ledger", "0004_accounts"),
    ("settings_app", "0010_taxes_placeholder"),
    ("outbox", "0004_statement_messages"),
]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


def leaf():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def figures(apps) -> list:
    Invoice = apps.get_model("billing", "Invoice")
    return sorted(
        Invoice.objects.values_list(
            "pk", "subtotal", "discount_total", "tax_total", "total", "amount_paid", "status"
        )
    )


def old_books(apps) -> None:
    """Three issued invoices as the old schema held them: one unpaid, one paid in part, one
    paid in full, each posted to its client's ledger."""
    apps.get_model("settings_app", "BusinessSettings").objects.get_or_create(pk=1)
    Client = apps.get_model("billing", "Client")
    Invoice = apps.get_model("billing", "Invoice")
    Payment = apps.get_model("billing", "Payment")
    LedgerEntry = apps.get_model("ledger", "LedgerEntry")
    client = Client.objects.create(code="ACME", name="Acme", country="CA", default_currency="CAD")
    for number, paid in enumerate([D("0.00"), D("50.00"), D("113.00")], start=1):
        invoice = Invoice.objects.create(
            client=client,
            currency="CAD",
            number=f"INV-{number:04d}",
            sequence=number,
            status={0: "pending", 50: "partial", 113: "paid"}[int(paid)],
            issue_date=datetime.date(2026, 3, number),
            due_date=datetime.date(2026, 12, 31),
            subtotal=D("100.00"),
            tax_total=D("13.00"),
            total=D("113.00"),
            amount_paid=paid,
        )
        LedgerEntry.objects.create(
            client=client,
            kind="invoice_issued",
            amount=D("-113.00"),
            currency="CAD",
            date=invoice.issue_date,
            invoice=invoice,
        )
        if paid:
            payment = Payment.objects.create(
                client=client,
                invoice=invoice,
                amount=paid,
                date=invoice.issue_date,
                method="cash",
                status="confirmed",
                confirmed_at=datetime.datetime(2026, 3, 10, tzinfo=datetime.UTC),
            )
            LedgerEntry.objects.create(
                client=client,
                kind="payment_confirmed",
                amount=paid,
                currency="CAD",
                date=invoice.issue_date,
                invoice=invoice,
                payment=payment,
            )


@pytest.mark.django_db(transaction=True)
def test_the_credit_notes_migration_changes_no_figure_forward_or_back(migration_rows):
    try:
        apps = migrate(BEFORE)
        apps.get_model("billing", "InvoiceNumberCounter").objects.filter(
            name="credit_note"
        ).delete()
        old_books(apps)
        before = figures(apps)
        assert len(before) == 3

        apps = migrate(leaf())
        assert figures(apps) == before
        Invoice = apps.get_model("billing", "Invoice")
        assert set(Invoice.objects.values_list("amount_credited", flat=True)) == {D("0.00")}
        Counter = apps.get_model("billing", "InvoiceNumberCounter")
        assert Counter.objects.get(name="credit_note").last_number == 0
        Settings = apps.get_model("settings_app", "BusinessSettings")
        assert Settings.objects.get().credit_note_number_prefix == "CN-"
        LedgerEntry = apps.get_model("ledger", "LedgerEntry")
        assert LedgerEntry.objects.filter(credit_note__isnull=False).count() == 0

        apps = migrate(BEFORE)
        assert figures(apps) == before
        Counter = apps.get_model("billing", "InvoiceNumberCounter")
        assert not Counter.objects.filter(name="credit_note").exists()
    finally:
        migrate(leaf())
