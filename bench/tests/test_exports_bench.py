"""The exports benchmark (bench/exports.py) keeps working as the exports change: every
format is measured over the whole of the books, and its section of the report is replaced,
never added twice. No timing is asserted (the numbers are for real data)."""

import argparse
import datetime

import pytest

from bench import exports as bench_exports
from exports.books import Books
from exports.formats import FORMATS
from tests.factories import ClientFactory, issued, line, pay


@pytest.fixture
def books(business):
    client = ClientFactory(code="BUSY")
    invoices = [issued(client=client, lines=[line(), line("2", "50.00")]) for _ in range(3)]
    pay(invoices[0], "100.00")
    return invoices


@pytest.mark.django_db
def test_the_whole_range_holds_every_invoice(books):
    start, end = bench_exports.whole_range()

    assert start <= min(invoice.issue_date for invoice in books)
    assert end >= max(invoice.issue_date for invoice in books)
    assert bench_exports.volume(start, end)["invoices"] == 3
    assert bench_exports.volume(start, end)["clients"] == 1


@pytest.mark.django_db
def test_every_format_is_measured_with_the_bytes_it_writes(books):
    start, end = bench_exports.whole_range()
    for key, found in FORMATS.items():
        result = bench_exports.measure_format(key, start, end, digest=True)
        written = b"".join(found.write(Books.of(start, end)))

        assert result["bytes"] == len(written) > 0
        assert result["queries"] > 0
        assert 0 <= result["first_byte_ms"] <= result["seconds"] * 1000 + 1  # both rounded
        assert result["rss_growth_mb"] >= 0
        assert len(result["sha256"]) == 64


@pytest.mark.django_db
def test_the_report_section_is_replaced_not_added(books, tmp_path):
    start, end = bench_exports.whole_range()
    result = {
        "date_utc": "2026-12-07 10:00 UTC",
        "command": ".venv/bin/python -m bench.exports",
        "machine": {"cpu": "a CPU", "cores": 2, "database": "SQLite"},
        "start": start.isoformat(),
        "end": end.isoformat(),
        "clients": 1,
        "invoices": 3,
        "documents_and_movements": 4,
        "formats": [
            {**bench_exports.measure_format("qbo", start, end), "invoices_per_second": 1.0},
            {"format": "iif", "error": "Traceback ..."},
        ],
    }
    out = tmp_path / "RESULTS.md"
    out.write_text("# OTB Billing benchmarks\n\nThe rest of the report.\n")
    bench_exports.write(result, out)
    bench_exports.write(result, out)

    text = out.read_text()
    assert text.count("## Accounting exports") == 1
    assert "The rest of the report." in text
    assert "| qbo |" in text and "| iif | **failed** |" in text


def test_bad_arguments_are_refused_with_the_option_named(capsys):
    with pytest.raises(SystemExit):
        bench_exports.parse_args(["--start", "2026-13-01"])
    assert "--start" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        bench_exports.parse_args(["--start", "2026-02-01", "--end", "2026-01-01"])
    assert "--start 2026-02-01 is after --end 2026-01-01" in capsys.readouterr().err
    args = bench_exports.parse_args(["--smoke", "--format", "csv"])
    assert (args.smoke, args.formats) == (True, ["csv"])
    assert isinstance(bench_exports.parse_args([]), argparse.Namespace)
    assert datetime.date(2026, 1, 1) == bench_exports._day("2026-01-01")


def test_an_unknown_format_is_refused_with_the_option_named():
    args = bench_exports.parse_args(["--format", "pdf"])
    with pytest.raises(SystemExit, match="--format pdf: no such format"):
        bench_exports.measure(args)
