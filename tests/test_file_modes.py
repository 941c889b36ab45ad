"""Files that hold data are the app user's only (SPEC: Access): the quick start's var/, its
SQLite database with -wal and -shm, uploads and backups. (The installer's are checked by
deploy/tests/install_test.sh.)"""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage

ROOT = Path(__file__).resolve().parent.parent


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_sqlite_database_and_its_folder_are_private(tmp_path):
    var = tmp_path / "var"
    env = {
        **os.environ,
        "OTB_VAR_DIR": str(var),
        "OTB_ENV_FILE": "/nonexistent/otb.env",
        "SECRET_KEY": "x" * 60,
        "DJANGO_SETTINGS_MODULE": "otb.settings",
        "DATABASE_URL": "",
    }
    env.pop("DATABASE_URL")
    old = os.umask(0o022)  # a usual umask: the modes must not come from it
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
    finally:
        os.umask(old)

    assert mode(var) == 0o700
    database = var / "otb.sqlite3"
    assert mode(database) == 0o600
    for suffix in ("-wal", "-shm"):
        companion = database.with_name(database.name + suffix)
        if companion.exists():  # WAL files stay while a connection is open
            assert mode(companion) == 0o600, companion


def test_an_older_quick_starts_files_are_made_private(tmp_path):
    from otb.files import private_files

    var = tmp_path / "var"
    var.mkdir(mode=0o755)
    database = var / "otb.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        path = database.with_name(database.name + suffix)
        path.write_bytes(b"")
        path.chmod(0o644)

    private_files(database)

    assert mode(var) == 0o700
    assert {mode(database.with_name(database.name + s)) for s in ("", "-wal", "-shm")} == {0o600}


@pytest.mark.django_db
def test_uploads_are_private(tmp_path, settings):
    storage = FileSystemStorage(location=tmp_path / "media")

    name = storage.save("logo/brand.png", ContentFile(b"png"))

    assert mode(Path(storage.path(name))) == 0o600
    assert mode(tmp_path / "media" / "logo") == 0o700


@pytest.mark.django_db
def test_backups_are_private(tmp_path):
    from maintenance.archive import write_backup

    archive = write_backup(tmp_path / "backups")

    assert mode(tmp_path / "backups") == 0o700
    assert mode(archive) == 0o600
