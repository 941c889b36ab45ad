"""Phase b: the invoice PDF, rendered and from the cache, against WeasyPrint alone.

The app's PDF is WeasyPrint plus its own work: the document's data, its SHA-256 key, the
cache lookup and store (billing/pdf.py). WeasyPrint alone renders the very HTML the app
handed it, captured from an app render, with the app's base URL and kind of URL fetcher; the
ratio of the two says what the app adds. Both are timed turn about in one process, so
whatever slows the machine slows both, and each starts after a gc.collect(): a render leaves
enough garbage that the next one, app or not, would otherwise pay for collecting it (on a
3-page invoice, WeasyPrint alone came out 45 % slower than the app that way).
"""

from __future__ import annotations

import gc
import statistics
import time
from unittest import mock

import weasyprint
from django.urls import reverse

from billing import pdf as billing_pdf
from billing.models import Invoice, RenderedPdf

from .pages import get_ok, logged_in_client
from .timing import summary_ms

FIRST_RENDER_P95_MS = 250
FIRST_RENDER_RATIO = 1.3
CACHED_P95_MS = 10
LONG_FIRST_RENDER_P95_MS = 1500


def _pdf_url(invoice: Invoice) -> str:
    return reverse("invoices:pdf", args=[invoice.number])


def _timed_get(client, url: str) -> float:
    start = time.perf_counter()
    response = get_ok(client, url)
    elapsed = time.perf_counter() - start
    if response["Content-Type"] != "application/pdf":
        raise RuntimeError(f"GET {url} answered {response['Content-Type']}, not a PDF")
    return elapsed


def _first_render(client, invoice: Invoice) -> float:
    """One request that must render: the invoice's cached PDF is deleted first (untimed)."""
    RenderedPdf.objects.filter(invoice=invoice).delete()
    gc.collect()
    return _timed_get(client, _pdf_url(invoice))


def _capture_weasyprint_input(client, invoice: Invoice) -> dict:
    """The keyword arguments the app gives weasyprint.HTML, from one real render."""
    captured = {}
    real_html = weasyprint.HTML

    def spy(*args, **kwargs):
        captured.update(kwargs)
        return real_html(*args, **kwargs)

    with mock.patch.object(weasyprint, "HTML", spy):
        _first_render(client, invoice)
    if "string" not in captured:
        raise RuntimeError("The app's PDF render did not call weasyprint.HTML(string=...)")
    return captured


def _weasyprint_alone(captured: dict) -> tuple[float, int]:
    """Seconds WeasyPrint takes for the captured input, and the number of PDF pages.

    HTML.write_pdf() is render() then write_pdf() of the document; done in two steps here
    only to read the number of pages on the way.
    """
    # A new fetcher per render, as the app makes one per render.
    fetcher = type(captured["url_fetcher"])() if captured.get("url_fetcher") else None
    gc.collect()
    start = time.perf_counter()
    document = weasyprint.HTML(
        string=captured["string"], base_url=captured.get("base_url"), url_fetcher=fetcher
    ).render()
    document.write_pdf()
    return time.perf_counter() - start, len(document.pages)


def _cached(client, invoice: Invoice, repetitions: int) -> tuple[dict, bool]:
    """Time the cached PDF; also say whether the cache really answered every request."""
    url = _pdf_url(invoice)
    get_ok(client, url)  # makes sure the cache holds it
    rendered = []
    html_to_pdf = billing_pdf.html_to_pdf

    def counting(html):
        rendered.append(1)
        return html_to_pdf(html)

    billing_pdf.html_to_pdf = counting
    try:
        samples = [_timed_get(client, url) for _ in range(repetitions)]
    finally:
        billing_pdf.html_to_pdf = html_to_pdf
    return summary_ms(samples), not rendered


def measure(user, invoice: Invoice, *, first: int, cached: int) -> dict:
    """First render and WeasyPrint alone ``first`` times each, in turn; then the cache."""
    client = logged_in_client(user)
    captured = _capture_weasyprint_input(client, invoice)  # also the app's warm-up
    _, pages = _weasyprint_alone(captured)  # warm-up of WeasyPrint alone
    app_samples, alone_samples = [], []
    for _ in range(first):
        app_samples.append(_first_render(client, invoice))
        alone_samples.append(_weasyprint_alone(captured)[0])
    cached_stats, cache_answered = _cached(client, invoice, cached)
    return {
        "invoice": invoice.number,
        "lines": invoice.lines.count(),
        "pdf_pages": pages,
        "first_render": summary_ms(app_samples),
        "weasyprint_alone": summary_ms(alone_samples),
        "ratio_app_to_weasyprint": round(
            statistics.median(app_samples) / statistics.median(alone_samples), 3
        ),
        "cached": cached_stats,
        "cache_answered": cache_answered,
    }


def measure_one_page(user, invoice: Invoice, *, first: int, cached: int) -> dict:
    result = measure(user, invoice, first=first, cached=cached)
    result["met"] = {
        "first_render_p95": result["first_render"]["p95_ms"] <= FIRST_RENDER_P95_MS,
        "ratio": result["ratio_app_to_weasyprint"] <= FIRST_RENDER_RATIO,
        "cached_p95": result["cached"]["p95_ms"] <= CACHED_P95_MS,
    }
    return result


def measure_long(user, invoice: Invoice, *, first: int, cached: int) -> dict:
    result = measure(user, invoice, first=first, cached=cached)
    result["met"] = {
        "first_render_p95": result["first_render"]["p95_ms"] <= LONG_FIRST_RENDER_P95_MS,
        "cached_p95": result["cached"]["p95_ms"] <= CACHED_P95_MS,
    }
    return result
