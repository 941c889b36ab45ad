"""Phase a: the server-side latency of the office pages and the admin's lists.

Requests go through django.test.Client in this process: the whole middleware stack, the
view, the queries and the template, without a network or a server in between. That is the
part of a request the app decides; the throughput phase adds the server.
"""

from __future__ import annotations

import datetime
import math
import re
import time
import traceback
from dataclasses import asdict, dataclass
from html import unescape
from urllib.parse import parse_qs, urlencode, urlsplit

from django.db import connection
from django.test import Client as TestClient
from django.test.utils import CaptureQueriesContext

from billing.models import Client, Invoice, InvoiceStatus
from billing.views.invoices import PAGE_SIZE as INVOICES_PER_PAGE
from otb.paging import CURSOR_SEPARATOR
from settings_app.selectors import business_today

from .timing import summary_ms

# Targets (bench/README.md): p95 for every page; the median for the pages an office user
# opens all day (the invoice view and every list).
P95_TARGET_MS = 100
MEDIAN_TARGET_MS = 25
# The reports add up a period's or a client's whole history: each under a second.
REPORT_P95_TARGET_MS = 1000
# A page that is stopped early by its time budget still gets this many timed requests.
MIN_SAMPLES = 5


class PageFailed(Exception):
    """A page answered something else than 200: the numbers would be of an error page."""


@dataclass(frozen=True)
class Page:
    name: str
    url: str
    # The invoice view and the lists also have the median target.
    median_target: bool = True
    p95_target_ms: int = P95_TARGET_MS


def _query(url: str, **params) -> str:
    return f"{url}?{urlencode(params)}"


# The "next page" link of a list (billing/_pagination.html, billing/_keyset_pagination.html).
NEXT_LINK = re.compile(r'<a\b[^>]*\bhref="([^"]*)"[^>]*\brel="next"')


def _cursor(invoice: Invoice) -> str:
    """The invoice list's position after ``invoice`` (otb.paging: created_at~id)."""
    return f"{invoice.created_at.isoformat()}{CURSOR_SEPARATOR}{invoice.pk}"


def deep_invoice_page(user, *, middle: Invoice, invoice_count: int) -> Page | None:
    """The invoice list far from its start, addressed the way its own "next" link is.

    Paged by number (?page=N), the middle page: the OFFSET a paginator pays grows with it.
    Paged by position (?older=<cursor>, otb.paging.keyset_page), the page after ``middle``;
    the cursor is checked against the one the first page links to, so a change of format
    fails here rather than measuring the first page again. None when there is one page.
    """
    html = get_ok(logged_in_client(user), "/invoices/").content.decode()
    link = NEXT_LINK.search(html)
    if link is None:
        return None
    params = parse_qs(urlsplit(unescape(link.group(1))).query)
    if "page" in params:
        number = max(1, math.ceil(invoice_count / INVOICES_PER_PAGE) // 2)
        return Page(f"invoice list, page {number}", _query("/invoices/", page=number))
    if "older" in params:
        last_shown = Invoice.objects.order_by("-created_at", "-id")[INVOICES_PER_PAGE - 1]
        if _cursor(last_shown) != params["older"][0]:
            raise RuntimeError(
                f"The invoice list's cursor {params['older'][0]!r} is not created_at~id any "
                "more: update bench/pages.py (_cursor)."
            )
        name = f"invoice list, older than {middle.number}"
        return Page(name, _query("/invoices/", older=_cursor(middle)))
    raise RuntimeError(f"The invoice list's next link is of an unknown kind: {link.group(1)}")


def pages_to_measure(user, *, biggest: Client, typical: Invoice, invoice_count: int) -> list[Page]:
    """Every page of the phase, with its query string filled from the data."""
    deep = deep_invoice_page(user, middle=typical, invoice_count=invoice_count)
    ledger = f"/clients/{biggest.code}/ledger/"
    return [
        Page("dashboard", "/", median_target=False),
        Page("invoice list", "/invoices/"),
        *([deep] if deep else []),
        Page("invoice list, status paid", _query("/invoices/", status=InvoiceStatus.PAID)),
        Page(f"invoice list, client {biggest.code}", _query("/invoices/", client=biggest.code)),
        Page(f"invoice list, search {typical.number}", _query("/invoices/", q=typical.number)),
        Page(f"invoice view {typical.number}", typical.get_absolute_url()),
        Page("client list", "/clients/"),
        Page("payment list", "/payments/"),
        Page(f"ledger {biggest.code}, first page", _query(ledger, page=1), median_target=False),
        # Without ?page= the ledger opens on its last page, the newest entries.
        Page(f"ledger {biggest.code}, last page (default)", ledger, median_target=False),
        *search_pages(biggest=biggest, typical=typical),
        Page("admin clients", "/admin/billing/client/"),
        Page("admin services", "/admin/billing/service/"),
        Page("admin invoices", "/admin/billing/invoice/"),
        Page(
            "admin invoices, status paid",
            _query("/admin/billing/invoice/", status__exact=InvoiceStatus.PAID),
        ),
        Page("admin payments", "/admin/billing/payment/"),
        Page("admin ledger entries", "/admin/ledger/ledgerentry/"),
        Page("admin users", "/admin/auth/user/"),
        *report_pages(biggest=biggest, typical=typical.client),
    ]


def search_pages(*, biggest: Client, typical: Invoice) -> list[Page]:
    """The navigation's search (billing.search) for each thing it finds, a one-letter search
    that matches much, and the client box's suggestions."""
    word = biggest.name.split()[0]
    return [
        Page(f"search, invoice {typical.number}", _query("/search/", q=typical.number)),
        Page(f"search, amount {typical.total}", _query("/search/", q=str(typical.total))),
        Page(f"search, client {word}", _query("/search/", q=word)),
        Page("search, a reference no payment has", _query("/search/", q="CHQ-4711")),
        Page("search, one letter", _query("/search/", q="a")),
        Page(f"client box, {word[:3]}", _query("/search/clients/", q=word[:3])),
    ]


def report_pages(*, biggest: Client, typical: Client) -> list[Page]:
    """The reports as the navigation opens them (today, this year), a year back, over a
    whole year by month, and as CSV: the heaviest views a user is likely to ask for; the
    statement of the biggest client and of a typical one."""
    latest = Invoice.objects.exclude(issue_date=None).order_by("-issue_date").first()
    year = latest.issue_date.year if latest else 2026

    def report(name, url):
        return Page(name, url, median_target=False, p95_target_ms=REPORT_P95_TARGET_MS)

    return [
        report("report outstanding (today)", "/reports/outstanding/"),
        report(
            "report outstanding, 90 days ago", _query("/reports/outstanding/", as_of=_days_ago(90))
        ),
        report(
            "report outstanding, 365 days ago",
            _query("/reports/outstanding/", as_of=_days_ago(365)),
        ),
        report(
            "report outstanding, CSV (every client)", _query("/reports/outstanding/", format="csv")
        ),
        report("report revenue (this year by month)", "/reports/revenue/"),
        report(
            f"report revenue {year - 1} by month",
            _query("/reports/revenue/", start=f"{year - 1}-01-01", end=f"{year - 1}-12-31"),
        ),
        report("report tax (this year by quarter)", "/reports/tax/"),
        report(
            f"report statement {biggest.code} (default range)",
            _query("/reports/statement/", client=biggest.code),
        ),
        report(
            f"report statement {biggest.code}, {year - 1}",
            _query(
                "/reports/statement/",
                client=biggest.code,
                start=f"{year - 1}-01-01",
                end=f"{year - 1}-12-31",
            ),
        ),
        report(
            f"report statement {biggest.code}, PDF",
            _query("/reports/statement/", client=biggest.code, format="pdf"),
        ),
        report(
            f"report statement {typical.code}, PDF",
            _query("/reports/statement/", client=typical.code, format="pdf"),
        ),
    ]


def _days_ago(days: int) -> str:
    return (business_today() - datetime.timedelta(days=days)).isoformat()


def logged_in_client(user) -> TestClient:
    client = TestClient()
    client.force_login(user)
    return client


def get_ok(client: TestClient, url: str):
    response = client.get(url)
    if response.status_code != 200:
        raise PageFailed(f"GET {url} answered {response.status_code}, not 200")
    return response


def measure_page(
    client: TestClient, page: Page, *, warmup: int, requests: int, budget: float
) -> dict:
    """Warm up, count the queries of one request, then time ``requests`` GETs.

    The queries are counted on a request of their own: capturing them turns on the debug
    cursor, which would slow the timed ones. A page far off its target stops early, once
    its timed requests took ``budget`` seconds (and at least MIN_SAMPLES were taken; the
    warm-up gets a third of the budget): a page of seconds would otherwise hold the run for
    hours. The report gives each page's number of samples.
    """
    deadline = time.monotonic() + budget / 3
    for _ in range(warmup):
        get_ok(client, page.url)
        if time.monotonic() > deadline:
            break
    with CaptureQueriesContext(connection) as captured:
        response = get_ok(client, page.url)
    # Now: the next request empties the connection's query log the capture reads from.
    queries = [query["sql"] for query in captured]
    samples = []
    deadline = time.monotonic() + budget
    for _ in range(requests):
        start = time.perf_counter()
        get_ok(client, page.url)
        samples.append(time.perf_counter() - start)
        if len(samples) >= MIN_SAMPLES and time.monotonic() > deadline:
            break
    result = {**asdict(page), **summary_ms(samples)}
    result["queries"] = len(queries)
    result["sql"] = queries
    result["bytes"] = len(response.content)
    result["targets"] = {"p95_ms": page.p95_target_ms}
    if page.median_target:
        result["targets"]["median_ms"] = MEDIAN_TARGET_MS
    result["met"] = result["p95_ms"] <= page.p95_target_ms and (
        not page.median_target or result["median_ms"] <= MEDIAN_TARGET_MS
    )
    return result


def run(user, pages: list[Page], *, warmup: int, requests: int, budget: float, log) -> list[dict]:
    """Measure every page; a page that fails is reported as failed and the others still
    run, so one broken page does not hide the numbers of the rest."""
    client = logged_in_client(user)
    results = []
    for page in pages:
        try:
            result = measure_page(client, page, warmup=warmup, requests=requests, budget=budget)
        except Exception as exc:
            log(f"  FAILED {page.name}: {exc}")
            results.append({**asdict(page), "error": str(exc), "trace": traceback.format_exc()})
            continue
        log(
            f"  {page.name:<45} median {result['median_ms']:8.2f} ms"
            f"  p95 {result['p95_ms']:8.2f} ms  {result['queries']:3d} queries  n={result['n']}"
        )
        results.append(result)
    return results
