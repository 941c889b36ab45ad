"""The import pages at /imports/: upload, mapping and preview, import; who may use them,
and every refusal a clear message on the page, never a 500 (SPEC: Exports and imports)."""

import datetime
import re
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.html import escape

from billing.models import Client, Service
from billing.services import create_client
from imports import presets, services
from imports.models import KeptMapping, PendingImport
from imports.reading import read_table
from ledger.events import EntryKind
from ledger.models import LedgerEntry

pytestmark = pytest.mark.django_db
URL = "/imports/"
SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "imports-samples"
NINJA = (SAMPLES / "invoiceninja-clients.csv").read_bytes()
BAD_EMAIL = b"Name,Email\nAcme,acme@example.com\nGlobex,not an address\nInitech,i@example.com\n"


@pytest.fixture
def admin_client(client, administrator, business):
    client.force_login(administrator)
    return client


def upload(browser, data: bytes, kind: str = "clients", name: str = "file.csv", **fields):
    return browser.post(URL, {"kind": kind, "file": SimpleUploadedFile(name, data), **fields})


def uploaded(browser, data: bytes, kind: str = "clients", **fields) -> str:
    """The preview page's address of a file that was taken."""
    response = upload(browser, data, kind, **fields)
    assert response.status_code == 302, response.content.decode()
    assert re.fullmatch(r"/imports/[0-9a-f-]{36}/", response["Location"])
    return response["Location"]


def choices(response) -> dict[str, str]:
    """What the preview's mapping form would send as it is shown."""
    form = response.context["form"]
    return {name: form.initial.get(name, "") for name in form.fields}


def preview_rows(text: str) -> int:
    table = text.split('id="import-preview"')[1].split("</table>")[0]
    return table.split("<tbody>")[1].count("<tr>")


def test_the_page_offers_the_kinds_the_presets_and_the_templates(admin_client):
    response = admin_client.get(URL)
    assert response.status_code == 200
    for preset in presets.PRESETS:
        assert escape(str(preset.label)) in response.text
    for kind in ("clients", "services", "balances"):
        assert f'href="/imports/template/{kind}.csv"' in response.text
        assert f'value="{kind}"' in response.text
    assert "manage.py import_csv KIND FILE" in response.text
    assert "2,000 rows" in response.text


@pytest.mark.parametrize("kind", ["clients", "services", "balances"])
def test_our_template_is_a_header_row_our_preset_recognises(admin_client, kind):
    response = admin_client.get(f"/imports/template/{kind}.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="{kind}.csv"'
    table = read_table(response.content)
    assert list(table.headers) == presets.template(kind).template()
    assert table.rows == ()
    assert presets.detect(kind, table.headers) == presets.template(kind)


def test_an_unknown_template_is_not_found(admin_client):
    assert admin_client.get("/imports/template/invoices.csv").status_code == 404


def test_a_viewer_may_not_import(client, viewer, business):
    client.force_login(viewer)
    assert client.get(URL).status_code == 403
    assert upload(client, NINJA).status_code == 403
    assert client.get("/imports/template/clients.csv").status_code == 403
    assert f'href="{URL}"' not in client.get("/").text
    assert PendingImport.objects.count() == 0


def test_the_menu_links_the_page_for_a_bookkeeper(client, bookkeeper, business):
    client.force_login(bookkeeper)
    assert f'href="{URL}"' in client.get("/").text
    assert client.get(URL).status_code == 200


def test_the_page_needs_a_login(client, business):
    response = client.get(URL)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_an_invoice_ninja_export_is_previewed_then_imported(admin_client):
    preview = uploaded(admin_client, NINJA)
    response = admin_client.get(preview)
    assert response.status_code == 200
    assert "Mapping: Invoice Ninja client export." in response.text
    assert preview_rows(response.text) == 3
    assert "3 clients will be imported." in response.text
    assert "Import 3 clients" in response.text
    assert "1,250.50 EUR" in response.text
    assert Client.objects.count() == 0  # the preview writes nothing
    assert LedgerEntry.objects.count() == 0

    response = admin_client.post(preview, {**choices(response), "action": "import"}, follow=True)
    assert response.redirect_chain == [("/clients/", 302)]
    assert "Imported 3 clients." in response.text
    assert set(Client.objects.values_list("code", flat=True)) == {"0001", "0002", "0003"}
    balances = {
        entry.client.code: entry.amount
        for entry in LedgerEntry.objects.filter(kind=EntryKind.IMPORTED_BALANCE)
    }
    assert balances == {
        "0001": Decimal("-1250.50"),
        "0002": Decimal("50.00"),
        "0003": Decimal("-175.00"),
    }
    assert PendingImport.objects.count() == 0
    assert KeptMapping.objects.count() == 1


def test_the_mapping_chosen_is_kept_for_the_next_file_with_these_columns(admin_client):
    preview = uploaded(admin_client, NINJA)
    sent = choices(admin_client.get(preview))
    website = "column_7"
    assert admin_client.get(preview).context["form"].table.headers[7] == "Website"
    assert sent[website] == ""
    sent[website] = "notes"
    response = admin_client.post(preview, {**sent, "action": "check"})
    assert response.status_code == 200
    assert "Mapping: your choices." in response.text
    response = admin_client.post(preview, {**choices(response), "action": "import"})
    assert response.status_code == 302
    acme = Client.objects.get(code="0001")
    assert acme.notes == "https://acme.example\nKey account; invoice by PDF only"

    response = admin_client.get(uploaded(admin_client, NINJA))
    assert "Mapping: the mapping kept from the last file with these columns." in response.text
    assert choices(response)[website] == "notes"


def test_a_bad_row_is_named_and_the_file_cannot_be_imported(admin_client):
    preview = uploaded(admin_client, BAD_EMAIL)
    response = admin_client.get(preview)
    assert response.status_code == 200
    assert "Mapping: the columns&#x27; names." in response.text
    assert escape("Row 3, column “Email” (“not an address”): ") in response.text
    assert 'id="import-button"' not in response.text
    assert "Import " not in response.text.split('id="mapping-form"')[1]

    # Sent anyway (a page kept open, or made by hand): nothing is written.
    response = admin_client.post(preview, {**choices(response), "action": "import"})
    assert response.status_code == 400
    assert escape("Row 3, column “Email” (“not an address”): ") in response.text
    assert Client.objects.count() == 0
    assert PendingImport.objects.count() == 1


def test_rows_that_meet_a_change_of_the_books_since_the_preview_are_named(
    admin_client, administrator
):
    preview = uploaded(admin_client, NINJA)
    sent = choices(admin_client.get(preview))
    create_client(acting_user=administrator, code="0002", name="Typed meanwhile", country="CA")
    response = admin_client.post(preview, {**sent, "action": "import"})
    assert response.status_code == 400
    assert escape("Row 3, column “Number” (“0002”): Client code: ") in response.text
    assert list(Client.objects.values_list("name", flat=True)) == ["Typed meanwhile"]
    assert LedgerEntry.objects.count() == 0


def test_columns_changed_without_a_check_are_previewed_not_imported(admin_client):
    preview = uploaded(admin_client, NINJA)
    sent = choices(admin_client.get(preview))
    sent["column_7"] = "notes"  # the website, chosen, and "Import" pressed at once
    response = admin_client.post(preview, {**sent, "action": "import"})
    assert response.status_code == 200
    assert escape("The columns changed since the preview: check it again, then import.") in (
        response.text
    )
    assert Client.objects.count() == 0
    # The preview now shown is of those columns: importing it takes them.
    response = admin_client.post(preview, {**choices(response), "action": "import"})
    assert response.status_code == 302
    assert Client.objects.get(code="0001").notes.startswith("https://acme.example\n")


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "CSV file: the file is empty"),
        (b"\n\n", "CSV file: The file is empty: its first row must name the columns."),
        (b"PK\x03\x04\x14\x00\x06\x00\x08\x00!\x00", "CSV file: This is a workbook or a zip"),
        (b"%PDF-1.7\n%\xe2\xe3", "CSV file: This is a PDF, not CSV"),
        ("Name,Email\r\n".encode("utf-16"), "CSV file: This is UTF-16 text"),
        (b"Name,Email\nAcme,\x81\x8d\n", "CSV file: Row 2, column “Email”: this byte is neither"),
        (
            "Name,City\nCafé,Köln\n".encode() + "Müller,Zürich\n".encode("cp1252"),
            "CSV file: The file mixes two encodings",
        ),
    ],
    ids=["empty", "blank-lines", "xlsx", "pdf", "utf-16", "bad-byte", "mixed-encodings"],
)
def test_a_file_that_cannot_be_read_shows_the_form_with_why(admin_client, data, words):
    response = upload(admin_client, data)
    assert response.status_code == 400
    errors = response.text.split('id="import-errors"')[1].split("</div>")[0]
    assert escape(words) in errors
    assert 'id="import-form"' in response.text
    assert PendingImport.objects.count() == 0


def test_an_image_is_refused(admin_client):
    response = upload(admin_client, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x81\x8d", name="a.png")
    assert response.status_code == 400
    assert "or no text at all" in response.text
    assert PendingImport.objects.count() == 0


def test_no_file_or_kind_is_a_field_error(admin_client):
    response = admin_client.post(URL, {"kind": "clients"})
    assert response.status_code == 400
    assert "CSV file: choose the file to import." in response.text
    response = admin_client.post(URL, {"kind": "invoices", "file": SimpleUploadedFile("a", NINJA)})
    assert response.status_code == 400
    assert "The file holds: choose clients, services or opening balances." in response.text
    assert PendingImport.objects.count() == 0


def test_a_file_larger_than_a_page_takes_says_to_use_the_command(admin_client, monkeypatch):
    monkeypatch.setattr(services, "PAGE_ROWS", 2)
    response = upload(admin_client, NINJA)
    assert response.status_code == 400
    assert "manage.py import_csv clients FILE" in response.text
    assert "holds 3 rows; a page imports at most 2" in response.text
    assert PendingImport.objects.count() == 0


def test_a_cut_over_day_after_today_is_refused(admin_client):
    later = (datetime.date.today() + datetime.timedelta(days=3)).isoformat()
    response = upload(admin_client, NINJA, cut_over=later)
    assert response.status_code == 400
    assert "Cut-over day: " in response.text and "is after today" in response.text
    assert PendingImport.objects.count() == 0


def test_opening_balances_are_dated_on_the_cut_over_day(admin_client, administrator):
    create_client(acting_user=administrator, code="ACME", name="Acme", country="CA")
    data = b"client,opening_balance\nACME,120.50\n"
    preview = uploaded(admin_client, data, kind="balances", cut_over="2026-01-31")
    response = admin_client.get(preview)
    assert "Mapping: OTB Billing opening balances (our template)." in response.text
    assert "1 opening balance will be imported." in response.text
    response = admin_client.post(preview, {**choices(response), "action": "import"}, follow=True)
    assert response.redirect_chain == [("/clients/", 302)]
    assert "Imported 1 opening balance." in response.text
    entry = LedgerEntry.objects.get(kind=EntryKind.IMPORTED_BALANCE)
    assert (entry.date, entry.amount) == (datetime.date(2026, 1, 31), Decimal("-120.50"))


def test_services_go_to_the_list_of_services(admin_client):
    data = (SAMPLES / "invoiceninja-products.csv").read_bytes()
    preview = uploaded(admin_client, data, kind="services")
    response = admin_client.get(preview)
    assert "Mapping: Invoice Ninja product export." in response.text
    response = admin_client.post(preview, {**choices(response), "action": "import"})
    assert response.status_code == 302 and response["Location"] == "/services/"
    assert Service.objects.count() > 0


def test_another_users_file_is_not_found(client, admin_client, bookkeeper):
    preview = uploaded(admin_client, NINJA)
    sent = choices(admin_client.get(preview))
    client.force_login(bookkeeper)
    assert client.get(preview).status_code == 404
    assert client.post(preview, {**sent, "action": "import"}).status_code == 404
    assert client.post(preview, {"action": "discard"}).status_code == 404
    assert Client.objects.count() == 0 and PendingImport.objects.count() == 1


@pytest.mark.parametrize("address", ["/imports/1/", "/imports/not-a-uuid/"])
def test_an_address_that_is_no_file_is_not_found(admin_client, address):
    assert admin_client.get(address).status_code == 404


def test_a_mapping_changed_by_hand_is_refused_with_a_message(admin_client):
    preview = uploaded(admin_client, NINJA)
    sent = choices(admin_client.get(preview))
    for action in ("check", "import"):
        response = admin_client.post(
            preview, {**sent, "column_0": "is_staff", "column_999": "name", "action": action}
        )
        assert response.status_code == 400
        refused = "“is_staff” is none of the fields of clients; choose one from the list."
        assert escape(f"Column “Name”: {refused}") in response.text
    response = admin_client.post(preview, {"action": "import", "column_0": ["name", "code"]})
    assert response.status_code in (200, 400)
    assert Client.objects.count() == 0


def test_a_mapping_without_a_required_field_says_which(admin_client):
    preview = uploaded(admin_client, NINJA)
    sent = {**choices(admin_client.get(preview)), "column_0": ""}
    response = admin_client.post(preview, {**sent, "action": "check"})
    assert response.status_code == 200
    assert "No column gives the name: choose one." in response.text
    assert 'id="import-button"' not in response.text


def test_a_windows_1252_file_imports_its_accented_letters(admin_client):
    data = "Name,Email\r\nCafé Müller,cafe@example.com\r\n".encode("cp1252")
    preview = uploaded(admin_client, data)
    response = admin_client.get(preview)
    assert "read as Windows-1252" in response.text
    assert "Café Müller" in response.text
    response = admin_client.post(preview, {**choices(response), "action": "import"})
    assert response.status_code == 302
    assert Client.objects.get().name == "Café Müller"


def test_a_discarded_file_is_gone(admin_client):
    preview = uploaded(admin_client, NINJA)
    response = admin_client.post(preview, {"action": "discard"})
    assert response.status_code == 302 and response["Location"] == URL
    assert PendingImport.objects.count() == 0
    assert admin_client.get(preview).status_code == 404


def test_the_files_waiting_are_listed_for_their_user(admin_client):
    preview = uploaded(admin_client, NINJA, name="ninja.csv")
    response = admin_client.get(URL)
    assert f'href="{preview}"' in response.text


def test_a_file_larger_than_a_page_takes_in_bytes_says_to_use_the_command(
    admin_client, monkeypatch
):
    monkeypatch.setattr(services, "MAX_UPLOAD_BYTES", 100)
    response = upload(admin_client, NINJA)
    assert response.status_code == 400
    assert "import it with the command (manage.py import_csv)" in response.text
    assert PendingImport.objects.count() == 0


def test_a_second_click_on_import_imports_nothing_more(admin_client):
    data = b"Name\nAcme\nGlobex\n"  # no codes: made from the names, again each time
    preview = uploaded(admin_client, data)
    sent = {**choices(admin_client.get(preview)), "action": "import"}
    assert admin_client.post(preview, sent).status_code == 302
    response = admin_client.post(preview, sent, follow=True)
    assert response.redirect_chain == [(URL, 302)]
    assert "This file was imported or discarded already." in response.text
    assert sorted(Client.objects.values_list("code", flat=True)) == ["ACME", "GLOBEX"]


def test_a_cut_over_day_now_after_today_is_shown_as_the_problem(admin_client):
    today = datetime.date(2026, 3, 10)
    with time_machine.travel(datetime.datetime(2026, 3, 10, 17, tzinfo=datetime.UTC)):
        preview = uploaded(admin_client, NINJA, cut_over=today.isoformat())
    with time_machine.travel(datetime.datetime(2026, 3, 8, 17, tzinfo=datetime.UTC)):
        response = admin_client.get(preview)
        assert response.status_code == 200
        assert "Cut-over day: " in response.text and "is after today" in response.text
        assert 'id="import-button"' not in response.text
        response = admin_client.post(preview, {**choices(response), "action": "import"})
    assert response.status_code == 400
    assert Client.objects.count() == 0


def test_a_user_is_offered_only_the_kinds_they_may_import(client, business, django_user_model):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user(username="clerk", password="pw-for-tests-1")
    user.user_permissions.add(Permission.objects.get(codename="add_client"))
    client.force_login(user)
    response = client.get(URL)
    assert 'value="clients"' in response.text and 'value="balances"' not in response.text
    assert client.get("/imports/template/balances.csv").status_code == 403
    data = b"client,opening_balance\nACME,1\n"
    response = upload(client, data, kind="balances")
    assert response.status_code == 400
    assert "The file holds: choose clients, services or opening balances." in response.text
