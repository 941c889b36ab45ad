"""The accounting exports at size: how long each format takes to write the whole of a
database's books, how fast the first byte comes, how big the file is and how much memory it
takes (SPEC: Exports and imports; issue 22).

    .venv/bin/python -m bench.exports [--start DAY] [--end DAY] [--format KEY ...]
                                      [--digest] [--out PATH] [--smoke]

On the database ``DATABASE_URL`` names (one bench/seed.py filled; bench/README.md): every
format of ``exports.formats.FORMATS`` writes ``Books.of(start, end)`` to a sink that only
counts the bytes (``--digest``: and hashes them, to show that a change to the reader left
every byte as it was). By default the range is the whole of the books: from the first day
anything is dated to the last. The figures go to the "Accounting exports" section of
bench/RESULTS.md; ``--smoke`` (CI) only checks that every format writes, and reports to a
temporary file.

Each format runs in a child process of its own (forked, Linux), so what one format leaves
allocated cannot hide another's growth. Memory is the resident set's peak
(``resource.getrusage``: ``ru_maxrss``, its high-water mark reset first through
/proc/self/clear_refs) less the resident set before the export, not ``tracemalloc``:
the resident set holds what the MySQL client library and zlib allocate, which tracemalloc
never sees, and it costs nothing while the export runs, where tracemalloc would slow every
allocation and spoil the timings taken in the same run.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import gc
import hashlib
import json
import os
import resource
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

START = "<!-- exports-run -->"
END = "<!-- /exports-run -->"
CLEAR_REFS = Path("/proc/self/clear_refs")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.exports", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--start", type=_day, help="first day, YYYY-MM-DD (default: the first)")
    parser.add_argument("--end", type=_day, help="last day, YYYY-MM-DD (default: the last)")
    parser.add_argument(
        "--format",
        action="append",
        dest="formats",
        metavar="KEY",
        help="only this format (again for more; default: every one)",
    )
    parser.add_argument(
        "--digest", action="store_true", help="also the SHA-256 of each export's bytes"
    )
    parser.add_argument("--out", type=Path, help="the report to update (default bench/RESULTS.md)")
    parser.add_argument(
        "--smoke", action="store_true", help="CI: every format writes; report to a temp file"
    )
    args = parser.parse_args(argv)
    if args.start and args.end and args.start > args.end:
        parser.error(f"--start {args.start} is after --end {args.end}")
    return args


def _day(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a day (YYYY-MM-DD): {value!r}") from None


def whole_range() -> tuple[datetime.date, datetime.date]:
    """From the first day anything of the books is dated to the last (today when empty)."""
    from django.db.models import Max, Min

    from billing.models import CreditNote, Invoice, Payment
    from ledger.models import LedgerEntry
    from settings_app.selectors import business_today

    days = []
    for model, name in (
        (Invoice, "issue_date"),
        (Invoice, "cancelled_on"),
        (CreditNote, "issue_date"),
        (Payment, "date"),
        (LedgerEntry, "date"),
    ):
        found = model.objects.aggregate(first=Min(name), last=Max(name))
        days += [day for day in found.values() if day is not None]
    if not days:
        today = business_today()
        return today, today
    return min(days), max(days)


def volume(start: datetime.date, end: datetime.date) -> dict[str, int]:
    """What the range holds: the invoices issued in it, and what a progress bar counts;
    and the clients (every format lists or names them)."""
    from billing.models import Client, Invoice, InvoiceStatus
    from exports.books import Books

    issued = Invoice.objects.filter(issue_date__gte=start, issue_date__lte=end).exclude(
        status=InvoiceStatus.DRAFT
    )
    return {
        "clients": Client.objects.count(),
        "invoices": issued.count(),
        "documents_and_movements": Books.of(start, end).count(),
    }


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _cpu_seconds() -> float:
    """This process's CPU time, user and system: unlike the wall time, not what the
    database server or another program on the machine took."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _reset_peak() -> bool:
    """The resident set's high-water mark set back to the resident set now (Linux 4.0+):
    ``ru_maxrss`` then measures this export alone. False where that cannot be done."""
    try:
        CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


def measure_format(
    key: str, start: datetime.date, end: datetime.date, *, digest: bool = False
) -> dict[str, Any]:
    """One export of the range in the format ``key``, in this process."""
    from django.db import connection

    from exports.books import Books
    from exports.formats import FORMATS

    queries = 0

    def count(execute: Callable, sql: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    hasher = hashlib.sha256() if digest else None
    gc.collect()
    exact = _reset_peak()
    before = _rss_kib()
    size = 0
    first_byte = None
    with connection.execute_wrapper(count):
        cpu_before = _cpu_seconds()
        started = time.perf_counter()
        for chunk in FORMATS[key].write(Books.of(start, end)):
            if chunk and first_byte is None:
                first_byte = time.perf_counter() - started
            size += len(chunk)
            if hasher is not None:
                hasher.update(chunk)
        seconds = time.perf_counter() - started
        cpu = _cpu_seconds() - cpu_before
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {
        "format": key,
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu, 3),
        "first_byte_ms": round((first_byte if first_byte is not None else seconds) * 1000, 1),
        "bytes": size,
        "queries": queries,
        "rss_before_mb": round(before / 1024, 1),
        "rss_growth_mb": round(max(0, peak - before) / 1024, 1),
        "rss_growth_exact": exact,
        "sha256": hasher.hexdigest() if hasher is not None else None,
    }


def _in_child(work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``work()`` in a forked child process: a fresh heap for each format. The child opens
    its own database connection (the parent's is closed first, never shared)."""
    from django.db import connections

    if not hasattr(os, "fork"):
        return work()
    connections.close_all()
    sys.stdout.flush()
    sys.stderr.flush()
    reading, writing = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(reading)
        try:
            result = work()
        except BaseException:
            result = {"error": traceback.format_exc()}
        with os.fdopen(writing, "w") as pipe:
            json.dump(result, pipe)
        connections.close_all()
        os._exit(0)
    os.close(writing)
    with os.fdopen(reading) as pipe:
        text = pipe.read()
    _pid, status = os.waitpid(pid, 0)
    if not text:
        return {"error": f"the child process ended without a result (status {status})"}
    return json.loads(text)


def measure(args: argparse.Namespace) -> dict[str, Any]:
    from bench import report
    from exports.formats import FORMATS

    keys = args.formats or list(FORMATS)
    unknown = [key for key in keys if key not in FORMATS]
    if unknown:
        raise SystemExit(
            f"python -m bench.exports: --format {unknown[0]}: no such format "
            f"(one of {', '.join(FORMATS)})"
        )
    found = whole_range()
    start, end = args.start or found[0], args.end or found[1]
    print(f"Database: {report.database_description()}", flush=True)
    counted = volume(start, end)
    print(
        f"Range {start} to {end}: {counted['invoices']:,} invoices issued, "
        f"{counted['documents_and_movements']:,} documents and movements",
        flush=True,
    )
    results = []
    for key in keys:
        print(f"Exporting {key} ...", flush=True)
        result = _in_child(functools.partial(measure_format, key, start, end, digest=args.digest))
        result.setdefault("format", key)
        if "error" not in result:
            result["invoices_per_second"] = round(counted["invoices"] / result["seconds"], 1)
            print(f"  {_row(result)}", flush=True)
        else:
            print(result["error"], file=sys.stderr, flush=True)
        results.append(result)
    return {
        "date_utc": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": _command(args),
        "machine": report.machine(),
        "start": start.isoformat(),
        "end": end.isoformat(),
        **counted,
        "formats": results,
    }


def _command(args: argparse.Namespace) -> str:
    parts = [".venv/bin/python -m bench.exports"]
    if args.start:
        parts.append(f"--start {args.start}")
    if args.end:
        parts.append(f"--end {args.end}")
    parts += [f"--format {key}" for key in args.formats or ()]
    if args.digest:
        parts.append("--digest")
    if args.smoke:
        parts.append("--smoke")
    return " ".join(parts)


def _row(result: dict[str, Any]) -> str:
    return (
        f"{result['seconds']} s (CPU {result['cpu_seconds']} s), "
        f"{result['invoices_per_second']} invoices/s, "
        f"first byte {result['first_byte_ms']} ms, {result['bytes']:,} bytes, "
        f"{result['queries']} queries, RSS +{result['rss_growth_mb']} MB"
        + (f", sha256 {result['sha256']}" if result.get("sha256") else "")
    )


def section(result: dict[str, Any]) -> str:
    machine = result["machine"]
    lines = [
        START,
        "## Accounting exports",
        "",
        f"- Date: {result['date_utc']}; command: `{result['command']}`",
        f"- Machine: {machine.get('cpu', '')}, {machine.get('cores', '')} cores, "
        f"{machine.get('database', '')}; load {machine.get('load_at_start', '')} at the start",
        "",
        f"Every format of the range {result['start']} to {result['end']}: "
        f"{result['invoices']:,} invoices issued, {result['documents_and_movements']:,} "
        f"documents and movements, {result['clients']:,} clients. Each written by "
        "`format.write(Books.of(start, end))` to a sink that counts the bytes, in a process "
        "of its own. Seconds: the whole export, wall clock; CPU: of the exporting process "
        "alone (the rest is waiting for MariaDB). Invoices/s: invoices issued in the range "
        "per second of the whole export. First byte: until the first non-empty chunk. RSS "
        "growth: the resident set's peak during the export less the resident set before it.",
        "",
        "| format | seconds | CPU s | invoices/s | first byte ms | bytes | queries "
        "| RSS growth MB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for found in result["formats"]:
        if "error" in found:
            lines.append(f"| {found['format']} | **failed** |  |  |  |  |  |  |")
            continue
        growth = f"{found['rss_growth_mb']}" + ("" if found["rss_growth_exact"] else " (≥)")
        lines.append(
            f"| {found['format']} | {found['seconds']} | {found['cpu_seconds']} | "
            f"{found['invoices_per_second']} | "
            f"{found['first_byte_ms']} | {found['bytes']:,} | {found['queries']} | {growth} |"
        )
    lines.append(END)
    return "\n".join(lines)


def write(result: dict[str, Any], path: Path) -> None:
    """Put the section in ``path``, replacing the one there (bench/run.py keeps it)."""
    from bench import report

    report.put_section(path, START, END, section(result))


def main(argv: list[str] | None = None) -> int:
    from bench.run import setup_django

    args = parse_args(argv)
    setup_django()
    result = measure(args)
    from bench import report

    out = report.results_path(args.out, smoke=args.smoke)
    write(result, out)
    print(section(result), flush=True)
    failed = [found["format"] for found in result["formats"] if "error" in found]
    empty = [found["format"] for found in result["formats"] if not found.get("bytes")]
    if failed or empty:
        print(f"bench.exports: failed {failed}, wrote nothing {empty}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
