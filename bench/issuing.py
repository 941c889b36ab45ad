"""Phase c: how many invoices per second issue_invoice gives out, one after the other.

Issuing is the one write that cannot run in parallel: every issue locks the number counter
(billing.services.issue_invoice), so this sequential rate is the ceiling for the whole
installation, whatever the number of workers. The drafts are made first, untimed by the
target, and the numbers given out are checked to be gapless.
"""

from __future__ import annotations

import time

from billing import services
from billing.models import Invoice, InvoiceNumberCounter
from billing.services import COUNTER_NAME

from .data import bench_lines
from .timing import summary_ms

TARGET_PER_SECOND = 200
LINES_PER_DRAFT = 3


def _last_number() -> int:
    counter = InvoiceNumberCounter.objects.filter(name=COUNTER_NAME).first()
    return counter.last_number if counter else 0


def run(user, client, *, count: int) -> dict:
    start = time.perf_counter()
    drafts = [
        services.create_draft(client=client, acting_user=user, lines=bench_lines(LINES_PER_DRAFT))
        for _ in range(count)
    ]
    drafts_seconds = time.perf_counter() - start

    last_before = _last_number()
    samples = []
    start = time.perf_counter()
    for draft in drafts:
        began = time.perf_counter()
        services.issue_invoice(invoice=draft, acting_user=user)
        samples.append(time.perf_counter() - began)
    issue_seconds = time.perf_counter() - start

    # Read back from the database, not from the instances the operation returned.
    sequences = sorted(
        Invoice.objects.filter(pk__in=[draft.pk for draft in drafts]).values_list(
            "sequence", flat=True
        )
    )
    expected = list(range(last_before + 1, last_before + count + 1))
    per_second = count / issue_seconds
    return {
        "invoices": count,
        "lines_per_invoice": LINES_PER_DRAFT,
        "drafts_per_second": round(count / drafts_seconds, 1),
        "issued_per_second": round(per_second, 1),
        "issue": summary_ms(samples),
        "numbers": [sequences[0], sequences[-1]] if sequences else [],
        "gapless": sequences == expected,
        "target_per_second": TARGET_PER_SECOND,
        "met": per_second >= TARGET_PER_SECOND,
    }
