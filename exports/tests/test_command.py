"""manage.py export_books: to a file (whole or not at all), to standard output, its bad
arguments, and its progress bar."""

import io
import os
import stat
from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from exports.books import Books
from exports.formats import FORMATS, Format
from otb.progress import ProgressBar

from .conftest import END, START

COUNTING = "documents and movements"  # as export_books counts
RANGE = ["--start", START.isoformat(), "--end", END.isoformat()]


def exported(key: str) -> bytes:
    return b"".join(FORMATS[key].write(Books.of(START, END)))


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_it_writes_the_export_to_the_file(golden_books, tmp_path):
    target = tmp_path / "books.journal"
    out = io.StringIO()
    call_command("export_books", "--format", "hledger", *RANGE, "--output", str(target), stdout=out)
    assert target.read_bytes() == exported("hledger")
    assert f"Export written: {target}" in out.getvalue()
    # The books, like every file of them, are the app user's only.
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert os.listdir(tmp_path) == ["books.journal"]


def test_it_replaces_an_older_file(golden_books, tmp_path):
    target = tmp_path / "books.journal"
    target.write_bytes(b"last month's")
    call_command(
        "export_books", "--format", "hledger", *RANGE, "--output", str(target), stdout=io.StringIO()
    )
    assert target.read_bytes() == exported("hledger")


def test_without_output_it_writes_the_bytes_to_standard_output(golden_books):
    raw = io.BytesIO()
    stdout = io.TextIOWrapper(raw)  # as sys.stdout is: text over a binary buffer
    call_command("export_books", "--format", "hledger", *RANGE, stdout=stdout)
    assert raw.getvalue() == exported("hledger")


def test_a_binary_stream_given_as_stdout_gets_the_bytes(golden_books):
    out = io.BytesIO()
    call_command("export_books", "--format", "hledger", *RANGE, stdout=out)
    assert out.getvalue() == exported("hledger")


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        (RANGE, "--format: Format: choose one of csv"),
        (["--format", "ods", *RANGE], "--format: Format: “ods” is not an export format"),
        (["--format", "hledger", "--end", "2026-03-31"], "--start: Start date: this field"),
        (["--format", "hledger", "--start", "2026-01-01"], "--end: End date: this field"),
        (
            ["--format", "hledger", "--start", "1/1/2026", "--end", "2026-03-31"],
            "--start: Start date: “1/1/2026” is not a date; use YYYY-MM-DD.",
        ),
        (
            ["--format", "hledger", "--start", "2026-03-31", "--end", "2026-01-01"],
            "--end: End date: must be on or after the start date (2026-03-31).",
        ),
        (
            ["--format", "hledger", "--start", "1900-01-01", "--end", "2026-01-01"],
            "--start: Start date: enter a date between 1970-01-01 and 2999-12-31.",
        ),
    ],
)
def test_bad_arguments_are_refused_naming_them(golden_books, tmp_path, arguments, words):
    target = tmp_path / "books.out"
    with pytest.raises(CommandError) as refusal:
        call_command("export_books", *arguments, "--output", str(target))
    assert words in str(refusal.value)
    assert not target.exists()


def test_a_missing_folder_is_refused_before_anything_is_read(golden_books, tmp_path):
    target = tmp_path / "nowhere" / "books.journal"
    with pytest.raises(CommandError, match=r"--output: the folder .*nowhere does not exist"):
        call_command("export_books", "--format", "hledger", *RANGE, "--output", str(target))


def test_a_folder_is_no_output_file(golden_books, tmp_path):
    with pytest.raises(CommandError, match=r"--output: .* is a folder; name a file"):
        call_command("export_books", "--format", "hledger", *RANGE, "--output", str(tmp_path))


def _failing_half_way(books: Books) -> Iterator[bytes]:
    yield b"the first part\n"
    raise RuntimeError("the database went away")


def test_a_failure_half_way_leaves_no_half_file(golden_books, tmp_path, monkeypatch):
    broken = Format("broken", "broken", "broken", "txt", "text/plain", _failing_half_way)
    monkeypatch.setitem(FORMATS, "broken", broken)
    target = tmp_path / "books.txt"
    with pytest.raises(RuntimeError):
        call_command("export_books", "--format", "broken", *RANGE, "--output", str(target))
    assert os.listdir(tmp_path) == []
    # An export already there is left as it was.
    target.write_bytes(b"last month's")
    with pytest.raises(RuntimeError):
        call_command("export_books", "--format", "broken", *RANGE, "--output", str(target))
    assert target.read_bytes() == b"last month's"
    assert os.listdir(tmp_path) == ["books.txt"]


def test_a_terminal_sees_a_progress_bar_to_the_end(golden_books, tmp_path):
    total = Books.of(START, END).count()
    assert total > 0
    stderr = Terminal()
    call_command(
        "export_books",
        "--format",
        "hledger",
        *RANGE,
        "--output",
        str(tmp_path / "books.journal"),
        stdout=io.StringIO(),
        stderr=stderr,
    )
    shown = stderr.getvalue()
    assert shown.startswith("\r[")
    assert shown.endswith(f"\r[{'#' * 30}] {total}/{total} documents and movements\n")


def test_no_progress_bar_when_standard_error_is_no_terminal(golden_books, tmp_path):
    stderr = io.StringIO()
    call_command(
        "export_books",
        "--format",
        "hledger",
        *RANGE,
        "--output",
        str(tmp_path / "books.journal"),
        stdout=io.StringIO(),
        stderr=stderr,
    )
    assert stderr.getvalue() == ""


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_bar_is_redrawn_at_most_five_times_a_second():
    stream, clock = io.StringIO(), Clock()
    bar = ProgressBar(stream, 4000, counting=COUNTING, clock=clock)
    for _ in range(1000):
        bar.step(1)  # all within the same instant: one drawing
    assert stream.getvalue().count("\r") == 1
    clock.now += 0.1
    bar.step(1000)
    assert stream.getvalue().count("\r") == 1
    clock.now += 0.15
    bar.step(1)
    assert stream.getvalue().endswith(
        f"\r[{'#' * 15}{'.' * 15}] 2,001/4,000 documents and movements"
    )


def test_the_bar_never_passes_its_end_and_ends_full():
    stream, clock = io.StringIO(), Clock()
    bar = ProgressBar(stream, 10, counting=COUNTING, clock=clock)
    bar.step(25)  # a format that reads some documents twice
    assert stream.getvalue().endswith("10/10 documents and movements")
    bar = ProgressBar(stream := io.StringIO(), 10, counting=COUNTING, clock=clock)
    bar.step(3)
    bar.finish()  # a format that left some of what was counted out
    assert stream.getvalue().endswith(f"[{'#' * 30}] 10/10 documents and movements\n")


def test_an_empty_range_draws_a_full_bar():
    stream = io.StringIO()
    ProgressBar(stream, 0, counting=COUNTING, clock=Clock()).finish()
    assert stream.getvalue() == f"\r[{'#' * 30}] 0/0 documents and movements\n"


class _Terminal(io.BytesIO):
    def isatty(self) -> bool:
        return True


def test_a_zip_is_not_written_to_a_terminal(golden_books):
    terminal = _Terminal()
    with pytest.raises(CommandError, match="--output: the csv export is a zip; name a file"):
        call_command(
            "export_books",
            "--format",
            "csv",
            *RANGE,
            stdout=terminal,
        )
    assert terminal.getvalue() == b""


class _ClosedEarly(io.BytesIO):
    """A reader that stops after the first piece, as ``| head`` does."""

    def write(self, data) -> int:
        if self.tell():
            raise BrokenPipeError
        return super().write(data)


def test_a_reader_that_stops_early_ends_the_export_quietly(golden_books):
    reader = _ClosedEarly()
    call_command(
        "export_books",
        "--format",
        "hledger",
        *RANGE,
        stdout=reader,
    )
    assert reader.getvalue().startswith(b"; Golden Test Works")
