"""The presets against sample files written in each product's documented columns
(docs/imports-samples/, docs/imports-research.md cites the source of every column)."""

from decimal import Decimal
from pathlib import Path

import pytest

from billing.models import Client, Service
from imports import presets
from imports.kinds import KINDS
from imports.reading import read_table
from imports.services import run_import, suggested_mapping
from ledger.events import EntryKind
from ledger.models import LedgerEntry

pytestmark = pytest.mark.django_db
SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "imports-samples"


def imported(name, kind, user, **options):
    table = read_table((SAMPLES / name).read_bytes())
    mapping, source = suggested_mapping(KINDS[kind], table.headers)
    outcome = run_import(
        kind=KINDS[kind], table=table, mapping=mapping, acting_user=user, commit=True, **options
    )
    assert outcome.ok, [str(problem) for problem in outcome.problems]
    return outcome, source


def test_invoice_ninja_clients_come_with_their_balances(business, administrator):
    outcome, source = imported("invoiceninja-clients.csv", "clients", administrator)
    assert source == "Invoice Ninja client export"
    assert outcome.imported == 3 and outcome.written
    acme = Client.objects.get(code="0001")
    assert (acme.name, acme.country, acme.default_currency, acme.tax_number) == (
        "Acme GmbH",
        "DE",
        "EUR",
        "DE123456789",
    )
    assert acme.contact_person == "Max Mustermann" and acme.email == "max@acme.example"
    assert acme.phone == "+49 30 1234567"  # the client's phone before its contact's
    assert acme.address == "Hauptstraße 1\n3. OG\nBerlin\nBerlin\n10115"
    assert Client.objects.get(code="0002").country == "GB"
    doe = Client.objects.get(code="0003")
    assert (doe.country, doe.phone) == ("US", "+1 541 555 0100")  # the contact's phone
    entries = {
        (e.client.code, e.currency): e.amount
        for e in LedgerEntry.objects.filter(kind=EntryKind.IMPORTED_BALANCE)
    }
    # Acme owes 1250.50; Globex has 50 of credit; Doe owes 200 less 25 paid ahead.
    assert entries == {
        ("0001", "EUR"): Decimal("-1250.50"),
        ("0002", "GBP"): Decimal("50.00"),
        ("0003", "USD"): Decimal("-175.00"),
    }


def test_invoice_ninja_products_become_services(business, administrator):
    outcome, source = imported("invoiceninja-products.csv", "services", administrator)
    assert source == "Invoice Ninja product export"
    consult = Service.objects.get(code="CONSULT-HR")
    assert (consult.name, consult.unit_price, consult.taxable) == (
        "Consulting, per hour",
        Decimal("95.0000"),
        True,
    )
    assert Service.objects.get(code="TRAINING-DAY").taxable is False


def test_crater_customers_and_items(business, administrator):
    outcome, source = imported("crater-customers.csv", "clients", administrator)
    assert source == "Crater customers"
    codes = sorted(Client.objects.values_list("code", "country", "default_currency"))
    assert codes == [
        ("ACME-GMBH", "DE", "EUR"),
        ("GLOBEX-LTD", "GB", "GBP"),
        ("JOHN-DOE", "US", "USD"),
    ]
    outcome, source = imported("crater-items.csv", "services", administrator)
    assert source == "Crater items"
    hosting = Service.objects.get(code="MANAGED-HOSTING")
    assert (hosting.unit_price, hosting.unit) == (Decimal("49.9000"), "month")


def test_every_preset_is_found_by_its_own_template():
    for preset in presets.PRESETS:
        assert presets.detect(preset.kind, tuple(preset.template())) == preset, preset.name
