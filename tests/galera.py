"""The Galera cluster the cluster tests run on, when there is one (scripts/test_galera.sh).

``OTB_GALERA_NODES`` lists the nodes' ports ("3311,3312,3313"); the test database is reached
through HAProxy (``DATABASE_URL``), and the concurrency tests spread their writers over the
nodes by these ports, so rows locked through one node do not block a writer on another.
Without it, everything runs on the one database of ``DATABASE_URL``.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

NODES = [int(port) for port in os.environ.get("OTB_GALERA_NODES", "").split(",") if port]
SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "galera.sh"


def node_port(index: int) -> int | None:
    """The port of the node writer ``index`` uses, or None off a cluster."""
    return NODES[index % len(NODES)] if NODES else None


def use_node(settings_dict: dict, index: int) -> None:
    """Point a connection's settings (before it connects) at writer ``index``'s node."""
    port = node_port(index)
    if port is not None:
        settings_dict["HOST"] = "127.0.0.1"
        settings_dict["PORT"] = port


def galera(*args: str) -> str:
    """Run scripts/galera.sh (kill N, revive N, status) on the running cluster."""
    done = subprocess.run(
        ["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=180, check=False
    )
    assert done.returncode == 0, f"galera.sh {' '.join(args)}: {done.stdout}{done.stderr}"
    return done.stdout
