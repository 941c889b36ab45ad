"""The lock order of every operation (billing.services): clients by ascending id, then the
invoice, then the payment. An operation that finds, once it holds the invoice, that the
invoice moved to another client since it read the client starts over instead of locking
that client after the invoice (which could deadlock with an operation keeping the order).

Row locks and their waits are MariaDB's: SQLite locks the whole database, in one order.
"""

import re

import pytest
from django.db import connection, connections

from billing import services
from billing.models import InvoiceStatus
from billing.services import locking
from tests.factories import ClientFactory, issued

pytestmark = pytest.mark.django_db(transaction=True)

FROM = re.compile(r"\bFROM\s+[`\"]?(\w+)[`\"]?", re.IGNORECASE)


def lock_steps(statements: list[str]) -> list[str]:
    """Each statement as "read" (the invoice's client, read before any lock), "client" or
    "invoice" (rows locked with FOR UPDATE); other statements are left out."""
    steps = []
    for sql in statements:
        table = FROM.search(sql)
        table = table.group(1) if table else ""
        if "FOR UPDATE" in sql.upper() and table in ("billing_client", "billing_invoice"):
            steps.append(table.removeprefix("billing_"))
        elif table == "billing_invoice" and "client_id" in sql and "FOR UPDATE" not in sql:
            steps.append("read")
    return steps


def test_lock_steps_are_read_from_the_sql():
    assert lock_steps(
        [
            "SELECT `billing_invoice`.`client_id` FROM `billing_invoice` WHERE id = 1",
            "SELECT * FROM `billing_client` WHERE id IN (1) ORDER BY id FOR UPDATE",
            "SELECT * FROM `billing_invoice` INNER JOIN `billing_client` ON x FOR UPDATE",
            "UPDATE `billing_invoice` SET status = 'cancelled'",
        ]
    ) == ["read", "client", "invoice"]


def broken_order(steps: list[str]) -> bool:
    """Whether a client is locked after the invoice in one attempt (an attempt starts with
    reading the invoice's client)."""
    invoice_locked = False
    for step in steps:
        if step == "read":
            invoice_locked = False
        elif step == "invoice":
            invoice_locked = True
        elif step == "client" and invoice_locked:
            return True
    return False


@pytest.mark.skipif(connection.vendor != "mysql", reason="row locks are MariaDB's")
def test_an_invoice_moved_while_an_operation_waits_is_locked_in_order(
    business, migration_rows, monkeypatch
):
    """The invoice moves to GLOBEX while the cancel waits for ACME's lock (the move is made
    at that moment, as the transaction that moved it would commit then). The cancel must
    not lock GLOBEX after the invoice: it starts over, reads GLOBEX, and locks it first."""
    acme, globex = ClientFactory(code="ACME"), ClientFactory(code="GLOBEX")
    invoice = issued(client=acme)
    lock_clients = locking.lock_clients
    moves = []

    def lock_clients_while_it_moves(client_ids):
        if not moves:
            moves.append(globex.pk)
            mover = connections.create_connection("default")  # another session, autocommit
            try:
                with mover.cursor() as cursor:
                    cursor.execute(
                        "UPDATE billing_invoice SET client_id = %s WHERE id = %s",
                        [globex.pk, invoice.pk],
                    )
            finally:
                mover.close()
        return lock_clients(client_ids)

    monkeypatch.setattr(locking, "lock_clients", lock_clients_while_it_moves)
    statements: list[str] = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        services.cancel_invoice(invoice=invoice, acting_user=None, reason="Wrong client")

    steps = lock_steps(statements)
    assert not broken_order(steps), steps
    assert steps[:6] == ["read", "client", "invoice", "read", "client", "invoice"], steps
    invoice.refresh_from_db()
    assert (invoice.client_id, invoice.status) == (globex.pk, InvoiceStatus.CANCELLED)
