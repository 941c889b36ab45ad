"""A file of 10,000 clients (the benchmark's, bench/imports.py) imports whole on the test
databases. How long it takes is the benchmark's to measure (bench/RESULTS.md, "Imports"),
never a test's."""

import pytest

from bench.imports import client_rows, write_file
from billing.models import Client
from imports.kinds import CLIENTS
from imports.reading import read_table
from imports.services import import_table, suggested_mapping
from ledger.events import EntryKind
from ledger.models import LedgerEntry

pytestmark = pytest.mark.django_db
COUNT = 10_000


def test_ten_thousand_clients_import_with_their_balances(business, administrator, tmp_path):
    rows = client_rows(COUNT, run="TT", seed=7)
    path = tmp_path / "clients.csv"
    write_file(path, rows)
    table = read_table(path.read_bytes())
    mapping, source = suggested_mapping(CLIENTS, table.headers)
    assert source == "OTB Billing clients (our template and export)"
    seen = []
    outcome = import_table(
        kind=CLIENTS,
        table=table,
        mapping=mapping,
        acting_user=administrator,
        progress=lambda done, total: seen.append(done),
    )
    assert outcome.ok and outcome.written, [str(p) for p in outcome.problems[:5]]
    assert (outcome.imported, seen[-1], Client.objects.count()) == (COUNT, COUNT, COUNT)
    opened = sum(1 for row in rows if row["opening_balance"])
    assert LedgerEntry.objects.filter(kind=EntryKind.IMPORTED_BALANCE).count() == opened
