"""The REST API under load from many clients through two app servers at once (SPEC: Invoice
lifecycle, Payments, Scale), on MariaDB only.

Two gunicorn servers, each with two worker processes, serve the test database; many threads
create and issue drafts and post payments on shared invoices through both of them at once.
Afterwards the invoice numbers are gapless and unique, every invoice's amount paid is what
its confirmed payments say, the ledger invariant holds, and no request got a server error.
"""

from __future__ import annotations

import functools
import random
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

from accounts.services import create_user
from api.models import ApiToken
from billing.models import Invoice, Payment, PaymentStatus
from billing.selectors import clients_breaking_invariant
from tests.servers import Recorder, running_servers

D = Decimal
pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]

SERVERS = 2
THREADS = 16
SHARED_INVOICES = 4
DRAFTS = 100  # invoices issued in all, the shared ones included
PAYMENTS = 64  # posted on the shared invoices during the storm


@pytest.fixture
def servers(business, migration_rows):
    with running_servers(SERVERS, spread_over_nodes=True) as started:
        yield started


def test_invoices_and_payments_through_two_servers_at_once(servers, django_user_model):
    ports = [server.port for server in servers]
    password = secrets.token_urlsafe(18)
    create_user(username="books-http", role="bookkeeper", password=password)
    _, token = ApiToken.objects.create_token(
        user=django_user_model.objects.get(username="books-http"), name="http-test"
    )
    rec = Recorder()

    codes = [f"HTTP{n}" for n in range(4)]
    for n, code in enumerate(codes):
        status, payload = rec.call(
            ports[n % len(ports)],
            "POST",
            "/api/v1/clients/",
            {"code": code, "name": f"Client {code}", "country": "CA", "default_currency": "CAD"},
            token,
        )
        assert status == 201, payload

    def create_and_issue(n):
        port = ports[n % len(ports)]
        status, payload = rec.call(
            port,
            "POST",
            "/api/v1/invoices/",
            {
                "client": codes[n % len(codes)],
                "lines": [
                    {
                        "description": f"Work {n}",
                        "quantity": str(1 + n % 3),
                        "unit_price": f"{100 + n}.00",
                    }
                ],
            },
            token,
        )
        if status != 201:
            return None
        # Issue through the other server than the one that made the draft.
        port = ports[(n + 1) % len(ports)]
        status, payload = rec.call(
            port, "POST", f"/api/v1/invoices/{payload['id']}/issue/", {}, token
        )
        return payload["number"] if status == 200 else None

    # The shared invoices first, one by one: INV-0001 .. INV-0004.
    shared = [create_and_issue(n) for n in range(SHARED_INVOICES)]
    assert shared == [f"INV-{n:04d}" for n in range(1, SHARED_INVOICES + 1)], rec.problems

    # Payments: every fourth one is sent twice at once, through both servers, with the same
    # Idempotency-Key (a client retrying after a timeout): it must count once.
    answers: list[tuple[int, str, Decimal, int, object]] = []
    answers_lock = threading.Lock()

    def pay(n, copy=0):
        rng = random.Random(n)
        number = shared[n % SHARED_INVOICES]
        amount = D(rng.choice(["5.00", "12.34", "20.00", "33.33"]))
        headers = {"Idempotency-Key": f"http-test-pay-{n}"} if n % 4 == 0 else None
        status, payload = rec.call(
            ports[(n + copy) % len(ports)],
            "POST",
            "/api/v1/payments/",
            {
                "invoice": number,
                "amount": str(amount),
                "date": "2026-01-01",
                "method": rng.choice(["bank_transfer", "cash", "cheque", "card"]),
                "confirmed": True,
            },
            token,
            headers=headers,
        )
        with answers_lock:
            answers.append((n, number, amount, status, payload))
        return status

    tasks = [(create_and_issue, n) for n in range(SHARED_INVOICES, DRAFTS)]
    tasks += [(pay, n) for n in range(PAYMENTS)]
    random.Random(2026).shuffle(tasks)
    # The second copy of each keyed payment goes right after the first, to the other server.
    tasks = [
        task
        for work, n in tasks
        for task in (
            [(work, n), (functools.partial(pay, copy=1), n)]
            if work is pay and n % 4 == 0
            else [(work, n)]
        )
    ]
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        futures = [(work, pool.submit(work, n)) for work, n in tasks]
        results = [(work, future.result()) for work, future in futures]
    elapsed = time.monotonic() - started
    numbers = shared + [number for work, number in results if work is create_and_issue]

    assert not rec.problems, "\n".join(rec.problems[:20] + [server.output() for server in servers])
    assert elapsed < 45, f"the storm took {elapsed:.1f}s"
    # Every draft was issued, each with its own number, and the numbers have no gap.
    assert None not in numbers, rec.statuses
    expected_numbers = [f"INV-{n:04d}" for n in range(1, DRAFTS + 1)]
    assert sorted(numbers) == expected_numbers
    rows = Invoice.objects.exclude(number=None).order_by("sequence").values_list("number")
    assert [number for (number,) in rows] == expected_numbers

    # No accepted payment was lost, none counted twice; a payment refused (the invoice was
    # paid in full by then) is a 4xx with a JSON error, checked by the recorder.
    accepted: dict[int, tuple[str, Decimal, list]] = {}
    for n, number, amount, status, payload in answers:
        if status == 201:
            accepted.setdefault(n, (number, amount, []))[2].append(payload)
    for n, (_, _, payloads) in accepted.items():
        # Both copies of a keyed payment that were accepted got the same answer.
        assert all(payload == payloads[0] for payload in payloads), (n, payloads)
        assert len(payloads) == 1 or n % 4 == 0
    confirmed = Payment.objects.filter(status=PaymentStatus.CONFIRMED)
    assert confirmed.count() == len(accepted), rec.statuses
    assert accepted, rec.statuses
    for invoice in Invoice.objects.exclude(number=None):
        paid = sum((p.amount for p in confirmed.filter(invoice=invoice)), D("0.00"))
        sent = sum((a for number, a, _ in accepted.values() if number == invoice.number), D("0"))
        assert paid == sent, invoice.number
        assert invoice.amount_paid == min(invoice.total, paid), invoice.number
        assert invoice.balance_due == invoice.total - invoice.amount_paid
        if invoice.number in shared:
            status, payload = rec.call(
                ports[0], "GET", f"/api/v1/invoices/{invoice.number}/", token=token
            )
            assert status == 200, payload
            assert D(payload["total"]) == invoice.total
            assert D(payload["amount_paid"]) == invoice.amount_paid
            assert D(payload["balance_due"]) == invoice.balance_due
            assert payload["status"] == invoice.status
    assert clients_breaking_invariant() == []
