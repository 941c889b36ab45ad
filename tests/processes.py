"""Running work at once in several OS processes against the real test database.

The caller commits its data; ``run_in_processes`` closes the database connections and forks.
The children inherit the settings that point at the test database, open their own
connections, wait for each other at a barrier, work, and report what they did (or their
traceback) on a queue.
"""

import multiprocessing
import queue
import time
import traceback

import pytest
from django.db import connection, connections

from tests.galera import use_node


def _child(index, work, share, start, reports):
    # The parent closed its connections before forking, so there is nothing shared to close
    # here; this only makes sure the child opens connections of its own.
    connections.close_all()
    # On a Galera cluster each child writes through its own node (tests/galera.py).
    use_node(connection.settings_dict, index)
    try:
        start.wait(timeout=30)
        report = (index, "ok", work(share), connection.settings_dict["NAME"])
    except BaseException:
        report = (index, "error", traceback.format_exc(), None)
    finally:
        connections.close_all()
    reports.put(report)


def run_in_processes(work, shares, *, timeout=90):
    """Run ``work(share)`` in one forked process per share, all released at once. Returns
    what each returned, in the order of ``shares``; fails with every child's traceback."""
    context = multiprocessing.get_context("fork")
    start = context.Barrier(len(shares))
    reports = context.Queue()
    database = connection.settings_dict["NAME"]
    # A forked child must never use the parent's socket or file handle.
    connections.close_all()
    processes = [
        context.Process(target=_child, args=(index, work, share, start, reports))
        for index, share in enumerate(shares)
    ]
    for process in processes:
        process.start()
    outcomes = {}
    deadline = time.monotonic() + timeout
    try:
        for _ in processes:
            index, status, payload, child_database = reports.get(
                timeout=max(1.0, deadline - time.monotonic())
            )
            outcomes[index] = (status, payload, child_database)
    except queue.Empty:
        pytest.fail(f"only {len(outcomes)} of {len(processes)} processes reported in {timeout}s")
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join()
    errors = [payload for status, payload, _ in outcomes.values() if status == "error"]
    assert not errors, "\n".join(errors)
    assert [process.exitcode for process in processes] == [0] * len(processes)
    # The children worked on the test database, not on the one the settings named at first.
    assert {child_database for _, _, child_database in outcomes.values()} == {database}
    return [outcomes[index][1] for index in range(len(shares))]
