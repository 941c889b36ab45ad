"""The journal: the golden books' exact bytes, and the real hledger's checks."""

import pathlib
import shutil
import subprocess

import pytest

from exports.books import Books
from exports.formats import journal

GOLDEN = pathlib.Path(__file__).parent / "golden"


def hledger(*args: str, journal_text: bytes) -> str:
    """Runs Debian's hledger on the journal (scripts/test.sh installs it)."""
    assert shutil.which("hledger"), "hledger is missing: apt-get install hledger"
    done = subprocess.run(
        ["hledger", "-f", "-", *args], input=journal_text, capture_output=True, check=False
    )
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode()


def export(start, end) -> bytes:
    return b"".join(journal.write(Books.of(start, end)))


def test_the_golden_books_make_the_golden_journal(golden_books):
    written = export(golden_books["start"], golden_books["end"])
    assert written == (GOLDEN / "golden.journal").read_bytes()
    assert written == export(golden_books["start"], golden_books["end"])


def test_the_golden_journal_passes_hledger_s_strict_checks(golden_books):
    written = export(golden_books["start"], golden_books["end"])
    hledger("check", "-s", "ordereddates", journal_text=written)


@pytest.mark.parametrize("checks", [(), ("-s",)])
def test_an_empty_range_is_a_journal_of_declarations(golden_books, checks):
    import datetime

    written = export(datetime.date(2025, 1, 1), datetime.date(2025, 12, 31))
    assert b"\n2025-" not in written
    hledger("check", *checks, journal_text=written)
