"""Importing: every row through the same operations as the pages, all or nothing, each
problem named by row and column."""

import datetime
from decimal import Decimal

import pytest

from billing.models import Client, Service
from billing.services import post_opening_balance
from imports import services
from imports.kinds import BALANCES, CLIENTS, SERVICES
from imports.reading import read_table
from imports.services import run_import
from ledger.events import EntryKind
from ledger.models import LedgerEntry
from otb.operations import InvalidInput, NotPermitted
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

OURS = "code,name,email,country,currency,opening_balance\n"


def run(kind, text, user, *, mapping=None, commit=True, **options):
    table = read_table(text.encode())
    if mapping is None:
        mapping, _source = services.suggested_mapping(kind, table.headers)
    return run_import(
        kind=kind, table=table, mapping=mapping, acting_user=user, commit=commit, **options
    )


def owed(code):
    return -sum(LedgerEntry.objects.filter(client__code=code).values_list("amount", flat=True))


def problems(outcome):
    return [str(problem) for problem in outcome.problems]


def test_a_preview_writes_nothing_and_the_import_everything(business, administrator):
    text = OURS + "acme,Acme,a@acme.test,DE,EUR,100\nBETA,Beta,,,,\n"
    preview = run(CLIENTS, text, administrator, commit=False)
    assert (preview.ok, preview.imported, preview.written) == (True, 2, False)
    assert [number for number, _shown in preview.shown] == [2, 3]
    assert preview.shown[0][1]["code"] == "ACME"
    assert not Client.objects.exists() and not LedgerEntry.objects.exists()
    done = run(CLIENTS, text, administrator, cut_over=datetime.date(2026, 1, 1))
    assert done.written
    beta = Client.objects.get(code="BETA")
    assert (beta.country, beta.default_currency) == ("CA", "CAD")  # the business's
    entry = LedgerEntry.objects.get()
    assert (entry.kind, entry.amount, entry.currency, entry.date) == (
        EntryKind.IMPORTED_BALANCE,
        Decimal("-100.00"),
        "EUR",
        datetime.date(2026, 1, 1),
    )
    assert owed("ACME") == Decimal("100.00")


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("X,X,not-an-email,CA,CAD,", "Row 3, column “email” (“not-an-email”): E-mail: "),
        ("X,X,,Atlantis,CAD,", "Row 3, column “country”: Country: “Atlantis” is no country"),
        ("X,X,,CA,EURO,", "Row 3, column “currency”: "),
        ("X,X,,CA,CAD,12abc", "Row 3, column “opening_balance”: Opening balance: “12abc”"),
        ("X,X,,CA,CAD,1.005", "Row 3, column “opening_balance” (“1.005”): Opening balance: "),
        ("X,X,,CA,JPY,10.50", "Row 3, column “opening_balance” (“10.50”): Opening balance: JPY"),
        ("X Y,X,,CA,CAD,", "Row 3, column “code” (“X Y”): Client code: "),
        (
            "acme,Other,,CA,CAD,",
            "Row 3, column “code” (“acme”): Client code: ACME is also on row 2.",
        ),
        ("Y,,,CA,CAD,", "Row 3, column “name”: "),
        ("Y," + "n" * 201 + ",,CA,CAD,", "Row 3, column “name” (“" + "n" * 39 + "…”): Name: "),
    ],
)
def test_a_bad_row_is_named_and_nothing_is_written(business, administrator, row, expected):
    text = OURS + "ACME,Acme,,CA,CAD,5\n" + row + "\n"
    outcome = run(CLIENTS, text, administrator)
    assert not outcome.ok and not outcome.written
    assert any(line.startswith(expected) for line in problems(outcome)), problems(outcome)
    assert all(problem.row == 3 for problem in outcome.problems)
    assert not Client.objects.exists() and not LedgerEntry.objects.exists()


def test_a_code_taken_before_the_import_is_named(business, administrator):
    ClientFactory(code="ACME")
    outcome = run(CLIENTS, OURS + "acme,Acme,,CA,CAD,\n", administrator)
    assert problems(outcome) == [
        "Row 2, column “code” (“acme”): Client code: Client with this Client code already exists."
    ]


def test_codes_are_made_from_names_when_the_file_has_none(business, administrator):
    ClientFactory(code="CAFE-MULLER")
    text = "name,country\nCafé Müller,DE\nCafé Müller,DE\n" + "Ünïcode ∑ Ltd" * 3 + ",GB\n"
    outcome = run(CLIENTS, text, administrator)
    assert outcome.ok, problems(outcome)
    assert sorted(Client.objects.values_list("code", flat=True)) == [
        "CAFE-MULLER",
        "CAFE-MULLER-2",
        "CAFE-MULLER-3",
        "UNICODE-LTDUNICODE-L",
    ]


def test_a_mapping_without_a_name_or_with_a_missing_column_is_refused(business, administrator):
    outcome = run(CLIENTS, "code,country\nA,CA\n", administrator)
    assert problems(outcome) == ["No column gives the name: choose one."]
    outcome = run(CLIENTS, "name\nA\n", administrator, mapping={"name": "name", "Nope": "email"})
    assert problems(outcome) == ["The file has no column “Nope”."]
    outcome = run(CLIENTS, "name\nA\n", administrator, mapping={"name": "password"})
    assert "“password” is no field of clients." in problems(outcome)
    outcome = run(
        SERVICES,
        "name,price,cents\nA,1,100\n",
        administrator,
        mapping={"name": "name", "price": "unit_price", "cents": "unit_price_cents"},
    )
    assert problems(outcome) == ["Give the unit price or the unit price in cents, not both."]


def test_columns_given_to_one_field_combine(business, administrator):
    text = (
        "name,first,last,street,city,owed,credit,paid ahead\nA,Jo,Doe,1 Main St,Ottawa,100,20,5\n"
    )
    mapping = {
        "name": "name",
        "first": "contact_person",
        "last": "contact_person",
        "street": "address",
        "city": "address",
        "owed": "opening_balance",
        "credit": "opening_credit",
        "paid ahead": "opening_credit",
    }
    assert run(CLIENTS, text, administrator, mapping=mapping).ok
    client = Client.objects.get()
    assert (client.contact_person, client.address) == ("Jo Doe", "1 Main St\nOttawa")
    assert owed(client.code) == Decimal("75.00")


def test_services_with_yes_no_taxes_and_prices(business, administrator):
    text = (
        "code,name,unit,unit_price,taxable,taxes,active\n"
        'DESIGN,Design,h,"1,250.50",yes,HST,true\n'
        "FREE,Free,,0,no,,0\n"
    )
    outcome = run(SERVICES, text, administrator)
    assert outcome.ok, problems(outcome)
    design = Service.objects.get(code="DESIGN")
    assert (
        design.unit_price,
        design.taxable,
        list(design.taxes.values_list("label", flat=True)),
    ) == (
        Decimal("1250.5000"),
        True,
        ["HST"],
    )
    assert Service.objects.get(code="FREE").is_active is False
    bad = run(
        SERVICES, "code,name,unit_price,taxable,taxes\nX,X,1,maybe,\nY,Y,1,,VAT\n", administrator
    )
    assert problems(bad) == [
        "Row 2, column “taxable”: Taxable: “maybe” is neither yes nor no (write yes, no, true, "
        "false, 1 or 0).",
        "Row 3, column “taxes”: Taxes: VAT is none of the business's taxes.",
    ]


def test_opening_balances_of_existing_clients_once_per_currency(business, administrator):
    ClientFactory(code="ACME", name="Acme Ltd", default_currency="CAD")
    ClientFactory(code="BETA", name="Beta")
    text = "client,opening_balance,currency\nacme,100,\nBeta,-20,USD\n"
    outcome = run(BALANCES, text, administrator, cut_over=datetime.date(2026, 1, 1))
    assert outcome.ok, problems(outcome)
    assert sorted(LedgerEntry.objects.values_list("client__code", "amount", "currency")) == [
        ("ACME", Decimal("-100.00"), "CAD"),
        ("BETA", Decimal("20.00"), "USD"),
    ]
    again = run(BALANCES, text, administrator)
    assert problems(again)[0].startswith(
        "Row 2, column “opening_balance”: Opening balance: client ACME already has one in CAD"
    )
    assert LedgerEntry.objects.count() == 2
    unknown = run(BALANCES, "client,opening_balance\nNOPE,5\nACME,0\n", administrator)
    assert problems(unknown) == [
        "Row 2, column “client”: Client: no client has the code or name “NOPE”.",
        "Row 3, column “opening_balance” (“0”): Opening balance: zero opens nothing; leave the "
        "client out.",
    ]


def test_a_cut_over_day_after_today_is_refused(business, administrator):
    with pytest.raises(InvalidInput) as refused:
        run(
            BALANCES,
            "client,opening_balance\nA,1\n",
            administrator,
            cut_over=datetime.date(2999, 1, 1),
        )
    assert refused.value.field == "cut_over"


def test_the_opening_balance_operation_refuses_zero_and_a_second_one(business, administrator):
    client = ClientFactory(code="ACME")
    with pytest.raises(InvalidInput, match="zero opens nothing"):
        post_opening_balance(client=client, owed="0", acting_user=administrator)
    post_opening_balance(client=client, owed="-12.50", acting_user=administrator)
    with pytest.raises(InvalidInput, match="already has one"):
        post_opening_balance(client=client, owed="1", acting_user=administrator)
    assert LedgerEntry.objects.get().amount == Decimal("12.50")  # credit in hand


def test_a_file_of_many_bad_rows_stops_at_the_limit(business, administrator, monkeypatch):
    monkeypatch.setattr(services, "MAX_PROBLEMS", 3)
    text = OURS + "".join(f"C{n},C,bad,CA,CAD,\n" for n in range(10))
    outcome = run(CLIENTS, text, administrator)
    assert outcome.stopped and len(outcome.problems) == 3


def test_a_viewer_may_not_import(business, viewer):
    with pytest.raises(NotPermitted):
        run(CLIENTS, OURS + "A,A,,CA,CAD,\n", viewer)
    assert not Client.objects.exists()


def test_our_own_export_imports_back(business, administrator):
    from exports.formats.csv_zip import CLIENT_COLUMNS, SERVICE_COLUMNS
    from imports.presets import template

    assert template("clients").template()[: len(CLIENT_COLUMNS)] == list(CLIENT_COLUMNS)
    assert template("services").template() == list(SERVICE_COLUMNS)


def test_a_file_without_codes_imported_twice_is_refused_the_second_time(business, administrator):
    text = "name,country,opening_balance\nAcme GmbH,DE,100\nAcme GmbH,DE,5\n"
    assert run(CLIENTS, text, administrator).ok  # two clients of one name in one file
    again = run(CLIENTS, text, administrator)
    assert problems(again) == [
        "Row 2, column “name”: Name: a client named “Acme GmbH” is on file already "
        "(ACME-GMBH); give this row a code to add another.",
        "Row 3, column “name”: Name: a client named “Acme GmbH” is on file already "
        "(ACME-GMBH); give this row a code to add another.",
    ]
    assert Client.objects.count() == 2 and LedgerEntry.objects.count() == 2


def test_a_balance_names_one_client_once(business, administrator):
    ClientFactory(code="A1", name="Acme")
    ClientFactory(code="A2", name="Acme")
    ClientFactory(code="HARBOUR", name="Harbour", default_currency="USD")
    text = "client,opening_balance\nAcme,100\nHARBOUR,10\nharbour,5\n"
    outcome = run(BALANCES, text, administrator)
    assert problems(outcome) == [
        "Row 2, column “client”: Client: A1 and A2 are both named “Acme”; give the code.",
        "Row 4, column “client” (“harbour”): Client: HARBOUR's opening balance in USD is also on "
        "row 3.",
    ]
    assert not LedgerEntry.objects.exists()


def test_a_price_in_cents_is_a_whole_number(business, administrator):
    mapping = {"name": "name", "price": "unit_price_cents"}
    outcome = run(SERVICES, "name,price\nA,95.50\n", administrator, mapping=mapping)
    assert problems(outcome) == [
        "Row 2, column “price”: Unit price in cents: “95.50” is no whole number of cents "
        "(9500 is 95.00)."
    ]


def test_a_semicolon_file_reads_its_points_as_thousands(business, administrator):
    outcome = run(BALANCES, "client;opening_balance\nACME;1.500\n", administrator)
    assert problems(outcome) == [
        "Row 2, column “client”: Client: no client has the code or name “ACME”."
    ]
    ClientFactory(code="ACME")
    assert run(BALANCES, "client;opening_balance\nACME;1.500\n", administrator).ok
    assert owed("ACME") == Decimal("1500.00")


def test_a_file_of_another_kind_is_named(business, administrator):
    from imports.presets import PRESETS

    ninja = next(p for p in PRESETS if p.name == "invoiceninja-clients")
    text = ",".join(ninja.template()) + "\n" + ",".join("1" for _h in ninja.template()) + "\n"
    outcome = run(SERVICES, text, administrator, mapping={"Name": "name"})
    assert problems(outcome) == [
        "This looks like the Invoice Ninja client export, a file of clients: upload it as clients."
    ]


def test_a_kept_mapping_serves_the_same_columns_in_another_order(business, administrator):
    services.keep_mapping(
        kind=CLIENTS,
        headers=("Firma", "Land"),
        mapping={"Firma": "name", "Land": "country"},
        acting_user=administrator,
    )
    mapping, source = services.suggested_mapping(CLIENTS, ("land", "FIRMA"))
    assert mapping == {"land": "country", "FIRMA": "name"}
    assert source == "the mapping kept from the last file with these columns"


def test_balance_columns_need_the_right_to_post_ledger_entries(business, django_user_model):
    from django.contrib.auth.models import Permission

    clerk = django_user_model.objects.create_user("clerk", password="pw-clerk-123456")
    clerk.user_permissions.add(Permission.objects.get(codename="add_client"))
    clerk = django_user_model.objects.get(pk=clerk.pk)
    assert run(CLIENTS, "name,country\nA,CA\n", clerk).ok
    with pytest.raises(NotPermitted, match="import opening balances"):
        run(CLIENTS, OURS + "B,B,,CA,CAD,5\n", clerk)


def test_a_cut_over_day_matters_only_to_balances(business, administrator):
    future = datetime.date(2999, 1, 1)
    assert run(CLIENTS, "name,country\nA,CA\n", administrator, cut_over=future).ok


def test_a_statement_shows_a_balance_brought_in(business, administrator, client):
    run(CLIENTS, OURS + "ACME,Acme,,CA,CAD,100\n", administrator)
    client.force_login(administrator)
    acme = Client.objects.get(code="ACME")
    response = client.get(f"/clients/{acme.code}/ledger/")
    assert response.status_code == 200
    assert "Balance brought in" in response.text


def test_an_upload_is_imported_once_and_only_by_its_owner(business, administrator, bookkeeper):
    pending = services.keep_upload(
        kind="services",
        file_name="s.csv",
        data=b"code,name,unit_price\nDESIGN,Design,95\n",
        cut_over=None,
        acting_user=administrator,
    )
    mapping = {"code": "code", "name": "name", "unit_price": "unit_price"}
    assert services.import_upload(pending=pending, mapping=mapping, acting_user=bookkeeper) is None
    assert services.import_upload(
        pending=pending, mapping=mapping, acting_user=administrator
    ).written
    assert (
        services.import_upload(pending=pending, mapping=mapping, acting_user=administrator) is None
    )
    assert Service.objects.count() == 1


def test_the_database_opens_an_account_once(business, administrator, monkeypatch):
    """The refusal with the first balance's amount and day is a courtesy; the account's
    row keeps the entry that opened it, so a second one is refused even past it (as two
    imports at once would be)."""
    from ledger.models import Account

    client = ClientFactory(code="ACME")
    first = post_opening_balance(client=client, owed="10", acting_user=administrator)
    monkeypatch.setattr("billing.services.payments._refuse_second_opening_balance", lambda *a: None)
    with pytest.raises(InvalidInput, match="the account of client ACME in CAD is open already"):
        post_opening_balance(client=client, owed="5", acting_user=administrator)
    assert list(LedgerEntry.objects.values_list("amount", flat=True)) == [Decimal("-10.00")]
    assert Account.objects.get(client=client).opened_by == first
    # Another currency is another account.
    post_opening_balance(client=client, owed="5", currency="USD", acting_user=administrator)


def test_the_migration_marks_the_accounts_already_opened(business, administrator):
    import importlib

    from django.apps import apps

    from ledger.models import Account

    migration = importlib.import_module("ledger.migrations.0009_account_opened_by")
    entry = post_opening_balance(
        client=ClientFactory(code="ACME"), owed="10", acting_user=administrator
    )
    Account.objects.update(opened_by=None)
    migration.mark_opened(apps, None)
    assert Account.objects.get().opened_by == entry


def test_a_load_in_bulk_opens_an_account_once(business):
    from billing import accounting
    from ledger.events import Event

    client = ClientFactory(code="ACME", default_currency="CAD")

    def brought_in(amount):
        return accounting.BulkEvent(
            event=Event.IMPORTED_BALANCE,
            client_id=client.pk,
            amount=Decimal(amount),
            currency="CAD",
            date=datetime.date(2026, 1, 1),
            memo="Balance brought in",
        )

    with pytest.raises(InvalidInput, match="is open already"):
        accounting.post_in_bulk([brought_in("-10"), brought_in("-5")])
    assert not LedgerEntry.objects.exists()
    assert accounting.post_in_bulk([brought_in("-10")]) == 1
    with pytest.raises(InvalidInput, match="is open already"):
        accounting.post_in_bulk([brought_in("-5")])
    assert LedgerEntry.objects.count() == 1
