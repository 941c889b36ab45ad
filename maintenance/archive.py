"""Backup archives: one .tar.gz holding the database dump, the uploaded files and a manifest.

Layout of an archive::

    database.sqlite3 | database.sql   the dump, made with the database's own tool
    media/...                         every file under MEDIA_ROOT
    manifest.json                     format, app version, vendor, created_at and the
                                      SHA-256 of every other member (written last)

``write_backup`` makes one; ``restore_backup`` checks every checksum before it changes
anything, then puts the database and the files back. Both raise ``BackupError`` with a
sentence for the operator.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from django.conf import settings
from django.db import DatabaseError, connections

from otb.version import app_version

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_DUMP = "database.sqlite3"
MYSQL_DUMP = "database.sql"
MEDIA_PREFIX = "media/"
ARCHIVE_PATTERN = re.compile(r"^otb-backup-(\d{8}T\d{6}Z)(?:-(\d+))?\.tar\.gz$")
CHUNK = 1024 * 1024
MISSING_CLIENT = (
    "“%(tool)s” was not found. Install the MariaDB client tools "
    "(Debian/Ubuntu: sudo apt install mariadb-client) and try again."
)


class BackupError(Exception):
    """Backup or restore refused or failed; the message says why and what to do."""


@dataclass
class Restored:
    created_at: str
    app_version: str
    files: int


def default_output_dir() -> Path:
    return Path(settings.OTB_BACKUP_DIR)


def _db(alias="default") -> dict:
    # The live connection's settings: under the test runner its NAME is the test database.
    return connections[alias].settings_dict


def _vendor(alias="default") -> str:
    return connections[alias].vendor


# --- helpers ------------------------------------------------------------------------------
class _HashingReader:
    """Hashes what tarfile reads, so the checksum is of exactly the bytes archived."""

    def __init__(self, fh):
        self.fh = fh
        self.sha = hashlib.sha256()

    def read(self, size=-1):
        data = self.fh.read(size)
        self.sha.update(data)
        return data


def _tool(*names: str) -> str:
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    raise BackupError(MISSING_CLIENT % {"tool": names[0]})


def _mysql_args(db: dict) -> tuple[list[str], dict]:
    """Connection options for the MariaDB tools; the password goes in the environment
    (MYSQL_PWD), never on the command line where ``ps`` would show it."""
    args = []
    options = db.get("OPTIONS") or {}
    if options.get("unix_socket"):
        args.append(f"--socket={options['unix_socket']}")
    elif db.get("HOST"):
        args.append(f"--host={db['HOST']}")
        if db.get("PORT"):
            args.append(f"--port={db['PORT']}")
    if db.get("USER"):
        args.append(f"--user={db['USER']}")
    env = dict(os.environ)
    env.pop("MYSQL_PWD", None)
    if db.get("PASSWORD"):
        env["MYSQL_PWD"] = str(db["PASSWORD"])
    return args, env


def _run(argv: list[str], env: dict, db: dict, what: str, **kwargs) -> None:
    kwargs.setdefault("stdout", subprocess.DEVNULL)
    result = subprocess.run(argv, env=env, stderr=subprocess.PIPE, **kwargs)
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip()
        if db.get("PASSWORD"):
            message = message.replace(str(db["PASSWORD"]), "********")
        raise BackupError(f"{what} failed (exit code {result.returncode}): {message}")


def _member(tar: tarfile.TarFile, member: str | tarfile.TarInfo) -> IO[bytes]:
    """A regular file of the archive, opened; a link or a folder is refused."""
    opened = tar.extractfile(member)
    if opened is None:
        name = member if isinstance(member, str) else member.name
        raise BackupError(f"“{name}” in the backup is not a regular file.")
    return opened


def _safe_member_name(name: str) -> bool:
    path = PurePosixPath(name)
    return bool(name) and not path.is_absolute() and ".." not in path.parts


# --- backup -------------------------------------------------------------------------------
def private_tables() -> list[str]:
    """Tables a backup holds empty: live sessions (a stolen backup must not sign anyone in)
    and the second factors' secrets (after a restore, each user sets the second factor up
    again; SECURITY.md). Every other secret is stored encrypted (otb/secrets.py)."""
    from django.contrib.sessions.models import Session
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return [model._meta.db_table for model in (Session, StaticToken, StaticDevice, TOTPDevice)]


def _dump_sqlite(target: Path) -> None:
    # The online backup API: a consistent copy even while the app writes.
    source = sqlite3.connect(_db()["NAME"])
    dest = sqlite3.connect(target)
    try:
        with dest:
            source.backup(dest)
        with dest:
            for table in private_tables():
                dest.execute(f'DELETE FROM "{table}"')
        dest.execute("VACUUM")  # the deleted rows' bytes leave the file too
    finally:
        dest.close()
        source.close()


def _dump_mysql(target: Path) -> None:
    db = _db()
    tool = _tool("mariadb-dump", "mysqldump")
    args, env = _mysql_args(db)
    argv = [
        tool,
        *args,
        "--single-transaction",
        # Tablespace information needs the PROCESS privilege, which the installer's
        # least-privilege account lacks; OTB Billing uses no tablespaces of its own.
        "--no-tablespaces",
        "--routines",
        "--triggers",
        "--hex-blob",
        "--default-character-set=utf8mb4",
        "--skip-comments",
    ]
    name = str(db["NAME"])
    private = private_tables()
    ignored = [f"--ignore-table={name}.{table}" for table in private]
    with open(target, "wb") as out:
        _run([*argv, *ignored, name], env, db, Path(tool).name, stdout=out)
        # The private tables' structure only, so that a restore has them, empty.
        _run([*argv, "--no-data", name, *private], env, db, Path(tool).name, stdout=out)


def _archive_name(output_dir: Path, now: datetime.datetime) -> Path:
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    candidate = output_dir / f"otb-backup-{stamp}.tar.gz"
    n = 1
    while candidate.exists():
        candidate = output_dir / f"otb-backup-{stamp}-{n}.tar.gz"
        n += 1
    return candidate


def write_backup(output_dir: Path | None = None) -> Path:
    """Write one archive to ``output_dir`` and return its path."""
    output_dir = Path(output_dir or default_output_dir())
    output_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    vendor = _vendor()
    if vendor not in ("sqlite", "mysql"):
        raise BackupError(f"Backups support SQLite and MariaDB, not “{vendor}”.")
    now = datetime.datetime.now(datetime.UTC)
    target = _archive_name(output_dir, now)
    partial = target.with_name(f".{target.name}.partial")
    members: list[dict] = []

    with tempfile.TemporaryDirectory(prefix=".staging-", dir=output_dir) as staging:
        dump_name = SQLITE_DUMP if vendor == "sqlite" else MYSQL_DUMP
        dump = Path(staging) / dump_name
        if vendor == "sqlite":
            _dump_sqlite(dump)
        else:
            _dump_mysql(dump)

        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:

                def add(path: Path, name: str) -> None:
                    info = tar.gettarinfo(str(path), arcname=name)
                    info.uid = info.gid = 0
                    info.uname = info.gname = ""
                    with open(path, "rb") as fh:
                        reader = _HashingReader(fh)
                        tar.addfile(info, reader)
                    members.append(
                        {"name": name, "size": info.size, "sha256": reader.sha.hexdigest()}
                    )

                add(dump, dump_name)
                media_root = Path(settings.MEDIA_ROOT)
                if media_root.is_dir():
                    for path in sorted(media_root.rglob("*")):
                        if path.is_file() and not path.is_symlink():
                            rel = path.relative_to(media_root).as_posix()
                            add(path, MEDIA_PREFIX + rel)

                manifest = {
                    "format": FORMAT_VERSION,
                    "app": "otb-billing",
                    "app_version": app_version(),
                    "database": {"vendor": vendor, "dump": dump_name},
                    "created_at": now.isoformat().replace("+00:00", "Z"),
                    "files": members,
                }
                data = json.dumps(manifest, indent=2).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size = len(data)
                info.mtime = int(now.timestamp())
                info.mode = 0o600
                tar.addfile(info, io.BytesIO(data))
            os.replace(partial, target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return target


def prune(output_dir: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` backup archives in ``output_dir``."""
    found = []
    for path in Path(output_dir).iterdir():
        match = ARCHIVE_PATTERN.match(path.name)
        if match and path.is_file():
            found.append(((match.group(1), int(match.group(2) or 0)), path))
    found.sort(reverse=True)
    removed = []
    for _key, path in found[keep:]:
        path.unlink()
        removed.append(path)
    return removed


# --- restore ------------------------------------------------------------------------------
def _read_verified(archive: Path, staging: Path) -> dict:
    """Extract ``archive`` into ``staging`` and check it against its manifest."""
    if not archive.is_file():
        raise BackupError(f"{archive} does not exist.")
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            infos = tar.getmembers()
            names = [info.name for info in infos]
            if MANIFEST not in names:
                raise BackupError(f"{archive} has no {MANIFEST}; it is not an OTB backup.")
            manifest = json.loads(_member(tar, MANIFEST).read())
            expected = {f["name"]: f["sha256"] for f in manifest["files"]}
            seen = set()
            for info in infos:
                if info.name == MANIFEST or info.isdir():
                    continue
                if not info.isfile() or not _safe_member_name(info.name):
                    raise BackupError(f"{archive} holds an unsafe entry “{info.name}”.")
                if info.name not in expected or info.name in seen:
                    raise BackupError(
                        f"{archive} holds “{info.name}”, which its manifest does not list."
                    )
                seen.add(info.name)
                out = staging / info.name
                out.parent.mkdir(parents=True, exist_ok=True)
                sha = hashlib.sha256()
                with _member(tar, info) as src, open(out, "wb") as dst:
                    while chunk := src.read(CHUNK):
                        sha.update(chunk)
                        dst.write(chunk)
                if sha.hexdigest() != expected[info.name]:
                    raise BackupError(
                        f"Checksum mismatch for “{info.name}” in {archive}: the archive is "
                        "damaged or was changed. Nothing was restored."
                    )
            missing = sorted(set(expected) - seen)
            if missing:
                raise BackupError(
                    f"{archive} lacks {', '.join(missing)}, listed in its manifest. "
                    "Nothing was restored."
                )
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise BackupError(
            f"{archive} cannot be read ({exc}); it is damaged or truncated. Nothing was restored."
        ) from None
    except (ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"{archive} has an invalid {MANIFEST} ({exc}).") from None
    if manifest.get("format") != FORMAT_VERSION:
        raise BackupError(
            f"{archive} has backup format {manifest.get('format')}; this version reads "
            f"format {FORMAT_VERSION}."
        )
    return manifest


def has_data() -> bool:
    """Whether the target database holds any user, client or invoice."""
    from django.contrib.auth import get_user_model

    from billing.models import Client, Invoice

    try:
        return any(m.objects.exists() for m in (get_user_model(), Client, Invoice))
    except DatabaseError:  # tables not there yet: an empty database
        return False


def _restore_sqlite(dump: Path) -> None:
    name = _db()["NAME"]
    Path(name).parent.mkdir(parents=True, exist_ok=True)
    connections.close_all()
    source = sqlite3.connect(dump)
    dest = sqlite3.connect(name, timeout=30)
    try:
        source.backup(dest)
    finally:
        dest.close()
        source.close()


def _drop_mysql_tables() -> None:
    """Empty the database, so that it holds exactly what the dump brings: a table made by a
    migration newer than the backup (a failed upgrade rolled back) must not survive it."""
    connection = connections["default"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, table_type FROM information_schema.tables "
            "WHERE table_schema = DATABASE()"
        )
        found = cursor.fetchall()
        if not found:
            return
        cursor.execute("SET FOREIGN_KEY_CHECKS = 0")
        try:
            for name, kind in found:
                what = "VIEW" if kind == "VIEW" else "TABLE"
                cursor.execute(f"DROP {what} IF EXISTS {connection.ops.quote_name(name)}")
        finally:
            cursor.execute("SET FOREIGN_KEY_CHECKS = 1")


def _restore_mysql(dump: Path) -> None:
    db = _db()
    tool = _tool("mariadb", "mysql")
    args, env = _mysql_args(db)
    _drop_mysql_tables()
    connections.close_all()
    argv = [tool, *args, "--default-character-set=utf8mb4", str(db["NAME"])]
    with open(dump, "rb") as src:
        _run(argv, env, db, Path(tool).name, stdin=src)


def restore_backup(archive: Path, *, force: bool = False) -> Restored:
    archive = Path(archive)
    with tempfile.TemporaryDirectory(prefix="otb-restore-") as tmp:
        staging = Path(tmp)
        manifest = _read_verified(archive, staging)
        vendor = _vendor()
        archived = manifest["database"]["vendor"]
        if archived != vendor:
            names = {"sqlite": "SQLite", "mysql": "MariaDB"}
            raise BackupError(
                f"{archive} is a {names.get(archived, archived)} backup; this instance uses "
                f"{names.get(vendor, vendor)}. Restore it into an instance on the same database."
            )
        if not force and has_data():
            raise BackupError(
                "The database already holds users, clients or invoices. Restore into an empty "
                "instance, or pass --force to replace everything in it."
            )
        dump = staging / manifest["database"]["dump"]
        if vendor == "sqlite":
            _restore_sqlite(dump)
        else:
            _restore_mysql(dump)
        connections.close_all()

        media_root = Path(settings.MEDIA_ROOT)
        files = 0
        staged_media = staging / MEDIA_PREFIX
        if staged_media.is_dir():
            for path in sorted(staged_media.rglob("*")):
                if path.is_file():
                    out = media_root / path.relative_to(staged_media)
                    out.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(path, out)
                    files += 1
    return Restored(
        created_at=manifest.get("created_at", "?"),
        app_version=manifest.get("app_version", "?"),
        files=files,
    )
