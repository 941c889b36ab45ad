"""The benchmarks of OTB Billing, on the database DATABASE_URL names.

    .venv/bin/python bench/run.py [--requests N] [--warmup N] [--out PATH] [--smoke]
                                  [--skip-throughput] [--skip-memory]

a. page latency of the office pages and admin lists (django.test.Client, in this process);
b. the invoice PDF: first render, cached, and WeasyPrint alone on the same HTML;
c. issuing: invoices per second through billing.services.issue_invoice, numbers gapless;
d. throughput: wrk against gunicorn, the invoice page compared with a bare "hello" view;
e. memory: a gunicorn worker's resident memory before and after thousands of requests;
f. the report: Markdown at --out (default bench/RESULTS.md) and the raw numbers beside it
   as .json; a summary on stdout.

The run writes to the database: the user "bench", the client BENCH with one 50-line invoice,
and the invoices of the issuing phase (bench/README.md). The exit status is 1 when a page did
not answer 200 or a phase failed, never because a timing missed its target.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shlex
import sys
import tempfile
import time
import traceback
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent

# How much of each phase a run does: a real run, and --smoke (CI: does everything work?).
NORMAL = {
    "requests": 200,
    "warmup": 20,
    "pdf_first": 10,
    "pdf_cached": 100,
    "issue": 500,
    "wrk_seconds": 15,
    "memory_requests": 10_000,
    # Time budgets: they only cut a phase short when pages are far slower than their targets.
    "page_seconds": 30,
    "memory_seconds": 900,
}
SMOKE = {
    "requests": 5,
    "warmup": 2,
    "pdf_first": 3,
    "pdf_cached": 5,
    "issue": 20,
    "wrk_seconds": 2,
    "memory_requests": 300,
    "page_seconds": 10,
    "memory_seconds": 120,
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/run.py",
        description="Benchmarks of OTB Billing on the database DATABASE_URL names.",
    )
    parser.add_argument("--requests", type=int, help="timed requests per page (default 200)")
    parser.add_argument("--warmup", type=int, help="untimed requests per page first (default 20)")
    parser.add_argument("--issue", type=int, help="invoices the issuing phase issues (default 500)")
    parser.add_argument(
        "--out",
        type=Path,
        help="the Markdown report, replaced (default bench/RESULTS.md; with --smoke a temp file)",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="every phase, tiny: checks that everything answers (CI), not how fast",
    )
    parser.add_argument(
        "--page-seconds",
        type=float,
        help="time budget of one page's timed requests; a slower page stops early, after at "
        "least 5 (default 30)",
    )
    parser.add_argument(
        "--memory-requests", type=int, help="requests of the memory phase (default 10000)"
    )
    parser.add_argument(
        "--memory-seconds",
        type=float,
        help="time budget of the memory phase; it stops early when exceeded (default 900)",
    )
    parser.add_argument("--skip-throughput", action="store_true", help="no gunicorn/wrk phase")
    parser.add_argument("--skip-memory", action="store_true", help="no memory phase")
    args = parser.parse_args(argv)
    sizes = SMOKE if args.smoke else NORMAL
    for name in (
        "requests",
        "warmup",
        "issue",
        "page_seconds",
        "memory_requests",
        "memory_seconds",
    ):
        if getattr(args, name) is None:
            setattr(args, name, sizes[name])
    for name in ("pdf_first", "pdf_cached", "wrk_seconds"):
        setattr(args, name, sizes[name])
    if args.requests < 1 or args.warmup < 0 or args.issue < 1:
        parser.error("--requests and --issue must be at least 1, --warmup at least 0")
    if args.out is None:
        args.out = (
            Path(tempfile.mkdtemp(prefix="otb-bench-")) / "RESULTS.md"
            if args.smoke
            else BENCH_DIR / "RESULTS.md"
        )
    return args


def setup_django() -> None:
    # Run as a script, Python put bench/ first on sys.path; the project root takes its place,
    # so "bench" is a package and none of its modules can shadow another module.
    if sys.path and Path(sys.path[0] or ".").resolve() == BENCH_DIR:
        sys.path[0] = str(PROJECT_ROOT)
    else:
        sys.path.insert(0, str(PROJECT_ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    import django

    django.setup()


def log(message: str) -> None:
    print(message, flush=True)


def command_line() -> str:
    python = sys.executable
    if python.startswith(os.getcwd() + os.sep):
        python = os.path.relpath(python)
    return shlex.join([python, *sys.argv])


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    setup_django()
    from django.core.management import call_command

    from bench import data, documents, issuing, pages, report, server

    started = time.monotonic()
    # Without DEBUG, pages need the manifest of collected static files (bench/settings.py).
    call_command("collectstatic", interactive=False, verbosity=0)

    results: dict = {
        "date_utc": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": command_line(),
        "smoke": args.smoke,
        "settings": {name: getattr(args, name) for name in NORMAL},
        "skipped": [],
        "errors": {},
    }
    log(f"Database: {report.database_description()}")
    results["machine"] = report.machine()
    log("Counting rows ...")
    results["dataset"] = data.dataset_counts()
    log("  " + ", ".join(f"{count} {name}" for name, count in results["dataset"].items()))

    user = data.bench_user()
    biggest = data.biggest_client()
    typical = data.typical_invoice()
    results["subjects"] = {
        "biggest_client": biggest.code,
        "biggest_client_invoices": biggest.invoices.count(),
        "typical_invoice": typical.number,
    }
    page_list = pages.pages_to_measure(
        user, biggest=biggest, typical=typical, invoice_count=results["dataset"]["invoices"]
    )

    def phase(key: str, title: str, func) -> None:
        log(f"{title} ...")
        try:
            results[key] = func()
        except Exception:
            results["errors"][title] = traceback.format_exc()
            log(f"  FAILED:\n{traceback.format_exc()}")

    phase(
        "pages",
        "a. Page latency",
        lambda: pages.run(
            user,
            page_list,
            warmup=args.warmup,
            requests=args.requests,
            budget=args.page_seconds,
            log=log,
        ),
    )
    for page in results.get("pages", []):
        if "error" in page:
            results["errors"][f"page {page['name']}"] = page["trace"]

    def pdf_phase() -> dict:
        measured = {
            "one_page": documents.measure_one_page(
                user, typical, first=args.pdf_first, cached=args.pdf_cached
            )
        }
        long = data.long_invoice(user, data.bench_client(user))
        measured["long"] = documents.measure_long(
            user, long, first=args.pdf_first, cached=args.pdf_cached
        )
        return measured

    phase("pdf", "b. Invoice PDF", pdf_phase)

    def issuing_phase() -> dict:
        measured = issuing.run(user, data.bench_client(user), count=args.issue)
        if not measured["gapless"]:
            results["errors"]["c. Issuing"] = (
                f"The issued sequence numbers are not contiguous: {measured['numbers']}"
            )
        return measured

    phase("issuing", "c. Issuing", issuing_phase)

    if args.skip_throughput:
        results["skipped"].append("d. Throughput (--skip-throughput)")
    else:
        phase(
            "throughput",
            "d. Throughput",
            lambda: server.throughput(
                user, typical.get_absolute_url(), seconds=args.wrk_seconds, log=log
            ),
        )
    if args.skip_memory:
        results["skipped"].append("e. Memory (--skip-memory)")
    else:
        phase(
            "memory",
            "e. Memory",
            lambda: server.memory(
                user,
                [page.url for page in page_list],
                requests=args.memory_requests,
                budget=args.memory_seconds,
                log=log,
            ),
        )

    results["seconds"] = round(time.monotonic() - started, 1)
    results["load_at_end"] = report.load_average()
    json_path = report.write(results, args.out)
    log(f"\nSummary ({results['seconds']} s):")
    log(report.summary(results))
    log(f"\nReport: {args.out}\nNumbers: {json_path}")
    return 1 if results["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
