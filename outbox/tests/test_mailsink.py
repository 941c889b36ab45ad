"""``manage.py mailsink`` whose port is taken says so and exits non-zero (issue 16, item 8):
the quick start tells "could not start" from "listens" by that."""

import os
import socket
import subprocess
import sys

from django.conf import settings


def test_the_mail_sink_exits_with_a_clear_message_when_its_port_is_taken(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "manage.py", "mailsink", "--port", str(port), "--dir", str(tmp_path)],
            cwd=settings.BASE_DIR,
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "otb.settings_test"},
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode != 0
    assert f"Cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Choose another with --port" in done.stderr
    assert "Mail sink on" not in done.stdout
