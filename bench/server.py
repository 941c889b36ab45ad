"""Phases d and e: the app behind gunicorn, as an installation serves it.

d. Throughput: wrk against the invoice page and against /bench/hello/ (bench/urls.py) on
   gunicorn with 2 workers; the ratio is the share of a bare Django request's rate the
   invoice page keeps.
e. Memory: one worker answers thousands of requests over every page of phase a; its resident
   memory before and after says whether a worker grows (deploy/gunicorn.conf.py recycles
   workers every 1000 requests; the bench turns that off to see the growth).

Every gunicorn started here is stopped on the way out, also after an error.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from importlib import import_module
from pathlib import Path

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

from .pages import PageFailed

PROJECT_ROOT = Path(__file__).resolve().parent.parent
THROUGHPUT_RATIO_TARGET = 0.40
MEMORY_TARGET_MB = 200
READY_TIMEOUT = 60
# A deep page of a million invoices may take seconds; gunicorn must not kill it.
WORKER_TIMEOUT = 300


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def session_cookie(user) -> str:
    """A "Cookie:" value logging ``user`` in, from a session made as django.contrib.auth's
    login() makes one (the bench user's password is never known)."""
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = user._meta.pk.value_to_string(user)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def status_kb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of a process, in kB, from /proc/<pid>/status."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0])
    return values


class Gunicorn:
    """gunicorn serving otb.wsgi with bench.settings on a free port of 127.0.0.1.

    A context manager: entering starts it and waits until it answers, leaving stops it.
    """

    def __init__(self, *, workers: int):
        self.workers = workers
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        # Kept after an error (its path is printed), removed otherwise.
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in stop()
            prefix="otb-bench-gunicorn-", suffix=".log", delete=False
        )

    def __enter__(self) -> Gunicorn:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, exc_type, exc_value, traceback) -> None:
        self.stop()
        if exc_type is None:
            Path(self.log.name).unlink(missing_ok=True)
        else:
            print(f"  gunicorn's log: {self.log.name}", flush=True)

    def start(self) -> None:
        # otb/wsgi.py only sets DJANGO_SETTINGS_MODULE when it is not set: ours wins.
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings"}
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "otb.wsgi:application",
            f"--bind=127.0.0.1:{self.port}",
            f"--workers={self.workers}",
            f"--timeout={WORKER_TIMEOUT}",
            "--graceful-timeout=10",
            f"--chdir={PROJECT_ROOT}",
        ]
        self.process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )
        self._wait_ready()

    def _wait_ready(self) -> None:
        """Until every worker is up and one answered /bench/hello/."""
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited with {self.process.returncode}:\n{self.tail()}"
                )
            try:
                status, _ = self.get("/bench/hello/")
            except OSError:
                status = None
            if status == 200 and len(self.worker_pids()) == self.workers:
                return
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer within {READY_TIMEOUT} s:\n{self.tail()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # the master stops its workers gracefully
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()

    def tail(self, lines: int = 30) -> str:
        self.log.flush()
        text = Path(self.log.name).read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def worker_pids(self) -> list[int]:
        """The master's children: its workers."""
        master = self.process.pid
        listed = list(Path(f"/proc/{master}/task").glob("*/children"))
        if listed:
            return sorted(int(pid) for path in listed for pid in path.read_text().split())
        # Kernels without CONFIG_PROC_CHILDREN: the parent pid is field 4 of /proc/<pid>/stat.
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # the process ended meanwhile
            if int(fields[1]) == master:
                pids.append(int(stat.parent.name))
        return sorted(pids)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def get(self, path: str, cookie: str = "", connection=None) -> tuple[int, bytes]:
        conn = connection or http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        try:
            conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            if connection is None:
                conn.close()


# --- d. Throughput ------------------------------------------------------------------------
def ensure_wrk() -> str:
    """The path of wrk; installed with apt-get when missing and allowed (root)."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        raise RuntimeError("wrk is not installed: sudo apt-get install -y wrk")
    install = ["apt-get", "install", "-y", "-q", "wrk"]
    if subprocess.run(install, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], check=True, capture_output=True)
        subprocess.run(install, check=True, capture_output=True)
    return shutil.which("wrk") or "wrk"


def run_wrk(wrk: str, url: str, *, cookie: str, seconds: int) -> dict:
    """``wrk -t2 -c8`` for ``seconds``; fails when any answer was not 2xx or 3xx."""
    command = [wrk, "-t2", "-c8", f"-d{seconds}s", "-H", f"Cookie: {cookie}", url]
    output = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=seconds + 120
    ).stdout
    rate = re.search(r"Requests/sec:\s*([\d.]+)", output)
    if rate is None:
        raise RuntimeError(f"No Requests/sec in wrk's output:\n{output}")
    bad = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", output)
    if bad:
        raise PageFailed(f"{url}: {bad.group(1)} answers were not 2xx or 3xx\n{output}")
    latency = re.search(r"Latency\s+(\S+)", output)
    errors = re.search(r"Socket errors:.*", output)
    return {
        "url": url,
        "requests_per_second": float(rate.group(1)),
        "average_latency": latency.group(1) if latency else None,
        "socket_errors": errors.group(0) if errors else None,
    }


def throughput(user, invoice_path: str, *, seconds: int, log) -> dict:
    wrk = ensure_wrk()
    cookie = session_cookie(user)
    with Gunicorn(workers=2) as server:
        # Warm both workers up (imports, template loading) and check the page answers.
        for _ in range(20):
            for path in (invoice_path, "/bench/hello/"):
                status, _ = server.get(path, cookie)
                if status != 200:
                    raise PageFailed(f"GET {path} on gunicorn answered {status}, not 200")
        hello = run_wrk(wrk, server.url("/bench/hello/"), cookie=cookie, seconds=seconds)
        log(f"  /bench/hello/: {hello['requests_per_second']:.1f} requests/s")
        invoice = run_wrk(wrk, server.url(invoice_path), cookie=cookie, seconds=seconds)
        log(f"  {invoice_path}: {invoice['requests_per_second']:.1f} requests/s")
    ratio = invoice["requests_per_second"] / hello["requests_per_second"]
    return {
        "workers": 2,
        "seconds": seconds,
        "hello": hello,
        "invoice": invoice,
        "ratio": round(ratio, 3),
        "target_ratio": THROUGHPUT_RATIO_TARGET,
        "met": ratio >= THROUGHPUT_RATIO_TARGET,
    }


# --- e. Memory ----------------------------------------------------------------------------
def memory(user, paths: list[str], *, requests: int, budget: float, log) -> dict:
    """``requests`` GETs, one after the other, rotating over ``paths``, to one worker.

    Stops after ``budget`` seconds even if fewer were sent: with pages of seconds, ten
    thousand requests would take hours. The report says how many were sent.
    """
    cookie = session_cookie(user)
    with Gunicorn(workers=1) as server:
        (worker,) = server.worker_pids()
        # The ready check was its first request (/bench/hello/): Django is loaded, no page yet.
        before = status_kb(worker)
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=600)
        started = time.monotonic()
        sent = 0
        try:
            while sent < requests and time.monotonic() - started < budget:
                path = paths[sent % len(paths)]
                status, _ = server.get(path, cookie, connection=connection)
                if status != 200:
                    raise PageFailed(f"GET {path} on gunicorn answered {status}, not 200")
                sent += 1
                if sent % 1000 == 0:
                    rss = status_kb(worker)["VmRSS"] / 1024
                    log(f"  {sent} requests, {time.monotonic() - started:.0f} s, RSS {rss:.0f} MB")
        finally:
            connection.close()
        seconds = time.monotonic() - started
        after = status_kb(worker)
        if server.worker_pids() != [worker]:
            raise RuntimeError("The gunicorn worker was replaced during the run:\n" + server.tail())
    after_mb = after["VmRSS"] / 1024
    if sent < requests:
        log(f"  stopped by the time budget ({budget:.0f} s) after {sent} of {requests} requests")
    return {
        "requests": sent,
        "requests_asked": requests,
        "budget_seconds": budget,
        "pages": len(paths),
        "seconds": round(seconds, 1),
        "rss_before_mb": round(before["VmRSS"] / 1024, 1),
        "rss_after_mb": round(after_mb, 1),
        "peak_rss_mb": round(after["VmHWM"] / 1024, 1),
        "target_mb": MEMORY_TARGET_MB,
        "met": after_mb < MEMORY_TARGET_MB,
    }
