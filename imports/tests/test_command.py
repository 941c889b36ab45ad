"""manage.py import_csv: a product's export imported, a dry run, the file refused whole for
one bad row, --map, the options it refuses, opening balances, the acting user and the
progress bar."""

import datetime
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from audit.models import AuditRecord, Source
from billing.models import Client
from billing.services import create_client
from imports.models import KeptMapping
from ledger.events import EntryKind
from ledger.models import LedgerEntry

pytestmark = pytest.mark.django_db
SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "imports-samples"
NINJA = str(SAMPLES / "invoiceninja-clients.csv")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def run(*arguments: str) -> tuple[str, str]:
    """The command's standard output and standard error."""
    out, err = io.StringIO(), io.StringIO()
    call_command("import_csv", *arguments, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def refusal(*arguments: str) -> tuple[str, str]:
    """The command's CommandError, and what it wrote to standard error before it."""
    err = io.StringIO()
    with pytest.raises(CommandError) as refused:
        call_command("import_csv", *arguments, stdout=io.StringIO(), stderr=err)
    return str(refused.value), err.getvalue()


def csv_file(tmp_path: Path, text: str, name: str = "clients.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_the_invoice_ninja_export_imports_its_three_clients(business):
    out, err = run("clients", NINJA)
    assert "Mapping from Invoice Ninja client export:" in out
    assert "  Country → country\n" in out
    assert "Not imported: Client User, Client Assigned User" in out
    assert out.endswith("Imported 3 clients.\n")
    assert err == ""
    assert sorted(Client.objects.values_list("code", "country")) == [
        ("0001", "DE"),
        ("0002", "GB"),
        ("0003", "US"),
    ]
    assert LedgerEntry.objects.filter(kind=EntryKind.IMPORTED_BALANCE).count() == 3


def test_its_audit_records_name_the_command(business):
    run("clients", NINJA)
    records = AuditRecord.objects.filter(object_type="billing.client")
    assert records.count() == 3
    assert {(r.source, r.command, r.actor_name) for r in records} == {
        (Source.COMMAND, "import_csv", "manage.py import_csv")
    }


def test_with_user_the_records_name_the_user(business, administrator):
    run("clients", NINJA, "--user", administrator.username)
    record = AuditRecord.objects.filter(object_type="billing.client").first()
    assert (record.source, record.command, record.actor_id) == (
        Source.COMMAND,
        "import_csv",
        administrator.pk,
    )


def test_the_mapping_is_kept_and_used_for_the_next_file_of_these_columns(business, tmp_path):
    first = csv_file(tmp_path, "Company,Mail\nAlpha,a@example.com\n", name="first.csv")
    run("clients", first, "--map", "Company=name", "--map", "Mail=email")
    second = csv_file(tmp_path, "Company,Mail\nBeta,b@example.com\n", name="second.csv")
    out, _err = run("clients", second)
    assert "Mapping from the mapping kept from the last file with these columns:" in out
    assert Client.objects.get(name="Beta").email == "b@example.com"


def test_a_dry_run_writes_nothing(business):
    out, _err = run("clients", NINJA, "--dry-run")
    assert out.endswith("3 clients would be imported; nothing written.\n")
    assert not Client.objects.exists()
    assert not LedgerEntry.objects.exists()
    assert not KeptMapping.objects.exists()


TEMPLATE = "code,name,email,country,currency,opening_balance\n"


def test_one_bad_row_refuses_the_whole_file_naming_row_and_column(business, tmp_path):
    path = csv_file(
        tmp_path,
        TEMPLATE
        + "A1,Alpha,a@example.com,CA,CAD,10\n"
        + "B2,Beta,b@example.com,Atlantis,CAD,\n"
        + "C3,Gamma,c@example.com,DE,EUR,\n",
    )
    message, err = refusal("clients", path)
    assert message == "1 problem: nothing was imported."
    assert err.startswith("Row 3, column “country”: Country: ")
    assert "Atlantis" in err
    assert not Client.objects.exists()
    assert not LedgerEntry.objects.exists()
    assert not KeptMapping.objects.exists()


def test_map_overrides_the_suggested_mapping(business, tmp_path):
    path = csv_file(tmp_path, "Company,Mail,Land\nAlpha,a@example.com,Germany\n")
    out, _err = run("clients", path, "--map", "company=name", "--map", "Mail=email")
    assert "  Company → name\n  Mail → email\n" in out
    assert "Not imported: Land" in out
    alpha = Client.objects.get()
    assert (alpha.name, alpha.email, alpha.country) == ("Alpha", "a@example.com", "CA")


def test_map_skip_leaves_a_column_out(business):
    run("clients", NINJA, "--map", "Country=skip")
    assert set(Client.objects.values_list("country", flat=True)) == {"CA"}


def test_a_required_field_no_column_gives_is_a_problem(business):
    message, err = refusal("clients", NINJA, "--map", "Name=-")
    assert err == "No column gives the name: choose one.\n"
    assert message == "1 problem: nothing was imported."


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ("Name", "--map Name: write HEADER=FIELD"),
        ("=name", "--map =name: write HEADER=FIELD"),
        ("Name=", "--map Name=: write HEADER=FIELD"),
        ("Name=colour", "--map Name=colour: “colour” is no field of clients; one of code, name,"),
        (
            "Shoe size=name",
            "--map Shoe size=name: the file has no column “Shoe size”; its columns: Name,",
        ),
    ],
)
def test_a_bad_map_is_refused_naming_it(business, change, words):
    message, _err = refusal("clients", NINJA, "--map", change)
    assert message.startswith(words)
    assert not Client.objects.exists()


def test_a_file_that_does_not_exist_is_refused(business, tmp_path):
    message, _err = refusal("clients", str(tmp_path / "nowhere.csv"))
    assert message == f"FILE: {tmp_path / 'nowhere.csv'} does not exist."


def test_a_folder_is_no_file(business, tmp_path):
    message, _err = refusal("clients", str(tmp_path))
    assert message == f"FILE: {tmp_path} is a folder; name a file."


def test_a_file_that_cannot_be_read_as_a_table_is_refused_with_the_reason(business, tmp_path):
    path = csv_file(tmp_path, "")
    message, _err = refusal("clients", path)
    assert message == f"{path}: The file is empty: its first row must name the columns."


def test_an_unknown_kind_is_refused(business):
    message, _err = refusal("invoices", NINJA)
    assert "invalid choice: 'invoices'" in message


def test_a_cut_over_day_after_today_is_refused(business):
    message, _err = refusal("clients", NINJA, "--cut-over", "2999-01-01")
    assert message.startswith("Cut-over day: ")
    assert "is after today" in message
    assert not Client.objects.exists()


def test_a_cut_over_that_is_no_date_is_refused(business):
    message, _err = refusal("clients", NINJA, "--cut-over", "31/12/2025")
    assert message == "Cut-over day: “31/12/2025” is not a date; use YYYY-MM-DD."


def test_opening_balances_of_existing_clients_on_the_cut_over_day(business, tmp_path):
    for code, name in (("ACME", "Acme GmbH"), ("GLOBEX", "Globex Ltd")):
        create_client(code=code, name=name, country="CA", acting_user=None)
    path = csv_file(
        tmp_path,
        "client,opening_balance,currency\nACME,1250.50,\nGlobex Ltd,-50,\n",
        name="balances.csv",
    )
    out, _err = run("balances", path, "--cut-over", "2025-12-31")
    assert out.endswith("Imported 2 opening balances.\n")
    entries = {
        (entry.client.code, entry.date, entry.amount)
        for entry in LedgerEntry.objects.filter(kind=EntryKind.IMPORTED_BALANCE)
    }
    assert entries == {
        ("ACME", datetime.date(2025, 12, 31), Decimal("-1250.50")),
        ("GLOBEX", datetime.date(2025, 12, 31), Decimal("50.00")),
    }


def test_a_balance_of_an_unknown_client_is_a_problem(business, tmp_path):
    path = csv_file(tmp_path, "client,opening_balance\nNOBODY,10\n", name="balances.csv")
    message, err = refusal("balances", path)
    assert err == "Row 2, column “client”: Client: no client has the code or name “NOBODY”.\n"
    assert not LedgerEntry.objects.exists()


def test_an_unknown_user_is_refused(business):
    message, _err = refusal("clients", NINJA, "--user", "ghost")
    assert message == "--user: there is no user ghost."


def test_a_user_without_the_permission_is_refused(business, viewer):
    message, _err = refusal("clients", NINJA, "--user", viewer.username)
    assert message == f"--user: {viewer.username} is not allowed to import clients."
    assert not Client.objects.exists()


def test_a_terminal_sees_a_progress_bar_to_the_end(business):
    stderr = Terminal()
    call_command("import_csv", "clients", NINJA, stdout=io.StringIO(), stderr=stderr)
    shown = stderr.getvalue()
    assert shown.startswith("\r[")
    assert shown.endswith(f"\r[{'#' * 30}] 3/3 rows\n")


def test_no_progress_bar_when_standard_error_is_no_terminal(business):
    _out, err = run("clients", NINJA, "--dry-run")
    assert err == ""
