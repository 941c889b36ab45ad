"""The quick start says whether its mail sink runs (issue 16, item 8): it waits until the
sink says it listens or has exited (scripts/lib.sh wait_until_ready), and says which."""

import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_sink_and_wait(port: int, tmp_path: Path) -> tuple[int, str]:
    log = tmp_path / "mailsink.log"
    script = (
        ". scripts/lib.sh; "
        f"{sys.executable} manage.py mailsink --port {port} --dir {tmp_path / 'mail'} "
        f">{log} 2>&1 & pid=$!; "
        f"state=0; wait_until_ready $pid {log} 'Mail sink on' 60 || state=$?; "
        "kill $pid 2>/dev/null; wait $pid 2>/dev/null; exit $state"
    )
    env = os.environ | {"DJANGO_SETTINGS_MODULE": "otb.settings_test"}
    done = subprocess.run(["bash", "-c", script], cwd=ROOT, env=env, timeout=120)
    return done.returncode, log.read_text()


def test_a_sink_that_listens_is_reported_up(tmp_path):
    state, log = start_sink_and_wait(free_port(), tmp_path)
    assert state == 0, log
    assert "Mail sink on" in log


def test_a_sink_whose_port_is_taken_is_reported_as_not_started(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        state, log = start_sink_and_wait(taken.getsockname()[1], tmp_path)
    assert state == 1, log
    assert "Cannot listen on 127.0.0.1" in log
    assert "Mail sink on" not in log
