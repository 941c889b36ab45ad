"""The REST API under load from many clients through two app servers at once (SPEC: Invoice
lifecycle, Payments, Scale), on MariaDB only.

Two gunicorn servers, each with two worker processes, serve the test database; many threads
create and issue drafts and post payments on shared invoices through both of them at once.
Afterwards the invoice numbers are gapless and unique, every invoice's amount paid is what
its confirmed payments say, the ledger invariant holds, and no request got a server error.
"""

from __future__ import annotations

import functools
import http.client
import json
import os
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from accounts.services import create_user
from api.models import ApiToken
from billing.models import Invoice, Payment, PaymentStatus
from ledger.selectors import clients_breaking_invariant

D = Decimal
pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]

BASE_DIR = Path(settings.BASE_DIR)
GUNICORN = Path(sys.executable).with_name("gunicorn")
SERVERS = 2
THREADS = 16
SHARED_INVOICES = 4
DRAFTS = 100  # invoices issued in all, the shared ones included
PAYMENTS = 64  # posted on the shared invoices during the storm
START_TIMEOUT = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    """The URL of the database this test runs on (the test database pytest-django made)."""
    db = connection.settings_dict
    user = quote(db["USER"] or "", safe="")
    password = quote(db["PASSWORD"] or "", safe="")
    host = db["HOST"] or "127.0.0.1"
    port = db["PORT"] or 3306
    return f"mysql://{user}:{password}@{host}:{port}/{db['NAME']}"


def server_env() -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "OTB_", "DATABASE_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="otb.settings",
        DATABASE_URL=database_url(),
        SECRET_KEY=settings.SECRET_KEY,
        DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        OTB_ENV_FILE="/nonexistent/otb-http-test.env",
        # No collectstatic in the tests: serve static files from the app folders.
        STATICFILES_BACKEND="django.contrib.staticfiles.storage.StaticFilesStorage",
        PYTHONUNBUFFERED="1",
    )
    return env


def request(port, method, path, body=None, token=None, timeout=30, headers=None):
    """One HTTP request; returns (status, content type, parsed JSON or raw text)."""
    headers = {"Accept": "application/json", **(headers or {})}
    if token:
        headers["Authorization"] = f"Token {token}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        raw = response.read()
        content_type = response.getheader("Content-Type", "")
    finally:
        conn.close()
    text = raw.decode("utf-8", "replace")
    if content_type.startswith("application/json"):
        try:
            return response.status, content_type, json.loads(text)
        except ValueError:
            pass
    return response.status, content_type, text


class Server:
    """A gunicorn serving the test database on a free port; output kept in a file."""

    def __init__(self, env, log_dir):
        self.port = free_port()
        self.log_path = Path(log_dir) / f"gunicorn-{self.port}.log"
        self.log = open(self.log_path, "wb")  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(
            [
                str(GUNICORN),
                "otb.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "2",
                "--timeout",
                "60",
                "--graceful-timeout",
                "5",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")[-5000:]

    def wait_until_ready(self, deadline):
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(
                    f"gunicorn on port {self.port} exited with {self.process.returncode}:\n"
                    + self.output()
                )
            try:
                status, _, _ = request(self.port, "GET", "/login/", timeout=2)
            except OSError:
                time.sleep(0.2)
                continue
            if status == 200:
                return
            pytest.fail(f"gunicorn on port {self.port}: /login/ answered {status}\n{self.output()}")
        pytest.fail(f"gunicorn on port {self.port} did not answer in time:\n{self.output()}")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


@pytest.fixture
def servers(business, migration_rows):
    if connection.vendor != "mysql":
        pytest.skip(
            "needs MariaDB: two app servers and the test share one database server "
            "(run with DATABASE_URL=mysql://...)"
        )
    if not GUNICORN.exists():
        pytest.skip(f"gunicorn is not installed at {GUNICORN}")
    env = server_env()
    started = []
    with tempfile.TemporaryDirectory(prefix="otb-http-") as log_dir:
        try:
            for _ in range(SERVERS):
                started.append(Server(env, log_dir))
            deadline = time.monotonic() + START_TIMEOUT
            for server in started:
                server.wait_until_ready(deadline)
            yield started
        finally:
            for server in started:
                server.stop()


class Recorder:
    """Every response of the storm, thread-safe; fails on server errors and non-JSON 4xx."""

    def __init__(self):
        self.lock = threading.Lock()
        self.problems: list[str] = []
        self.statuses: dict[int, int] = {}

    def call(self, port, method, path, body=None, token=None, headers=None):
        try:
            status, content_type, payload = request(
                port, method, path, body, token, headers=headers
            )
        except OSError as exc:
            with self.lock:
                self.problems.append(f"{method} {path} on :{port}: {exc!r}")
            return None, None
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if status >= 500:
                self.problems.append(f"{method} {path} on :{port} {body}: {status} {payload}")
            elif status >= 400 and not isinstance(payload, dict):
                self.problems.append(
                    f"{method} {path} on :{port} {body}: {status} without a JSON error "
                    f"({content_type}): {str(payload)[:300]}"
                )
        return status, payload


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

    assert not rec.problems, "\n".join(rec.problems[:20])
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
