"""The bench harness keeps working as the app changes: every page it measures answers, the
PDF and issuing phases run, and the report renders. No timing is asserted anywhere: a slow
machine must never fail the suite (the numbers are for bench/run.py on real data)."""

import pytest
from django.urls import Resolver404, resolve

from bench import data, documents, issuing, pages, report
from bench.timing import p95, summary_ms
from billing.models import Invoice, PaymentMethod
from billing.views.invoices import PAGE_SIZE as INVOICES_PER_PAGE
from tests.factories import ClientFactory, draft, issued, line, pay


def test_p95_is_a_measured_value_by_nearest_rank():
    assert p95([0.5]) == 0.5
    assert p95([float(n) for n in range(1, 21)]) == 19.0
    assert p95([float(n) for n in range(100, 0, -1)]) == 95.0
    assert summary_ms([0.001, 0.003, 0.002]) == {
        "n": 3,
        "median_ms": 2.0,
        "p95_ms": 3.0,
        "max_ms": 3.0,
    }


def test_hello_is_served_by_the_bench_urls_only():
    assert resolve("/bench/hello/", urlconf="bench.urls").func.__name__ == "hello"
    with pytest.raises(Resolver404):
        resolve("/bench/hello/", urlconf="otb.urls")


@pytest.fixture
def books(business):
    """Two clients, the busier with several issued invoices, one of them paid; enough
    drafts besides that the invoice list has a second page."""
    busy, quiet = ClientFactory(code="BUSY"), ClientFactory(code="QUIET")
    invoices = [issued(client=busy, lines=[line(), line("2", "50.00")]) for _ in range(4)]
    issued(client=quiet)
    for _ in range(INVOICES_PER_PAGE):
        draft(client=busy)
    pay(invoices[0], invoices[0].total, method=PaymentMethod.BANK_TRANSFER)
    return busy


@pytest.mark.django_db
def test_in_process_phases_run_on_small_data(books):
    user = data.bench_user()
    assert data.bench_user() == user  # found, not made again
    biggest = data.biggest_client()
    typical = data.typical_invoice()
    assert biggest == books
    assert typical.number and 2 <= typical.lines.count() <= 5

    measured = pages.run(
        user,
        pages.pages_to_measure(
            user, biggest=biggest, typical=typical, invoice_count=Invoice.objects.count()
        ),
        warmup=0,
        requests=1,
        budget=60,
        log=lambda message: None,
    )
    assert any(page["name"].startswith("invoice list, older than") for page in measured)
    failed = [page for page in measured if "error" in page]
    assert not failed, failed[0]["error"]
    assert all(page["queries"] > 0 for page in measured)

    one_page = documents.measure_one_page(user, typical, first=1, cached=1)
    assert one_page["pdf_pages"] == 1
    assert one_page["cache_answered"]

    bench_client = data.bench_client(user)
    issuing_result = issuing.run(user, bench_client, count=3)
    assert issuing_result["gapless"]
    # BENCH now has more invoices than anyone: the bench still picks the same client.
    assert data.biggest_client() == books

    results = {
        "date_utc": "2026-01-01 00:00 UTC",
        "command": "bench/run.py",
        "smoke": True,
        "settings": {"requests": 1, "warmup": 0, "page_seconds": 60},
        "machine": report.machine(),
        "load_at_end": report.load_average(),
        "dataset": data.dataset_counts(),
        "subjects": {
            "biggest_client": biggest.code,
            "biggest_client_invoices": 4,
            "typical_invoice": typical.number,
        },
        "pages": measured,
        "pdf": {"one_page": one_page},
        "issuing": issuing_result,
        "skipped": [],
        "errors": {},
    }
    text = report.markdown(results)
    assert "## Pages" in text and "## Invoice PDF" in text and "## Issuing" in text
    assert typical.number in report.summary(results)


@pytest.mark.django_db
def test_the_recurring_bench_makes_each_invoice_once_and_keeps_its_section(business, tmp_path):
    import argparse

    from bench import recurring

    result = recurring.measure(argparse.Namespace(schedules=5, lines=2))
    assert (result["invoices"], result["exactly_once"], result["gapless"]) == (5, True, True)
    assert result["second_run_made"] == 0 and not result["problems"]
    out = tmp_path / "RESULTS.md"
    recurring.write(result, out)
    recurring.write(result, out)  # replaced, not added twice
    assert out.read_text().count("## Recurring run") == 1
    # bench/run.py's report keeps the section when it rewrites the file.
    kept = report._old_text(out)
    assert recurring.START in kept
