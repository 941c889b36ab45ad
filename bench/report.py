"""Phase f: the report, as Markdown for people and JSON for tools, and a summary on stdout."""

from __future__ import annotations

import json
import os
import platform
import re
import tempfile
from pathlib import Path

import django
import weasyprint
from django.db import connection

from . import documents, issuing, pages, server
from .pages import MEDIAN_TARGET_MS, P95_TARGET_MS


# --- The machine --------------------------------------------------------------------------
def _proc_value(path: str, key: str) -> str | None:
    try:
        for line in Path(path).read_text().splitlines():
            name, _, value = line.partition(":")
            if name.strip() == key:
                return value.strip()
    except OSError:
        pass
    return None


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.partition("=")[2].strip('"')
    except OSError:
        pass
    return platform.platform()


def database_description() -> str:
    settings_dict = connection.settings_dict
    if connection.vendor == "mysql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT VERSION()")
            version = cursor.fetchone()[0]
        vendor = "MariaDB" if "mariadb" in version.lower() else "MySQL"
        host = f"{settings_dict.get('HOST') or 'localhost'}:{settings_dict.get('PORT') or 3306}"
        return f"{vendor} {version}, database {settings_dict['NAME']} at {host}"
    if connection.vendor == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}, {settings_dict['NAME']}"
    return f"{connection.vendor} {settings_dict['NAME']}"


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: a busy machine explains noisy numbers."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def machine() -> dict:
    memory_kb = _proc_value("/proc/meminfo", "MemTotal")
    return {
        "cpu": _proc_value("/proc/cpuinfo", "model name") or platform.processor() or "unknown",
        "cores": os.cpu_count(),
        "ram_gib": round(int(memory_kb.split()[0]) / 1024**2, 1) if memory_kb else None,
        "os": _os_name(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "weasyprint": weasyprint.__version__,
        "database": database_description(),
        "load_at_start": load_average(),
    }


# --- Targets --------------------------------------------------------------------------------
def _met(value: bool | None) -> str:
    return "—" if value is None else "yes" if value else "**no**"


def checks(results: dict) -> list[dict]:
    """Every target with its measured value: the lines of the summary."""
    found = []
    for page in results.get("pages", []):
        if "error" in page:
            found.append({"what": page["name"], "value": "FAILED", "met": False})
            continue
        value = f"median {page['median_ms']} ms, p95 {page['p95_ms']} ms"
        found.append({"what": page["name"], "value": value, "met": page["met"]})
    pdf = results.get("pdf", {})
    if "one_page" in pdf:
        one = pdf["one_page"]
        found += [
            {
                "what": "PDF 1 page, first render p95",
                "value": f"{one['first_render']['p95_ms']} ms",
                "met": one["met"]["first_render_p95"],
            },
            {
                "what": "PDF 1 page, app / WeasyPrint alone",
                "value": f"{one['ratio_app_to_weasyprint']}",
                "met": one["met"]["ratio"],
            },
            {
                "what": "PDF 1 page, cached p95",
                "value": f"{one['cached']['p95_ms']} ms",
                "met": one["met"]["cached_p95"],
            },
        ]
    if "long" in pdf:
        long = pdf["long"]
        found += [
            {
                "what": f"PDF {long['lines']} lines, first render p95",
                "value": f"{long['first_render']['p95_ms']} ms",
                "met": long["met"]["first_render_p95"],
            },
            {
                "what": f"PDF {long['lines']} lines, cached p95",
                "value": f"{long['cached']['p95_ms']} ms",
                "met": long["met"]["cached_p95"],
            },
        ]
    if "issuing" in results:
        issued = results["issuing"]
        found.append(
            {
                "what": "issuing",
                "value": f"{issued['issued_per_second']}/s, gapless: {issued['gapless']}",
                "met": issued["met"],
            }
        )
    if "throughput" in results:
        rates = results["throughput"]
        found.append(
            {
                "what": "throughput invoice / hello",
                "value": f"{rates['ratio']:.0%}",
                "met": rates["met"],
            }
        )
    if "memory" in results:
        memory = results["memory"]
        found.append(
            {
                "what": "worker memory after the run",
                "value": f"{memory['rss_after_mb']} MB",
                "met": memory["met"],
            }
        )
    return found


# --- Markdown -----------------------------------------------------------------------------
def _table(header: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines + [""]


def _page_target(page: dict) -> str:
    target = f"p95 ≤ {page.get('p95_target_ms', P95_TARGET_MS)}"
    if page.get("median_target"):
        target += f", median ≤ {MEDIAN_TARGET_MS}"
    return target


def _pages_section(results: dict) -> list[str]:
    settings = results["settings"]
    lines = [
        "## Pages",
        "",
        f"Server-side latency in this process (django.test.Client, the whole middleware "
        f"stack), {settings['requests']} timed GETs per page after {settings['warmup']} "
        f"warm-up ones, or fewer (n, at least {pages.MIN_SAMPLES}) when a page's timed GETs "
        f"took more than {settings['page_seconds']:g} s. Queries: the SQL queries of one "
        "request.",
        "",
    ]
    rows = []
    for page in results["pages"]:
        name = f"{page['name']} `{page['url']}`"
        if "error" in page:
            rows.append([name, "—", "—", "—", "—", "—", _page_target(page), "**FAILED**"])
            continue
        rows.append(
            [
                name,
                page["n"],
                page["median_ms"],
                page["p95_ms"],
                page["max_ms"],
                page["queries"],
                _page_target(page),
                _met(page["met"]),
            ]
        )
    header = ["page", "n", "median ms", "p95 ms", "max ms", "queries", "target ms", "met?"]
    return lines + _table(header, rows)


def _pdf_rows(measured: dict, *, first_target: str, ratio_target: str) -> list[list]:
    what = f"{measured['invoice']} ({measured['lines']} lines, {measured['pdf_pages']} page(s))"
    first, alone, cached = (
        measured["first_render"],
        measured["weasyprint_alone"],
        measured["cached"],
    )
    met = measured["met"]
    cached_note = "" if measured["cache_answered"] else " (the cache missed!)"
    return [
        [
            f"{what}, first render",
            first["median_ms"],
            first["p95_ms"],
            first_target,
            _met(met["first_render_p95"]),
        ],
        [f"{what}, WeasyPrint alone", alone["median_ms"], alone["p95_ms"], "", ""],
        [
            "app / WeasyPrint alone (medians)",
            measured["ratio_app_to_weasyprint"],
            "",
            ratio_target,
            _met(met.get("ratio")),
        ],
        [
            f"{what}, cached{cached_note}",
            cached["median_ms"],
            cached["p95_ms"],
            f"p95 ≤ {documents.CACHED_P95_MS} ms",
            _met(met["cached_p95"]),
        ],
    ]


def _pdf_section(pdf: dict) -> list[str]:
    lines = [
        "## Invoice PDF",
        "",
        "First render: the invoice's cached PDF is deleted before each request. WeasyPrint "
        "alone renders the HTML the app gave it, in turn with the app's renders.",
        "",
    ]
    rows = []
    if "one_page" in pdf:
        rows += _pdf_rows(
            pdf["one_page"],
            first_target=f"p95 ≤ {documents.FIRST_RENDER_P95_MS} ms",
            ratio_target=f"≤ {documents.FIRST_RENDER_RATIO}",
        )
    if "long" in pdf:
        rows += _pdf_rows(
            pdf["long"],
            first_target=f"p95 ≤ {documents.LONG_FIRST_RENDER_P95_MS} ms",
            ratio_target="",
        )
    return lines + _table(["measure", "median ms", "p95 ms", "target", "met?"], rows)


def _issuing_section(issued: dict) -> list[str]:
    numbers = "–".join(str(number) for number in issued["numbers"])
    row = [
        issued["invoices"],
        issued["drafts_per_second"],
        issued["issued_per_second"],
        issued["issue"]["median_ms"],
        issued["issue"]["p95_ms"],
        numbers,
        "yes" if issued["gapless"] else "**NO**",
        f"≥ {issuing.TARGET_PER_SECOND}/s",
        _met(issued["met"]),
    ]
    header = [
        "invoices",
        "drafts/s",
        "issued/s",
        "issue median ms",
        "issue p95 ms",
        "sequences",
        "gapless",
        "target",
        "met?",
    ]
    intro = (
        f"issue_invoice one after the other for {issued['invoices']} drafts of "
        f"{issued['lines_per_invoice']} lines of the client BENCH (made first, via create_draft)."
    )
    return ["## Issuing", "", intro, "", *_table(header, [row])]


def _throughput_section(rates: dict) -> list[str]:
    rows = [
        [
            f"`{rates[name]['url']}`",
            rates[name]["requests_per_second"],
            rates[name]["average_latency"],
        ]
        for name in ("hello", "invoice")
    ]
    intro = (
        f"gunicorn, {rates['workers']} sync workers; wrk -t2 -c8 for {rates['seconds']} s each, "
        "logged in with a session cookie."
    )
    ratio = (
        f"Invoice page / hello: **{rates['ratio']:.0%}** (target ≥ "
        f"{server.THROUGHPUT_RATIO_TARGET:.0%}): {_met(rates['met'])}."
    )
    table = _table(["URL", "requests/s", "average latency"], rows)
    return ["## Throughput", "", intro, "", *table, ratio, ""]


def _memory_section(memory: dict) -> list[str]:
    row = [
        memory["requests"],
        memory["pages"],
        memory["rss_before_mb"],
        memory["rss_after_mb"],
        memory["peak_rss_mb"],
        f"< {memory['target_mb']} MB",
        _met(memory["met"]),
    ]
    intro = (
        f"One gunicorn worker (no max_requests) answered {memory['requests']} requests in "
        f"{memory['seconds']} s, rotating over the pages above. Before: after its first request "
        "(/bench/hello/)."
    )
    if memory["requests"] < memory["requests_asked"]:
        intro += (
            f" **Stopped by the time budget** of {memory['budget_seconds']:g} s, before the "
            f"{memory['requests_asked']} requests asked for."
        )
    header = ["requests", "pages", "RSS before MB", "RSS after MB", "peak MB", "target", "met?"]
    return ["## Memory", "", intro, "", *_table(header, [row])]


def markdown(results: dict) -> str:
    machine_info, dataset, subjects = results["machine"], results["dataset"], results["subjects"]
    lines = [
        "# OTB Billing benchmarks",
        "",
        f"- Date: {results['date_utc']}",
        f"- Command: `{results['command']}`",
    ]
    if results["smoke"]:
        lines.append("- **Smoke run**: a handful of samples each; the timings mean little.")
    lines += [
        "",
        "## Machine",
        "",
        *_table(
            ["CPU", "cores", "RAM", "OS", "Python", "Django", "WeasyPrint", "database", "load"],
            [
                [
                    machine_info["cpu"],
                    machine_info["cores"],
                    f"{machine_info['ram_gib']} GiB",
                    machine_info["os"],
                    machine_info["python"],
                    machine_info["django"],
                    machine_info["weasyprint"],
                    machine_info["database"],
                    f"{machine_info['load_at_start']} at the start, "
                    f"{results['load_at_end']} at the end",
                ]
            ],
        ),
        "## Dataset",
        "",
        "Exact counts at the start of the run.",
        "",
        *_table(list(dataset), [list(dataset.values())]),
        f"Biggest client: {subjects['biggest_client']} ({subjects['biggest_client_invoices']} "
        f"invoices). Typical invoice: {subjects['typical_invoice']}.",
        "",
    ]
    if results.get("pages"):
        lines += _pages_section(results)
    if results.get("pdf"):
        lines += _pdf_section(results["pdf"])
    if "issuing" in results:
        lines += _issuing_section(results["issuing"])
    if "throughput" in results:
        lines += _throughput_section(results["throughput"])
    if "memory" in results:
        lines += _memory_section(results["memory"])
    if results["skipped"]:
        lines += ["## Skipped", "", *[f"- {phase}" for phase in results["skipped"]], ""]
    if results["errors"]:
        lines += ["## Failures", ""]
        for phase, message in results["errors"].items():
            lines += [f"### {phase}", "", "```", message.rstrip(), "```", ""]
    found = checks(results)
    met = sum(1 for check in found if check["met"])
    lines += ["## Summary", "", f"{met} of {len(found)} targets met.", ""]
    return "\n".join(lines)


def put_section(path: Path, start: str, end: str, block: str) -> None:
    """Put ``block`` (a section between the markers ``start`` and ``end``) in ``path``,
    replacing the one there: a benchmark run of its own (bench/recurring.py,
    bench/exports.py) keeps its results beside the main run's."""
    text = path.read_text() if path.exists() else "# OTB Billing benchmarks\n"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    text = (
        pattern.sub(lambda _match: block, text)
        if pattern.search(text)
        else (text.rstrip("\n") + "\n\n" + block)
    )
    path.write_text(text.rstrip("\n") + "\n")


def results_path(out: Path | None, *, smoke: bool) -> Path:
    """Where a run writes: ``out``, else bench/RESULTS.md, or a throw-away file for a
    smoke run (whose timings say nothing)."""
    if out is not None:
        return out
    if smoke:
        return Path(tempfile.mkdtemp(prefix="otb-bench-")) / "RESULTS.md"
    return Path(__file__).resolve().parent / "RESULTS.md"


def _old_text(path: Path) -> str:
    return path.read_text() if path.exists() else ""


def write(results: dict, path: Path) -> Path:
    """Write the Markdown to ``path`` and the raw numbers to the same path with .json."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = markdown(results)
    # The sections of the runs of their own (bench/recurring.py, exports.py, imports.py) stay.
    old = _old_text(path)
    for name in ("recurring-run", "exports-run", "imports-run"):
        kept = re.search(rf"<!-- {name} -->.*?<!-- /{name} -->", old, re.S)
        if kept:
            text = text.rstrip("\n") + "\n\n" + kept.group(0) + "\n"
    path.write_text(text)
    json_path = path.with_suffix(".json")
    json_path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    return json_path


def summary(results: dict) -> str:
    lines = []
    for check in checks(results):
        state = "met" if check["met"] else "NOT MET"
        lines.append(f"  {check['what']:<50} {check['value']:<34} {state}")
    for phase, message in results["errors"].items():
        lines.append(f"  FAILED {phase}: {message.strip().splitlines()[-1]}")
    return "\n".join(lines)
