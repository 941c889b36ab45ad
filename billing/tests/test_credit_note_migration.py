"""The credit notes migration (billing 0015, ledger 0005, settings_app 0011, outbox 0005),
forward and back, on books written before it: every stored figure, amount paid and status
stays as it was, amount credited is 0.00, the credit note counter row is there, the ledger
invariant (with its credit note and refund terms) holds, and the check on what is paid is
the new one forward and the old one back."""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from billing.rules import derive_status
from billing.selectors import clients_breaking_invariant
from tests.schema import purge_dropped_columns

D = Decimal
BEFORE = [
    ("billing", "0014_tax_sets"),
    ("ledger", "0004_accounts"),
    ("settings_app", "0010_taxes_placeholder"),
    ("outbox", "0004_statement_messages"),
]
# The day the statuses of the old books were last derived: INV-0005 is past due.
TODAY = datetime.date(2026, 6, 1)
CONFIRMED_AT = datetime.datetime(2026, 3, 10, 15, 0, tzinfo=datetime.UTC)


def migrate(targets):
    """Migrate to ``targets`` (what depends on a later migration of theirs is unapplied
    too); the models as the database has them then, every app's applied migrations."""
    purge_dropped_columns("settings_app_businesssettings")
    MigrationExecutor(connection).migrate(targets)
    loader = MigrationExecutor(connection).loader
    return loader.project_state(list(loader.applied_migrations)).apps


def leaf():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def figures(apps) -> dict:
    """Every stored amount and status of the books, as rows of plain values."""

    def rows(app, model, *fields):
        return sorted(apps.get_model(app, model).objects.values_list("pk", *fields))

    return {
        "invoices": rows(
            "billing",
            "Invoice",
            "number",
            "currency",
            "status",
            "subtotal",
            "discount_total",
            "tax_total",
            "total",
            "amount_paid",
        ),
        "lines": rows("billing", "InvoiceLine", "invoice_id", "quantity", "unit_price", "amount"),
        "taxes": rows("billing", "InvoiceTax", "invoice_id", "label", "rate", "base", "amount"),
        "payments": rows("billing", "Payment", "invoice_id", "amount", "method", "status"),
        "entries": rows("ledger", "LedgerEntry", "client_id", "kind", "amount", "invoice_id"),
        "accounts": rows("ledger", "Account", "client_id", "currency", "balance"),
        "counters": sorted(
            apps.get_model("billing", "InvoiceNumberCounter").objects.values_list(
                "name", "last_number"
            )
        ),
    }


class OldBooks:
    """Books as the schema before credit notes held them, written with its models: each
    issued invoice posted to its client's ledger, each confirmed payment too, and the
    accounts holding the sums."""

    def __init__(self, apps):
        self.apps = apps
        self.model = apps.get_model
        self.number = 0

    def client(self, code, currency):
        return self.model("billing", "Client").objects.create(
            code=code, name=code.title(), country="CA", default_currency=currency
        )

    def invoice(self, client, *, status, due=datetime.date(2026, 12, 31), paid="0.00"):
        """An invoice of one line, 100.00 with 13 % HST (outside Canada, 200.00 untaxed)."""
        local = client.default_currency == "CAD"
        subtotal, tax = (D("100.00"), D("13.00")) if local else (D("200.00"), D("0.00"))
        issued = status != "draft"
        if issued:
            self.number += 1
        invoice = self.model("billing", "Invoice").objects.create(
            client=client,
            currency=client.default_currency,
            number=f"INV-{self.number:04d}" if issued else None,
            sequence=self.number if issued else None,
            status=status,
            issue_date=datetime.date(2026, 3, 2) if issued else None,
            due_date=due,
            subtotal=subtotal,
            tax_total=tax,
            total=subtotal + tax,
            amount_paid=D(paid),
            tax_basis="default" if local else "foreign",
        )
        self.model("billing", "InvoiceLine").objects.create(
            invoice=invoice, position=1, description="Work", unit_price=subtotal, amount=subtotal
        )
        if local:
            self.model("billing", "InvoiceTax").objects.create(
                invoice=invoice, position=1, label="HST", rate=D("13"), base=subtotal, amount=tax
            )
        if issued:
            self.post(client, "invoice_issued", -invoice.total, invoice=invoice)
        return invoice

    def cancel(self, invoice):
        invoice.status = "cancelled"
        invoice.cancelled_at = CONFIRMED_AT
        invoice.cancel_reason = "Wrong client"
        invoice.save()
        self.post(invoice.client, "invoice_cancelled", invoice.total, invoice=invoice)

    def payment(self, client, amount, *, invoice=None, status="confirmed"):
        payment = self.model("billing", "Payment").objects.create(
            client=client,
            invoice=invoice,
            amount=D(amount),
            date=datetime.date(2026, 3, 10),
            method="bank_transfer",
            status=status,
            confirmed_at=CONFIRMED_AT if status != "pending" else None,
            reversed_at=CONFIRMED_AT if status == "reversed" else None,
            reversal_reason="Cheque bounced" if status == "reversed" else "",
        )
        if status != "pending":
            self.post(client, "payment_confirmed", D(amount), invoice=invoice, payment=payment)
        if status == "reversed":
            self.post(client, "payment_reversed", -D(amount), invoice=invoice, payment=payment)
        return payment

    def post(self, client, kind, amount, **links):
        self.model("ledger", "LedgerEntry").objects.create(
            client=client,
            kind=kind,
            amount=amount,
            currency=client.default_currency,
            date=datetime.date(2026, 3, 10),
            memo=kind,
            **links,
        )
        account, _ = self.model("ledger", "Account").objects.get_or_create(
            client=client, currency=client.default_currency, defaults={"balance": D("0.00")}
        )
        account.balance += amount
        account.save()

    def write(self) -> None:
        """Invoices of every status an invoice could have then, with their payments."""
        self.model("settings_app", "BusinessSettings").objects.get_or_create(pk=1)
        acme, globex = self.client("ACME", "CAD"), self.client("GLOBEX", "USD")
        self.invoice(acme, status="pending")
        partial = self.invoice(acme, status="partial", paid="50.00")
        self.payment(acme, "50.00", invoice=partial)
        self.payment(acme, "20.00", invoice=partial, status="pending")
        paid = self.invoice(acme, status="paid", paid="113.00")
        self.payment(acme, "113.00", invoice=paid)
        overpaid = self.invoice(acme, status="paid", paid="113.00")
        self.payment(acme, "150.00", invoice=overpaid)  # 37.00 of credit
        overdue = self.invoice(acme, status="overdue", due=datetime.date(2026, 4, 1))
        self.payment(acme, "13.00", invoice=overdue)
        overdue.amount_paid = D("13.00")
        overdue.save()
        self.cancel(self.invoice(acme, status="pending"))
        bounced = self.invoice(acme, status="pending")
        self.payment(acme, "113.00", invoice=bounced, status="reversed")
        self.invoice(acme, status="draft")
        abroad = self.invoice(globex, status="partial", paid="80.00")
        self.payment(globex, "80.00", invoice=abroad)
        self.payment(globex, "25.00")  # on account
        self.model("billing", "InvoiceNumberCounter").objects.update_or_create(
            name="invoice", defaults={"last_number": self.number}
        )


def refused(update) -> bool:
    """Whether the database refuses ``update`` (a check constraint)."""
    try:
        with transaction.atomic():
            update()
    except IntegrityError:
        return True
    return False


@pytest.mark.django_db(transaction=True)
def test_the_credit_notes_migration_changes_no_figure_forward_or_back(migration_rows):
    try:
        apps = migrate(BEFORE)
        # The migration back removed the credit note counter the fixture wrote.
        Counter = apps.get_model("billing", "InvoiceNumberCounter")
        assert not Counter.objects.filter(name="credit_note").exists()
        OldBooks(apps).write()
        before = figures(apps)
        statuses = {status for _, _, _, status, *_ in before["invoices"]}
        assert statuses == {"draft", "pending", "partial", "paid", "overdue", "cancelled"}

        apps = migrate(leaf())
        after = figures(apps)
        # The way forward also makes the series that came later (quotes).
        assert after["counters"] == sorted([*before["counters"], ("credit_note", 0), ("quote", 0)])
        assert {**after, "counters": before["counters"]} == before
        Invoice = apps.get_model("billing", "Invoice")
        assert set(Invoice.objects.values_list("amount_credited", flat=True)) == {D("0.00")}
        # Each stored status is the one the rules with credit notes give.
        for invoice in Invoice.objects.all():
            assert invoice.status == derive_status(invoice, today=TODAY), invoice.number
        Settings = apps.get_model("settings_app", "BusinessSettings")
        assert Settings.objects.get().credit_note_number_prefix == "CN-"
        LedgerEntry = apps.get_model("ledger", "LedgerEntry")
        assert not LedgerEntry.objects.exclude(credit_note=None, refund=None).exists()
        assert clients_breaking_invariant() == []
        # Paid 50.00 of 113.00: no more than 63.00 can be credited.
        partial = Invoice.objects.filter(number="INV-0002")
        assert refused(lambda: partial.update(amount_credited=D("63.01")))
        assert not refused(lambda: partial.update(amount_credited=D("63.00")))
        partial.update(amount_credited=D("0.00"))

        apps = migrate(BEFORE)
        assert figures(apps) == before
        Counter = apps.get_model("billing", "InvoiceNumberCounter")
        assert not Counter.objects.filter(name="credit_note").exists()
        Invoice = apps.get_model("billing", "Invoice")
        pending = Invoice.objects.filter(number="INV-0001")
        assert refused(lambda: pending.update(amount_paid=D("113.01")))
    finally:
        migrate(leaf())
