"""A Galera node killed in the middle of a run, and brought back (SPEC: Scale), on the
three-node cluster of scripts/test_galera.sh; skipped without it.

Two app servers reach the cluster through HAProxy. Threads issue drafts and post payments
through them, each payment with an Idempotency-Key, and do what the API asks of a client:
when the answer is a 503 (busy, or the database could not be reached) or the connection
broke, they send the same request again. Node 2 is killed (SIGKILL, as a crash) while they
run, and started again. Afterwards every request got its answer, no answer was a server
error, every payment counted once, the numbers are gapless, and each node, node 2 included,
holds the same books, on which the ledger invariant holds.
"""

from __future__ import annotations

import itertools
import random
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection

from accounts.services import create_user
from api.models import ApiToken
from billing.models import Invoice, Payment, PaymentStatus
from billing.selectors import clients_breaking_invariant
from tests.galera import NODES, galera, use_node
from tests.servers import request, running_servers

D = Decimal
pytestmark = [
    pytest.mark.galera,
    pytest.mark.concurrency,
    pytest.mark.django_db(transaction=True),
]

DRAFTS = 60
SHARED_INVOICES = 3
THREADS = 8
RETRY_SECONDS = 120  # how long a request is sent again before the client gives up
RETRYABLE = {"busy", "unavailable"}


@pytest.fixture
def servers(business, migration_rows):
    if not NODES:
        pytest.skip("needs the Galera cluster of scripts/test_galera.sh (OTB_GALERA_NODES)")
    with running_servers(2, spread_over_nodes=False) as started:
        yield started


class RetryingClient:
    """An API client that sends a request again while the answer says it may."""

    def __init__(self, ports, token):
        self.ports, self.token = ports, token
        self.lock = threading.Lock()
        self.problems: list[str] = []
        self.retried: dict[str, int] = {}

    def _note(self, what: str, problem: str | None = None) -> None:
        with self.lock:
            self.retried[what] = self.retried.get(what, 0) + 1
            if problem:
                self.problems.append(problem)

    def call(self, n, method, path, body=None, key=None):
        """(status, payload, attempts) of the first answer that is not a retryable error."""
        headers = {"Idempotency-Key": key} if key else None
        deadline = time.monotonic() + RETRY_SECONDS
        attempt = 0
        while True:
            port = self.ports[(n + attempt) % len(self.ports)]
            attempt += 1
            try:
                status, _type, payload = request(
                    port, method, path, body, self.token, timeout=60, headers=headers
                )
            except OSError as exc:
                self._note(f"connection: {type(exc).__name__}")
            else:
                code = payload.get("code") if isinstance(payload, dict) else None
                if status == 503 and code in RETRYABLE:
                    self._note(f"503 {code}")
                elif status >= 500 or (status >= 400 and code is None):
                    self._note(
                        "bad answer", f"{method} {path} {body}: {status} {str(payload)[:300]}"
                    )
                    return status, payload, attempt
                else:
                    return status, payload, attempt
            if time.monotonic() > deadline:
                self._note("gave up", f"{method} {path}: no answer in {RETRY_SECONDS} s")
                return None, None, attempt
            time.sleep(0.2)


def _books_on(port: int) -> tuple:
    """What node ``port`` holds, read through the test's connection pointed at it once the
    node has applied everything the cluster committed before (wsrep_sync_wait)."""
    connection.close()
    use_node(connection.settings_dict, NODES.index(port))
    with connection.cursor() as cursor:
        cursor.execute("SET SESSION wsrep_sync_wait = 1")
        cursor.execute(
            "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS "
            "WHERE VARIABLE_NAME = 'WSREP_LOCAL_STATE_COMMENT'"
        )
        assert cursor.fetchone()[0] == "Synced", f"node on port {port} is not synced"
    books = (
        sorted(Invoice.objects.exclude(number=None).values_list("number", "total", "amount_paid")),
        sorted(
            Payment.objects.filter(status=PaymentStatus.CONFIRMED).values_list(
                "invoice__number", "amount"
            )
        ),
        clients_breaking_invariant(),
    )
    connection.close()
    return books


@pytest.fixture
def proxy_settings():
    """The test's own connection goes back to HAProxy afterwards."""
    saved = {key: connection.settings_dict[key] for key in ("HOST", "PORT")}
    yield
    connection.close()
    connection.settings_dict.update(saved)


def test_a_node_killed_during_a_run_loses_nothing(servers, django_user_model, proxy_settings):
    ports = [server.port for server in servers]
    create_user(username="books-galera", role="bookkeeper", password=secrets.token_urlsafe(18))
    _, token = ApiToken.objects.create_token(
        user=django_user_model.objects.get(username="books-galera"), name="galera-test"
    )
    api = RetryingClient(ports, token)
    status, payload, _ = api.call(
        0,
        "POST",
        "/api/v1/clients/",
        {"code": "GAL", "name": "Galera Ltd", "country": "CA", "default_currency": "CAD"},
        key="galera-client",
    )
    assert status == 201, payload

    drafts = []
    for n in range(DRAFTS):
        # The invoices the payments go to are big enough never to be paid in full.
        price = "1000000.00" if n < SHARED_INVOICES else "100.00"
        status, payload, _ = api.call(
            n,
            "POST",
            "/api/v1/invoices/",
            {
                "client": "GAL",
                "lines": [{"description": f"Work {n}", "quantity": "1", "unit_price": price}],
            },
            key=f"galera-draft-{n}",
        )
        assert status == 201, payload
        drafts.append(payload["id"])

    def issue(n):
        status, payload, attempts = api.call(n, "POST", f"/api/v1/invoices/{drafts[n]}/issue/", {})
        # Sent again after an answer lost on the way: it was issued the first time.
        return status == 200 or (status == 409 and attempts > 1)

    for n in range(SHARED_INVOICES):
        assert issue(n), api.problems
    shared = [f"INV-{n:04d}" for n in range(1, SHARED_INVOICES + 1)]
    paid: list[tuple[str, Decimal]] = []

    def pay(n):
        number = shared[n % SHARED_INVOICES]
        amount = D(random.Random(n).choice(["5.00", "12.34", "20.00", "33.33"]))
        status, payload, _ = api.call(
            n,
            "POST",
            "/api/v1/payments/",
            {
                "invoice": number,
                "amount": str(amount),
                "date": "2026-01-01",
                "method": "bank_transfer",
                "confirmed": True,
            },
            key=f"galera-pay-{n}",
        )
        if status == 201:
            with api.lock:
                paid.append((number, amount))
        return status == 201

    # Issuing first, then payments until node 2 is back and a little longer: the crash
    # always lands in the middle of the run, however fast the machine.
    to_issue = list(range(SHARED_INVOICES, DRAFTS))
    recovered = threading.Event()
    counter = itertools.count()
    outcomes: list[bool] = []

    def worker():
        while True:
            n = next(counter)
            if n < len(to_issue):
                outcomes.append(issue(to_issue[n]))
            elif not recovered.is_set():
                outcomes.append(pay(n))
            else:
                return

    def crash_and_recover():
        time.sleep(1)
        galera("kill", "2")
        time.sleep(4)
        galera("revive", "2")
        time.sleep(2)
        recovered.set()

    with ThreadPoolExecutor(max_workers=THREADS + 1) as pool:
        chaos = pool.submit(crash_and_recover)
        workers = [pool.submit(worker) for _ in range(THREADS)]
        for future in [chaos, *workers]:
            future.result()

    assert not api.problems, "\n".join(api.problems[:20])
    assert all(outcomes), api.retried
    assert len(paid) > 50, "too few payments to say anything"

    books = _books_on(NODES[0])
    invoices, payments, broken = books
    assert [number for number, *_ in invoices] == [f"INV-{n:04d}" for n in range(1, DRAFTS + 1)]
    # One payment for each key answered 201, and each invoice's amount paid adds them up.
    assert payments == sorted(paid)
    for number, total, amount_paid in invoices:
        assert amount_paid == min(total, sum(a for n, a in paid if n == number)), number
    assert broken == []
    # Every node, the one that was killed too, holds exactly these books.
    for port in NODES[1:]:
        assert _books_on(port) == books, f"node on port {port} differs"
    print(f"retried: {api.retried}")
