"""App servers for the tests that drive the API over HTTP (api/tests/test_http_concurrency.py,
tests/test_galera.py): gunicorn processes serving the test database on free ports, one
request helper, and a recorder of every answer that fails on a server error."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from tests.galera import use_node

BASE_DIR = Path(settings.BASE_DIR)
GUNICORN = Path(sys.executable).with_name("gunicorn")
START_TIMEOUT = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url(node: int | None = None) -> str:
    """The URL of the database this test runs on (the test database pytest-django made); on
    a Galera cluster, through node ``node`` (tests/galera.py) when one is given."""
    db = dict(connection.settings_dict)
    if node is not None:
        use_node(db, node)
    user = quote(db["USER"] or "", safe="")
    password = quote(db["PASSWORD"] or "", safe="")
    host = db["HOST"] or "127.0.0.1"
    port = db["PORT"] or 3306
    return f"mysql://{user}:{password}@{host}:{port}/{db['NAME']}"


def server_env(node: int | None = None) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "OTB_", "DATABASE_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="otb.settings",
        DATABASE_URL=database_url(node),
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


@contextlib.contextmanager
def running_servers(count: int, *, spread_over_nodes: bool):
    """``count`` gunicorn servers on the test database (MariaDB only); with
    ``spread_over_nodes``, on a Galera cluster, each talks to a node of its own, otherwise
    all go through DATABASE_URL (HAProxy, on a cluster)."""
    if connection.vendor != "mysql":
        pytest.skip(
            "needs MariaDB: the app servers and the test share one database server "
            "(run with DATABASE_URL=mysql://...)"
        )
    if not GUNICORN.exists():
        pytest.skip(f"gunicorn is not installed at {GUNICORN}")
    started = []
    with tempfile.TemporaryDirectory(prefix="otb-http-") as log_dir:
        try:
            for index in range(count):
                started.append(Server(server_env(index if spread_over_nodes else None), log_dir))
            deadline = time.monotonic() + START_TIMEOUT
            for server in started:
                server.wait_until_ready(deadline)
            yield started
        finally:
            for server in started:
                server.stop()
