"""Imports at size: how long the preview and the import of a large client file take, in
rows a second, and how much memory (SPEC: Exports and imports; issue 22: "An import too large
for one request (set the limit from a measurement) says to use the command").

    .venv/bin/python -m bench.imports [--clients N] [--keep-file PATH] [--out PATH] [--smoke]

On the database ``DATABASE_URL`` names, migrated (empty, or one bench/seed.py filled): it
writes a CSV file of N clients in our own template's columns
(``imports.presets.template("clients")``: varied names, e-mails, countries by code and by
name, currencies, addresses of several lines, an opening balance on every fourth), then
times what a page's request does with it, twice: read the file, map its columns and
``run_import`` it, once as the preview (``commit=False``: every row written and rolled
back) and once as the import (``commit=True``). Its codes start with a prefix of the run,
so it can run again on the same database; the clients it imports stay there.

Each phase runs in a child process of its own, measured as bench/exports.py measures an
export: wall and CPU seconds, queries, and the resident set's growth. From the slower of the
two it works out how many rows a page can take within TARGET_SECONDS each: the figure for
``imports.services.PAGE_ROWS``. The figures go to the "Imports" section of
bench/RESULTS.md; ``--smoke`` (CI: 200 clients) only checks that it all works, and reports
to a temporary file.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import functools
import gc
import random
import re
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.exports import _cpu_seconds, _in_child, _reset_peak, _rss_kib

START = "<!-- imports-run -->"
END = "<!-- /imports-run -->"
# A page's preview, and then its import, should each answer within this (seconds); gunicorn
# and nginx wait far longer (deploy/gunicorn.conf.py), a person at the page does not.
TARGET_SECONDS = 10
SMOKE_CLIENTS = 200

FIRST_NAMES = (
    "Anna", "José", "Zoë", "Søren", "Mohammed", "Chloé", "Łukasz", "Aoife", "Ngozi", "Kenji",
    "François", "Björn", "Siobhán", "Mei", "Ola", "Dmitri", "Ines", "Rahul", "Émile", "Hana",
)  # fmt: skip
LAST_NAMES = (
    "Müller", "O'Brien", "García", "Nguyen", "Čapek", "Smith", "Dubois", "Kowalski", "Rossi",
    "Yamamoto", "Ødegaard", "Fernández", "Van der Berg", "Papadopoulos", "Ahmed", "Leclerc",
)  # fmt: skip
TRADES = (
    "Bakery", "Plumbing", "Consulting", "Design Studio", "Hardware", "Dental Clinic",
    "Print Shop", "Landscaping", "Café", "Software", "Architects", "Translations",
)  # fmt: skip
FORMS = ("Inc.", "Ltd", "GmbH", "SARL", "LLC", "& Sons", "Co.", "S.L.", "")
# (as the file gives the country, its currency, its city)
PLACES = (
    ("CA", "CAD", "Toronto ON M5V 2T6"),
    ("Canada", "CAD", "Montréal QC H2X 1Y4"),
    ("US", "USD", "Springfield OR 97403"),
    ("United States", "USD", "Austin TX 78701"),
    ("DE", "EUR", "10115 Berlin"),
    ("Germany", "EUR", "80331 München"),
    ("FR", "EUR", "75002 Paris"),
    ("GB", "GBP", "London SW1A 1AA"),
    ("United Kingdom", "GBP", "Manchester M1 1AE"),
    ("CH", "CHF", "8001 Zürich"),
    ("JP", "JPY", "Tokyo 100-0001"),
    ("AU", "AUD", "Sydney NSW 2000"),
    ("NL", "EUR", "1012 Amsterdam"),
    ("ES", "EUR", "28001 Madrid"),
)
ZERO_DECIMAL_CURRENCIES = {"JPY"}
DATABASE_NAMES = {"mysql": "MariaDB", "sqlite": "SQLite"}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.imports", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--clients", type=int, default=10_000, help="rows of the file")
    parser.add_argument("--seed", type=int, default=1, help="the same seed, the same file")
    parser.add_argument(
        "--keep-file", type=Path, help="write the CSV file here, and leave it (default: a temp)"
    )
    parser.add_argument("--out", type=Path, help="the report to update (default bench/RESULTS.md)")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help=f"CI: {SMOKE_CLIENTS} clients, report to a temp file",
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.clients = SMOKE_CLIENTS
    if args.clients < 1:
        parser.error("--clients must be at least 1")
    return args


def client_rows(count: int, *, run: str, seed: int) -> list[dict[str, str]]:
    """``count`` clients as our template's columns hold them; every fourth owes something
    (every twentieth has credit in hand instead)."""
    rng = random.Random(seed)
    rows = []
    for n in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        country, currency, city = rng.choice(PLACES)
        if n % 3:
            name = f"{last} {rng.choice(TRADES)} {rng.choice(FORMS)}".strip()
        else:
            name = f"{first} {last}"
        if n % 7 == 0:
            name = f"{name}, {city.split()[-1]}"  # a comma: the cell is quoted
        street = f"{rng.randint(1, 9999)} {rng.choice(('Main', 'King', 'Rue de la Paix'))} St"
        address = f"{street}\n{city}" if n % 2 else f"{street}, {city}"
        balance = ""
        if n % 4 == 0:
            owed = rng.randint(1_000, 2_500_000)  # in cents
            if n % 20 == 0:
                owed = -owed
            if currency in ZERO_DECIMAL_CURRENCIES:
                balance = str(owed // 100 or 1)
            elif n % 8 == 0:
                balance = f"{owed / 100:,.2f}"  # 1,250.50, as a spreadsheet shows it
            else:
                balance = f"{owed / 100:.2f}"
        rows.append(
            {
                "code": f"{run}-{n:06d}",
                "name": name,
                "contact_person": f"{first} {last}",
                "email": f"{first}.{n}@{run.lower()}.example".encode("ascii", "ignore").decode(),
                "phone": f"+1 416 555 {n % 10_000:04d}" if n % 5 else "",
                "address": address,
                "country": country,
                "tax_number": f"DE{rng.randint(100_000_000, 999_999_999)}"
                if country in {"DE", "Germany"}
                else "",
                "tax_exempt": "yes" if n % 19 == 0 else "no",
                "currency": currency,
                "taxes": "default" if n % 2 else "",
                "active": "no" if n % 23 == 0 else "yes",
                "opening_balance": balance,
            }
        )
    return rows


def write_file(path: Path, rows: list[dict[str, str]]) -> list[str]:
    """The rows in a CSV file of our template's columns (UTF-8, as our export writes it);
    the columns, in case the template has one the rows do not fill."""
    from imports import presets

    columns = presets.template("clients").template()
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=columns, restval="", extrasaction="raise")
        writer.writeheader()
        writer.writerows(rows)
    return columns


def measure_phase(path: Path, *, commit: bool) -> dict[str, Any]:
    """What a page's preview (``commit=False``) or import does with the file, in this
    process: read it, map its columns, ``run_import`` every row."""
    from django.db import connection

    from imports.kinds import KINDS
    from imports.reading import read_table
    from imports.services import run_import, suggested_mapping

    queries = 0

    def count(execute: Callable, sql: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    gc.collect()
    exact = _reset_peak()
    before = _rss_kib()
    with connection.execute_wrapper(count):
        cpu_before = _cpu_seconds()
        started = time.perf_counter()
        table = read_table(path.read_bytes())
        mapping, _source = suggested_mapping(KINDS["clients"], table.headers)
        read = time.perf_counter() - started
        outcome = run_import(
            kind=KINDS["clients"],
            table=table,
            mapping=mapping,
            acting_user=None,
            commit=commit,
        )
        seconds = time.perf_counter() - started
        cpu = _cpu_seconds() - cpu_before
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {
        "phase": "import" if commit else "preview",
        "rows": outcome.rows,
        "imported": outcome.imported,
        "written": outcome.written,
        "problems": [str(problem) for problem in outcome.problems[:5]],
        "problem_count": len(outcome.problems),
        "seconds": round(seconds, 3),
        "read_seconds": round(read, 3),
        "cpu_seconds": round(cpu, 3),
        "rows_per_second": round(outcome.rows / seconds, 1) if seconds else None,
        "queries": queries,
        "queries_per_row": round(queries / outcome.rows, 1) if outcome.rows else None,
        "rss_before_mb": round(before / 1024, 1),
        "rss_growth_mb": round(max(0, peak - before) / 1024, 1),
        "rss_growth_exact": exact,
    }


def page_rows(phases: list[dict[str, Any]]) -> int | None:
    """The rows a preview and an import can each take within TARGET_SECONDS, at the rate
    of the slower, rounded down to a hundred (to a thousand above 5,000)."""
    rates = [phase["rows_per_second"] for phase in phases if phase.get("rows_per_second")]
    if len(rates) < len(phases) or not rates:
        return None
    rows = int(TARGET_SECONDS * min(rates))
    step = 1000 if rows >= 5000 else 100
    return max(step, rows // step * step)


def measure(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    from django.db import connection

    from bench import report
    from billing.models import Client
    from ledger.events import EntryKind
    from ledger.models import LedgerEntry

    run = f"I{int(time.time()) % 1_000_000:06d}"
    path = args.keep_file or folder / "clients.csv"
    rows = client_rows(args.clients, run=run, seed=args.seed)
    columns = write_file(path, rows)
    balances = sum(1 for row in rows if row["opening_balance"])
    print(f"Database: {report.database_description()}", flush=True)
    print(
        f"File: {path}, {args.clients:,} clients ({balances:,} with an opening balance), "
        f"{path.stat().st_size:,} bytes",
        flush=True,
    )
    ours = Client.objects.filter(code__startswith=f"{run}-")
    phases = []
    for commit in (False, True):
        name = "import" if commit else "preview"
        print(f"{name.capitalize()} ...", flush=True)
        result = _in_child(functools.partial(measure_phase, path, commit=commit))
        result.setdefault("phase", name)
        if "error" in result:
            print(result["error"], file=sys.stderr, flush=True)
        else:
            print(f"  {_row(result)}", flush=True)
            for problem in result["problems"]:
                print(f"  {problem}", file=sys.stderr, flush=True)
        result["clients_after"] = ours.count()
        phases.append(result)
    opened = LedgerEntry.objects.filter(
        kind=EntryKind.IMPORTED_BALANCE, client__code__startswith=f"{run}-"
    ).count()
    return {
        "date_utc": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": _command(args),
        "machine": report.machine(),
        "vendor": connection.vendor,
        "clients": args.clients,
        "balances": balances,
        "columns": columns,
        "bytes": path.stat().st_size,
        "phases": phases,
        # The preview writes nothing; the import, every client and every opening balance.
        "preview_wrote_nothing": phases[0].get("clients_after") == 0,
        "import_wrote_all": phases[1].get("clients_after") == args.clients and opened == balances,
        "page_rows": page_rows(phases),
    }


def _command(args: argparse.Namespace) -> str:
    parts = [".venv/bin/python -m bench.imports"]
    if args.smoke:
        parts.append("--smoke")
    elif args.clients != 10_000:
        parts.append(f"--clients {args.clients}")
    if args.seed != 1:
        parts.append(f"--seed {args.seed}")
    return " ".join(parts)


def _row(result: dict[str, Any]) -> str:
    return (
        f"{result['seconds']} s (reading {result['read_seconds']} s, CPU "
        f"{result['cpu_seconds']} s), {result['rows_per_second']} rows/s, "
        f"{result['queries']:,} queries ({result['queries_per_row']}/row), "
        f"RSS +{result['rss_growth_mb']} MB, {result['imported']:,} rows went through"
    )


INTRO = (
    "A file of clients in our template's columns (UTF-8), read, mapped and `run_import`ed "
    "as a page's request does it, in a process of its own: the preview (every row written, "
    "then rolled back) and the import (committed). Seconds: wall clock, the reading and "
    "mapping of the file included; CPU: of that process alone (the rest is waiting for the "
    "database). RSS growth: the resident set's peak less the resident set before. One part "
    "per database, each from its own run."
)


def database_block(result: dict[str, Any]) -> str:
    """The part of the section for the database of this run, between markers of its own."""
    machine = result["machine"]
    vendor = result["vendor"]
    lines = [
        f"<!-- imports:{vendor} -->",
        f"### {DATABASE_NAMES.get(vendor, vendor)}",
        "",
        f"- Date: {result['date_utc']}; command: `{result['command']}`",
        f"- Machine: {machine.get('cpu', '')}, {machine.get('cores', '')} cores, "
        f"{machine.get('database', '')}; load {machine.get('load_at_start', '')} at the start",
        f"- File: {result['clients']:,} clients, {result['bytes']:,} bytes, "
        f"{result['balances']:,} with an opening balance",
        "",
        "| phase | seconds | reading s | CPU s | rows/s | queries | queries/row | RSS growth MB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for found in result["phases"]:
        if "error" in found:
            lines.append(f"| {found['phase']} | **failed** |  |  |  |  |  |  |")
            continue
        growth = f"{found['rss_growth_mb']}" + ("" if found["rss_growth_exact"] else " (≥)")
        lines.append(
            f"| {found['phase']} | {found['seconds']} | {found['read_seconds']} | "
            f"{found['cpu_seconds']} | {found['rows_per_second']} | {found['queries']:,} | "
            f"{found['queries_per_row']} | {growth} |"
        )
    lines += [
        "",
        f"Preview wrote nothing: {'yes' if result['preview_wrote_nothing'] else '**no**'}; "
        "the import wrote every client and opening balance: "
        f"{'yes' if result['import_wrote_all'] else '**no**'}.",
    ]
    if result["page_rows"] is not None:
        lines += [
            "",
            f"Rows a preview and an import can each take within {TARGET_SECONDS} s at the "
            f"slower rate: **{result['page_rows']:,}** (`imports.services.PAGE_ROWS`).",
        ]
    lines.append(f"<!-- /imports:{vendor} -->")
    return "\n".join(lines)


def section(result: dict[str, Any], old: str = "") -> str:
    """The "Imports" section: this run's database block, and the other databases' blocks
    of ``old`` (the report's text) as they were."""
    blocks = {
        match.group(1): match.group(0)
        for match in re.finditer(r"<!-- imports:(\w+) -->.*?<!-- /imports:\1 -->", old, re.S)
    }
    blocks[result["vendor"]] = database_block(result)
    return "\n".join(
        [
            START,
            "## Imports",
            "",
            INTRO,
            "",
            "\n\n".join(blocks[key] for key in sorted(blocks)),
            END,
        ]
    )


def write(result: dict[str, Any], path: Path) -> str:
    """Put the section in ``path``, replacing the one there; the section."""
    from bench import report

    old = path.read_text() if path.exists() else ""
    kept = re.search(re.escape(START) + ".*?" + re.escape(END), old, re.S)
    text = section(result, kept.group(0) if kept else "")
    report.put_section(path, START, END, text)
    return text


def ok(result: dict[str, Any]) -> bool:
    return (
        all("error" not in phase and not phase["problem_count"] for phase in result["phases"])
        and result["preview_wrote_nothing"]
        and result["import_wrote_all"]
    )


def main(argv: list[str] | None = None) -> int:
    from bench.run import setup_django

    args = parse_args(argv)
    setup_django()
    with tempfile.TemporaryDirectory(prefix="otb-bench-imports-") as folder:
        result = measure(args, Path(folder))
    from bench import report

    out = report.results_path(args.out, smoke=args.smoke)
    print(write(result, out), flush=True)
    if not ok(result):
        print("bench.imports: the preview or the import did not do what it should", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
