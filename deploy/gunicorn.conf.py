"""gunicorn settings for an installed instance (``gunicorn -c deploy/gunicorn.conf.py``).

Read from the instance's env file (``OTB_ENV_FILE``), like the app's own settings:

- ``OTB_PORT`` (default 5050) or ``OTB_BIND`` (default ``127.0.0.1:$OTB_PORT``): gunicorn
  listens on the loopback only; nginx in front of it serves the world.
- ``WEB_CONCURRENCY``: worker processes (default: 2 per CPU + 1, at most 8). Each holds one
  request at a time; a PDF of a long invoice keeps its worker for up to a second.
- ``GUNICORN_TIMEOUT`` (default 60 s): a worker whose main thread is silent that long is
  restarted. Not under 5 s: after each answer that thread waits up to 2 s for the client to
  close (gunicorn's graceful close).

Threaded workers (gthread) with one request thread each. A sync worker tells the arbiter it
is alive only between requests, so a download outlasting the timeout (a large export to a
slow client) had its worker killed half-way, streamed or not. Here the main thread keeps
telling it while the request thread serves: the timeout restarts a worker that hangs as a
whole, never cuts a long request (a stuck one is still bounded by the database's lock waits
and by nginx's ``proxy_read_timeout`` between two reads). One thread, not more: a worker
still holds one request and one database connection (Django opens one per thread, kept
``DB_CONN_MAX_AGE`` seconds), so connections and memory stay what ``WEB_CONCURRENCY`` says.
``worker_connections = 1`` keeps it so: a busy worker stops accepting, and a new request
goes to an idle worker instead of waiting behind a long download. No keep-alive, as with
sync workers: a kept connection would be that one connection.
exports/tests/test_streaming_server.py checks all this on a real server.
"""

import multiprocessing
import os
from pathlib import Path

import environ

_env = environ.Env()
_env_file = os.environ.get("OTB_ENV_FILE")
if _env_file and Path(_env_file).is_file():
    _env.read_env(_env_file)

bind = _env.str("OTB_BIND", default=f"127.0.0.1:{_env.int('OTB_PORT', default=5050)}")
workers = _env.int("WEB_CONCURRENCY", default=min(2 * multiprocessing.cpu_count() + 1, 8))
worker_class = "gthread"
threads = 1
worker_connections = 1
timeout = _env.int("GUNICORN_TIMEOUT", default=60)
# On stop or restart, requests under way get this long to finish.
graceful_timeout = 30
keepalive = 0
# A worker is replaced after this many requests, so a slow leak cannot grow for weeks.
max_requests = 1000
max_requests_jitter = 100
# Logs go to the journal under systemd; the installer's --no-systemd mode names files.
accesslog = "-"
errorlog = "-"
# The access log names a document link's path without its token (otb/access_log.py).
logger_class = "otb.access_log.MaskedLinksLogger"
# nginx on the same machine sets X-Forwarded-Proto; the app trusts it only with HTTPS=true.
forwarded_allow_ips = "127.0.0.1,::1"
proc_name = "otb-billing-" + _env.str("OTB_INSTANCE", default="main")
