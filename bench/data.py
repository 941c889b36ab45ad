"""What the benchmarks measure with: their user, their client, and the invoices and clients
they pick from the data, found with queries that stay fast on a million invoices.

Everything the bench writes goes through the domain operations, as the app would write it,
and belongs to the user "bench" and the client BENCH, so it is easy to tell apart.
"""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count

from accounts.roles import role_of
from accounts.services import create_user
from billing import services
from billing.models import Client, Invoice, InvoiceLine, InvoiceStatus, Payment
from billing.services import LineData
from ledger.models import LedgerEntry

BENCH_USERNAME = "bench"
BENCH_CLIENT_CODE = "BENCH"
# Marks the bench's long invoice, so every run finds the one it made before.
LONG_INVOICE_NOTE = "Benchmark invoice with 50 lines, made by bench/run.py."
LONG_INVOICE_LINES = 50
# A "typical" invoice: as many lines as most have, so its PDF is one page.
TYPICAL_LINES = range(2, 6)


def bench_user():
    """The Administrator the pages are requested as; created on first use.

    Its password is random and never shown: the bench logs in with force_login or a session
    it makes itself.
    """
    user = get_user_model().objects.filter(username=BENCH_USERNAME).first()
    if user is not None and user.is_active and role_of(user) == "administrator":
        return user
    return create_user(
        username=BENCH_USERNAME,
        role="administrator",
        email="",
        password=secrets.token_urlsafe(24),
        acting_user=None,
        reset=user is not None,
    )


def bench_client(user) -> Client:
    """The client the bench invoices (issuing phase, the 50-line invoice)."""
    client = Client.objects.filter(code=BENCH_CLIENT_CODE).first()
    if client is not None:
        return client
    return services.create_client(
        acting_user=user,
        code=BENCH_CLIENT_CODE,
        name="Benchmark client",
        email="bench@example.com",
        country="CA",
    )


def bench_lines(count: int) -> list[LineData]:
    return [
        LineData(
            description=f"Benchmark work, item {position}",
            quantity=Decimal("1.5"),
            unit="h",
            unit_price=Decimal("95.00"),
        )
        for position in range(1, count + 1)
    ]


def _not_bench(queryset):
    """Leave out the bench's own client: each run adds invoices to it, and the pages measured
    should not change from one run to the next because of that."""
    bench = Client.objects.filter(code=BENCH_CLIENT_CODE).values_list("pk", flat=True).first()
    return queryset if bench is None else queryset.exclude(client_id=bench)


def biggest_client() -> Client:
    """The client with the most invoices: the longest filtered list and the longest ledger.

    One GROUP BY over the client index of billing_invoice, asked once per run.
    """
    row = (
        _not_bench(Invoice.objects.order_by())
        .values("client_id")
        .annotate(invoices=Count("id"))
        .order_by("-invoices")
        .first()
    )
    if row is None:
        raise LookupError("The database holds no invoice: fill it first (see bench/README.md).")
    return Client.objects.get(pk=row["client_id"])


def typical_invoice() -> Invoice:
    """An issued invoice from the middle of the numbering with a few lines (one PDF page).

    Starts at sequence = max / 2 and takes the first of the next 200 numbers that has
    2 to 5 lines; any issued invoice there when none has.
    """
    # ORDER BY ... LIMIT 1 walks the sequence index from the top; MAX() with a WHERE scans.
    top = (
        _not_bench(Invoice.objects.exclude(sequence=None))
        .order_by("-sequence")
        .values_list("sequence", flat=True)
        .first()
    )
    if top is None:
        raise LookupError("The database holds no issued invoice: fill it first.")
    candidates = list(
        _not_bench(Invoice.objects.filter(sequence__gte=top // 2))
        .exclude(status=InvoiceStatus.CANCELLED)
        .order_by("sequence")
        .values_list("pk", flat=True)[:200]
    )
    line_counts = dict(
        InvoiceLine.objects.filter(invoice_id__in=candidates)
        .order_by()
        .values("invoice_id")
        .annotate(lines=Count("id"))
        .values_list("invoice_id", "lines")
    )
    chosen = next(
        (pk for pk in candidates if line_counts.get(pk, 0) in TYPICAL_LINES), candidates[0]
    )
    return Invoice.objects.get(pk=chosen)


def long_invoice(user, client: Client) -> Invoice:
    """The bench's issued 50-line invoice, made on the first run and kept for the next."""
    found = (
        Invoice.objects.filter(client=client, notes=LONG_INVOICE_NOTE)
        .exclude(number=None)
        .order_by("pk")
        .first()
    )
    if found is not None:
        return found
    # One transaction: a failed issue leaves no orphan draft behind.
    with transaction.atomic():
        draft = services.create_draft(
            client=client,
            acting_user=user,
            lines=bench_lines(LONG_INVOICE_LINES),
            notes=LONG_INVOICE_NOTE,
        )
        return services.issue_invoice(invoice=draft, acting_user=user)


def dataset_counts() -> dict[str, int]:
    """Exact row counts (COUNT(*)); a few seconds on a million invoices, asked once."""
    return {
        "clients": Client.objects.count(),
        "invoices": Invoice.objects.count(),
        "invoice lines": InvoiceLine.objects.count(),
        "payments": Payment.objects.count(),
        "ledger entries": LedgerEntry.objects.count(),
    }
