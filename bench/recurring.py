"""The recurring run at a hosting provider's size: how many invoices per second
``run_recurring`` issues when many schedules fall due on one day (SPEC: Recurring invoices,
Scale; issue 20's target: at least 250 a second, on MariaDB).

    .venv/bin/python -m bench.recurring [--schedules N] [--lines L] [--out PATH] [--smoke]

On the database ``DATABASE_URL`` names, migrated (empty, or the one bench/seed.py filled):
it adds N clients, each with a monthly schedule of L lines whose first date is today, then
times one ``run_recurring`` as the daily timer starts it, and checks what it made: one
invoice per schedule and date, numbers gapless. A second run must make nothing. The figures
go to the "Recurring run" section of bench/RESULTS.md (kept when bench/run.py rewrites the
rest). Outside CI, whose smoke run (--smoke: 20 schedules) only checks that it all works.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import time
from decimal import Decimal
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
START = "<!-- recurring-run -->"
END = "<!-- /recurring-run -->"
TARGET_PER_SECOND = 250


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--schedules", type=int, default=10_000, help="schedules due today")
    parser.add_argument("--lines", type=int, default=3, help="template lines per schedule")
    parser.add_argument("--out", type=Path, help="the report to update (default bench/RESULTS.md)")
    parser.add_argument("--smoke", action="store_true", help="20 schedules, report to a temp file")
    args = parser.parse_args(argv)
    if args.smoke:
        args.schedules = 20
    if args.schedules < 1 or args.lines < 1:
        parser.error("--schedules and --lines must be at least 1")
    return args


def setup_django() -> None:
    if str(PROJECT_ROOT) not in sys.path:
        sys.path.insert(0, str(PROJECT_ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    import django

    django.setup()


def make_schedules(count: int, lines: int, today: datetime.date) -> list[int]:
    """``count`` clients with a monthly schedule each, first date today (untimed)."""
    from billing.models import Client
    from billing.services.figures import LineData
    from recurring.services import create_schedule
    from settings_app.selectors import get_business_settings

    currency = get_business_settings().default_currency
    run = f"R{int(time.time()) % 1_000_000:06d}"
    Client.objects.bulk_create(
        Client(
            code=f"{run}-{n:06d}",
            name=f"Recurring client {n}",
            country="CA",
            default_currency=currency,
        )
        for n in range(count)
    )
    template = [
        LineData(
            description=f"Hosting {{month}} {{year}}, item {position}",
            quantity=Decimal("1"),
            unit_price=Decimal("40.00"),
        )
        for position in range(1, lines + 1)
    ]
    ids = []
    for client in Client.objects.filter(code__startswith=f"{run}-").order_by("pk"):
        schedule = create_schedule(
            client=client, acting_user=None, name="Hosting", start_date=today, lines=template
        )
        ids.append(schedule.pk)
    return ids


def measure(args: argparse.Namespace) -> dict:
    from bench import report
    from billing.models import Invoice, InvoiceNumberCounter
    from recurring.models import Occurrence
    from recurring.run import run_recurring
    from settings_app.selectors import business_today

    today = business_today()
    print(f"Database: {report.database_description()}", flush=True)
    print(f"Making {args.schedules} schedules ...", flush=True)
    started = time.perf_counter()
    ids = make_schedules(args.schedules, args.lines, today)
    setup_seconds = time.perf_counter() - started
    last_before = InvoiceNumberCounter.objects.get(name="invoice").last_number

    print("Running run_recurring ...", flush=True)
    started = time.perf_counter()
    made = run_recurring(today=today, catch_up=1)
    seconds = time.perf_counter() - started
    again = run_recurring(today=today, catch_up=1)

    occurrences = Occurrence.objects.filter(schedule_id__in=ids)
    sequences = sorted(
        Invoice.objects.filter(
            recurring_occurrence__schedule_id__in=ids, sequence__isnull=False
        ).values_list("sequence", flat=True)
    )
    expected = list(range(last_before + 1, last_before + args.schedules + 1))
    per_second = len(made.made) / seconds
    return {
        "date_utc": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": report.machine(),
        "schedules": args.schedules,
        "lines": args.lines,
        "setup_seconds": round(setup_seconds, 1),
        "invoices": len(made.made),
        "seconds": round(seconds, 2),
        "per_second": round(per_second, 1),
        "problems": made.problems,
        "exactly_once": occurrences.count() == args.schedules
        and occurrences.values("schedule_id").distinct().count() == args.schedules,
        "gapless": sequences == expected,
        "second_run_made": len(again.made),
    }


def section(result: dict) -> str:
    machine = result["machine"]
    met = result["per_second"] >= TARGET_PER_SECOND
    return "\n".join(
        [
            START,
            "## Recurring run",
            "",
            f"- Date: {result['date_utc']}; command: `.venv/bin/python -m bench.recurring "
            f"--schedules {result['schedules']}`",
            f"- Machine: {machine.get('cpu', '')}, {machine.get('cores', '')} cores, "
            f"{machine.get('database', '')}",
            "",
            f"{result['schedules']} monthly schedules of {result['lines']} lines, all due today,"
            " made by one `run_recurring` (each invoice issued and posted to its client's"
            " ledger). Setup (the schedules, untimed): "
            f"{result['setup_seconds']} s.",
            "",
            "| invoices | seconds | issued/s | target | met? | exactly once | gapless | "
            "second run made |",
            "|---|---|---|---|---|---|---|---|",
            f"| {result['invoices']} | {result['seconds']} | {result['per_second']} | "
            f"≥ {TARGET_PER_SECOND}/s | {'yes' if met else '**no**'} | "
            f"{'yes' if result['exactly_once'] else '**no**'} | "
            f"{'yes' if result['gapless'] else '**no**'} | {result['second_run_made']} |",
            END,
        ]
    )


def write(result: dict, path: Path) -> None:
    """Put the section in ``path``, replacing the one there (bench/run.py keeps it)."""
    from bench import report

    report.put_section(path, START, END, section(result))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    setup_django()
    result = measure(args)
    from bench import report

    out = report.results_path(args.out, smoke=args.smoke)
    write(result, out)
    print(section(result), flush=True)
    ok = (
        result["exactly_once"]
        and result["gapless"]
        and result["second_run_made"] == 0
        and not result["problems"]
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
