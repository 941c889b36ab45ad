"""Files that hold data are readable by the app's user only (SPEC: Access)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

PRIVATE_DIRECTORY = 0o700
PRIVATE_FILE = 0o600


def _tighten(path: Path, mode: int) -> None:
    # Only what this user owns; a folder shared on purpose (/tmp) is left alone.
    with contextlib.suppress(FileNotFoundError, PermissionError):
        if path.stat().st_uid == os.getuid() and path.stat().st_mode & 0o777 != mode:
            path.chmod(mode)


def private_files(database: Path) -> None:
    """Make the SQLite ``database`` and its folder private: the folder 0700, the database
    file 0600 (created empty if missing, which SQLite takes as a new database, so that it
    never exists with the umask's mode), and its -wal, -shm and -journal files 0600."""
    folder = database.parent
    folder.mkdir(mode=PRIVATE_DIRECTORY, parents=True, exist_ok=True)
    if folder != Path("/tmp"):
        _tighten(folder, PRIVATE_DIRECTORY)
    if not database.exists():
        with contextlib.suppress(FileExistsError, PermissionError):
            os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    for suffix in ("", "-wal", "-shm", "-journal"):
        _tighten(database.with_name(database.name + suffix), PRIVATE_FILE)
