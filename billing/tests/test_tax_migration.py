"""The migration of the single tax to tax sets (settings_app 0008-0009, billing 0014), forward
and back, on books written in the old schema: no stored figure of any invoice changes."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.schema import purge_dropped_columns

D = Decimal
BEFORE = [
    ("billing", "0013_invoice_total_index"),
    ("settings_app", "0007_greet_the_contact_person"),
]


def migrate(targets):
    purge_dropped_columns("settings_app_businesssettings")
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


def leaf():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def figures(apps) -> dict:
    Invoice = apps.get_model("billing", "Invoice")
    InvoiceLine = apps.get_model("billing", "InvoiceLine")
    InvoiceTax = apps.get_model("billing", "InvoiceTax")
    return {
        "invoices": sorted(
            Invoice.objects.values_list("pk", "subtotal", "discount_total", "tax_total", "total")
        ),
        "lines": sorted(InvoiceLine.objects.values_list("pk", "invoice_id", "amount")),
        "taxes": sorted(
            InvoiceTax.objects.exclude(base=0, amount=0).values_list(
                "invoice_id", "label", "rate", "base", "amount"
            )
        ),
    }


def old_books(apps) -> dict:
    """An Ontario firm's books as the old schema held them: HST 13 % on a local client, a
    row of zeros on the invoices of a tax-exempt client and of a client abroad."""
    Settings = apps.get_model("settings_app", "BusinessSettings")
    Client = apps.get_model("billing", "Client")
    Invoice = apps.get_model("billing", "Invoice")
    InvoiceLine = apps.get_model("billing", "InvoiceLine")
    InvoiceTax = apps.get_model("billing", "InvoiceTax")
    settings, _created = Settings.objects.get_or_create(pk=1)
    settings.tax_label, settings.tax_rate, settings.tax_number = "HST", D("13"), "812345678 RT0001"
    settings.tax_local_clients_only, settings.local_country = True, "CA"
    settings.save()
    made = {}
    for number, (code, country, exempt, applied) in enumerate(
        [
            ("LOCAL", "CA", False, True),
            ("SCHOOL", "CA", True, False),
            ("ABROAD", "US", False, False),
        ],
        start=1,
    ):
        client = Client.objects.create(
            code=code, name=code, country=country, tax_exempt=exempt, default_currency="CAD"
        )
        tax = D("16.90") if applied else D("0.00")
        invoice = Invoice.objects.create(
            client=client,
            currency="CAD",
            number=f"INV-{number:04d}",
            sequence=number,
            status="pending",
            issue_date=datetime.date(2026, 3, number),
            due_date=datetime.date(2026, 4, number),
            discount_kind="fixed",
            discount_value=D("20.00"),
            subtotal=D("150.00"),
            discount_total=D("20.00"),
            tax_total=tax,
            total=D("130.00") + tax,
            tax_applied=applied,
        )
        InvoiceLine.objects.create(
            invoice=invoice, position=1, description="Work", unit_price=D("150"), amount=D("150")
        )
        InvoiceTax.objects.create(
            invoice=invoice,
            position=1,
            label="HST",
            rate=D("13"),
            base=D("130.00") if applied else D("0.00"),
            amount=tax,
        )
        made[code] = invoice.pk
    return made


@pytest.mark.django_db(transaction=True)
def test_the_single_tax_becomes_a_tax_set_and_back_with_every_figure_unchanged(migration_rows):
    try:
        apps = migrate(BEFORE)
        made = old_books(apps)
        before = figures(apps)
        assert len(before["taxes"]) == 1

        apps = migrate(leaf())
        assert figures(apps) == before
        Tax = apps.get_model("settings_app", "Tax")
        [hst] = Tax.objects.all()
        assert (hst.label, hst.rate, hst.number, hst.in_default_set) == (
            "HST",
            D("13.0000"),
            "812345678 RT0001",
            True,
        )
        Invoice = apps.get_model("billing", "Invoice")
        basis = dict(Invoice.objects.values_list("pk", "tax_basis"))
        assert basis == {
            made["LOCAL"]: "default",
            made["SCHOOL"]: "exempt",
            made["ABROAD"]: "foreign",
        }
        InvoiceTax = apps.get_model("billing", "InvoiceTax")
        assert list(InvoiceTax.objects.values_list("invoice_id", "number", "tax_id")) == [
            (made["LOCAL"], "812345678 RT0001", hst.pk)
        ]
        Settings = apps.get_model("settings_app", "BusinessSettings")
        assert "{taxes}" in Settings.objects.get().invoice_email_body

        apps = migrate(BEFORE)
        assert figures(apps) == before
        Settings = apps.get_model("settings_app", "BusinessSettings")
        settings = Settings.objects.get()
        assert (settings.tax_label, settings.tax_rate, settings.tax_number) == (
            "HST",
            D("13.0000"),
            "812345678 RT0001",
        )
        Invoice = apps.get_model("billing", "Invoice")
        assert dict(Invoice.objects.values_list("pk", "tax_applied")) == {
            made["LOCAL"]: True,
            made["SCHOOL"]: False,
            made["ABROAD"]: False,
        }
        InvoiceTax = apps.get_model("billing", "InvoiceTax")
        assert InvoiceTax.objects.count() == 3  # the rows of zeros are back
    finally:
        migrate(leaf())
