"""manage.py backup and manage.py restore: a round trip on the configured database (SQLite
or MariaDB) gives back every row and every uploaded file."""

import datetime
import hashlib
import io
import json
import subprocess
import tarfile
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from billing.models import Client
from billing.services import post_manual_credit
from otb.version import app_version
from settings_app.models import Tax
from settings_app.selectors import get_business_settings
from tests.factories import ClientFactory, issued, line, pay

pytestmark = pytest.mark.django_db(transaction=True)
LOGO = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
ON_MARIADB = connection.vendor == "mysql"


@pytest.fixture
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def out_dir(tmp_path):
    return tmp_path / "backups"


@pytest.fixture
def data(migration_rows, media, django_user_model):
    """Rows made through the operations, and uploaded files."""
    django_user_model.objects.create_user(username="owner", password="pw-for-tests-1")
    business = get_business_settings()
    Tax.objects.create(label="HST", rate=Decimal("13.0000"))
    business.logo.save("logo.png", ContentFile(LOGO), save=True)
    (media / "attachments" / "2026").mkdir(parents=True)
    (media / "attachments" / "2026" / "note ü.txt").write_text("Grüße — ünïcode", "utf-8")
    client = ClientFactory(name="Zoë's Café “quoted”")
    invoice = issued(client=client, lines=[line("2.5", "85.00"), line("1", "19.99")])
    pay(invoice, "50.00")
    post_manual_credit(client=client, amount=Decimal("12.34"), memo="Goodwill", acting_user=None)
    issued()  # a second client with an open invoice


def snapshot() -> dict:
    return {
        model._meta.label: list(model.objects.order_by("pk").values())
        for model in apps.get_models()
    }


def media_files(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def run(command, *args) -> str:
    out = StringIO()
    call_command(command, *args, stdout=out, stderr=out)
    return out.getvalue()


def backup(out_dir, *args) -> Path:
    output = run("backup", "--output-dir", str(out_dir), *args)
    return Path(output.split("Backup written: ")[1].splitlines()[0])


def wipe(media):
    call_command("flush", interactive=False, verbosity=0)
    for path in sorted(media.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()


def rewrite(src: Path, dst: Path, *, member=None, content=None, manifest=None):
    """Copy an archive, replacing one member's content and/or editing the manifest."""
    with tarfile.open(src, "r:gz") as tin, tarfile.open(dst, "w:gz") as tout:
        for info in tin.getmembers():
            data = tin.extractfile(info).read()
            if info.name == member:
                data = content
            if info.name == "manifest.json" and manifest:
                doc = json.loads(data)
                manifest(doc)
                data = json.dumps(doc).encode()
            info.size = len(data)
            tout.addfile(info, io.BytesIO(data))


# --- the round trip -----------------------------------------------------------------------
def test_backup_then_restore_gives_back_every_row_and_file(data, media, out_dir):
    before, files_before = snapshot(), media_files(media)
    assert Client.objects.count() == 2 and len(files_before) == 2

    archive = backup(out_dir)
    assert archive.parent == out_dir
    assert archive.name.startswith("otb-backup-") and archive.name.endswith("Z.tar.gz")
    assert archive.stat().st_mode & 0o777 == 0o600
    assert out_dir.stat().st_mode & 0o777 == 0o700

    wipe(media)
    assert Client.objects.count() == 0 and media_files(media) == {}

    output = run("restore", str(archive))
    assert "Restored the backup" in output and "2 uploaded files" in output
    assert snapshot() == before
    assert media_files(media) == files_before


def test_the_manifest_lists_version_vendor_and_checksums(data, out_dir):
    archive = backup(out_dir)
    with tarfile.open(archive, "r:gz") as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())
        contents = {
            info.name: tar.extractfile(info).read()
            for info in tar.getmembers()
            if info.name != "manifest.json"
        }
    assert manifest["format"] == 1
    assert manifest["app_version"] == app_version() != "unknown"
    assert manifest["database"]["vendor"] == connection.vendor
    assert datetime.datetime.fromisoformat(manifest["created_at"])
    dump = "database.sql" if ON_MARIADB else "database.sqlite3"
    assert set(contents) == {dump, "media/logo/logo.png", "media/attachments/2026/note ü.txt"}
    assert {f["name"]: f["sha256"] for f in manifest["files"]} == {
        name: hashlib.sha256(body).hexdigest() for name, body in contents.items()
    }


# --- refusals -----------------------------------------------------------------------------
def test_a_tampered_archive_is_refused_and_nothing_changes(data, media, out_dir, tmp_path):
    archive = backup(out_dir)
    ClientFactory(name="Made after the backup")
    before, files_before = snapshot(), media_files(media)

    tampered = tmp_path / "tampered.tar.gz"
    rewrite(archive, tampered, member="media/logo/logo.png", content=b"not the logo")
    with pytest.raises(CommandError, match="Checksum mismatch for “media/logo/logo.png”"):
        run("restore", str(tampered), "--force")

    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    with pytest.raises(CommandError, match="damaged or truncated"):
        run("restore", str(truncated), "--force")

    assert snapshot() == before
    assert media_files(media) == files_before


def test_an_archive_of_the_other_database_is_refused(data, out_dir, tmp_path):
    archive = backup(out_dir)
    other = tmp_path / "other.tar.gz"
    rewrite(
        archive,
        other,
        manifest=lambda m: m["database"].update(vendor="sqlite" if ON_MARIADB else "mysql"),
    )
    with pytest.raises(CommandError, match="backup; this instance uses"):
        run("restore", str(other), "--force")


def test_restore_into_a_database_with_data_needs_force(data, media, out_dir):
    archive = backup(out_dir)
    ClientFactory(name="Made after the backup")
    with pytest.raises(CommandError, match="already holds users, clients or invoices"):
        run("restore", str(archive))
    assert Client.objects.filter(name="Made after the backup").exists()

    run("restore", str(archive), "--force")
    assert not Client.objects.filter(name="Made after the backup").exists()
    assert Client.objects.count() == 2


def test_restore_leaves_no_table_the_backup_did_not_have(data, out_dir):
    """An upgrade rolled back after its migration failed half-way (DDL is not transactional
    on MariaDB) must leave no table behind, or the next upgrade's migration fails on it."""
    archive = backup(out_dir)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE otb_made_after_backup (id INTEGER PRIMARY KEY)")
        cursor.execute("INSERT INTO otb_made_after_backup (id) VALUES (1)")
    before = set(connection.introspection.table_names())
    assert "otb_made_after_backup" in before

    run("restore", str(archive), "--force")
    after = set(connection.introspection.table_names())
    assert after == before - {"otb_made_after_backup"}
    assert Client.objects.count() == 2


# --- keeping the last N ---------------------------------------------------------------------
def test_keep_leaves_the_newest_n_archives(migration_rows, media, out_dir):
    out_dir.mkdir()
    (out_dir / "notes.txt").write_text("not a backup")
    made = []
    for hour in range(4):
        with time_machine.travel(datetime.datetime(2026, 3, 10, hour, 0, tzinfo=datetime.UTC)):
            made.append(backup(out_dir, "--keep", "2"))
    assert sorted(p.name for p in out_dir.iterdir()) == [
        "notes.txt",
        "otb-backup-20260310T020000Z.tar.gz",
        "otb-backup-20260310T030000Z.tar.gz",
    ]
    assert made[-1].name == "otb-backup-20260310T030000Z.tar.gz"


def test_the_setting_names_the_folder_and_how_many_to_keep(
    migration_rows, media, tmp_path, settings
):
    settings.OTB_BACKUP_DIR = tmp_path / "configured"
    settings.OTB_BACKUP_KEEP = 1
    for hour in range(3):
        with time_machine.travel(datetime.datetime(2026, 3, 10, hour, 0, tzinfo=datetime.UTC)):
            run("backup")
    assert [p.name for p in settings.OTB_BACKUP_DIR.iterdir()] == [
        "otb-backup-20260310T020000Z.tar.gz"
    ]
    # --keep on the command line wins over the setting.
    with time_machine.travel(datetime.datetime(2026, 3, 10, 5, 0, tzinfo=datetime.UTC)):
        run("backup", "--keep", "2")
    assert len(list(settings.OTB_BACKUP_DIR.iterdir())) == 2


def test_a_negative_keep_setting_is_refused(out_dir, settings):
    settings.OTB_BACKUP_KEEP = -1
    with pytest.raises(CommandError, match="OTB_BACKUP_KEEP must be 0"):
        run("backup", "--output-dir", str(out_dir))
    assert not out_dir.exists()


def test_keep_must_be_positive(out_dir):
    with pytest.raises(CommandError, match="--keep must be 1 or more"):
        run("backup", "--output-dir", str(out_dir), "--keep", "0")


# --- MariaDB ------------------------------------------------------------------------------
mariadb_only = pytest.mark.skipif(not ON_MARIADB, reason="needs DATABASE_URL=mysql://…")


ACCOUNT = ["otb_bak_pw", "%"]


@pytest.fixture
def password_user(migration_rows):
    """A MariaDB account with a password, able to dump and load the test database."""
    name = connection.settings_dict["NAME"]
    secret = "Pw-s3cret-Never-Shown-7"
    try:
        with connection.cursor() as cursor:
            cursor.execute("DROP USER IF EXISTS %s@%s", ACCOUNT)
            cursor.execute("CREATE USER %s@%s IDENTIFIED BY %s", [*ACCOUNT, secret])
            cursor.execute(f"GRANT ALL PRIVILEGES ON `{name}`.* TO %s@%s", ACCOUNT)
    except Exception as exc:  # no privilege to create accounts
        pytest.skip(f"cannot create a MariaDB account: {exc}")
    yield secret
    with connection.cursor() as cursor:
        cursor.execute("DROP USER IF EXISTS %s@%s", ACCOUNT)


@mariadb_only
def test_the_password_never_appears_on_the_command_line_or_in_output(
    password_user, media, out_dir, monkeypatch, capfd
):
    ClientFactory(name="Kept")
    # Only the backup tools log in as that account; the tests' own connection stays as it is.
    account = {**connection.settings_dict, "USER": "otb_bak_pw", "PASSWORD": password_user}
    monkeypatch.setattr("maintenance.archive._db", lambda alias="default": account)
    calls = []
    real_run = subprocess.run

    def spying_run(argv, *args, **kwargs):
        calls.append((argv, kwargs.get("env", {})))
        return real_run(argv, *args, **kwargs)

    monkeypatch.setattr(subprocess, "run", spying_run)
    output = run("backup", "--output-dir", str(out_dir))
    archive = Path(output.split("Backup written: ")[1].splitlines()[0])
    output += run("restore", str(archive), "--force")

    account["PASSWORD"] = password_user + "-wrong"
    with pytest.raises(CommandError) as refused:
        run("backup", "--output-dir", str(out_dir))
    captured = capfd.readouterr()

    # The dump (the private tables' structure in a second run of it), then the restore.
    assert [Path(argv[0]).name for argv, _env in calls][:3] in (
        ["mariadb-dump", "mariadb-dump", "mariadb"],
        ["mysqldump", "mysqldump", "mysql"],
    )
    for argv, env in calls:
        assert not any(password_user in arg for arg in argv)
        assert env["MYSQL_PWD"].startswith(password_user)
    assert "Access denied" in str(refused.value)
    for text in (output, str(refused.value), captured.out, captured.err):
        assert password_user not in text
    assert Client.objects.filter(name="Kept").exists()


@mariadb_only
def test_a_missing_client_tool_says_what_to_install(migration_rows, out_dir, monkeypatch):
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(CommandError, match="apt install mariadb-client"):
        run("backup", "--output-dir", str(out_dir))
