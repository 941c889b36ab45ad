"""A deadlock that some code catches is still retried (otb.operations._SwallowedErrorWatch).

Django's check-constraint validation (``Q.check``, run by ``full_clean``) catches a
DatabaseError and answers "valid". On MariaDB a deadlock has rolled the transaction back
already, and on a Galera cluster a transaction aborted by a replicated write meets its 1213
on whatever statement comes next: CI saw ``create_draft`` answer 500 with "An error occurred
in the current transaction" when that statement was the check of a line. These tests put the
deadlock on exactly that query, as the server would, and expect the operation to run again.
"""

from decimal import Decimal

import pytest
from django.db import OperationalError, connection, transaction

from billing import services
from billing.models import Client, Invoice, Service
from billing.services.figures import LineData
from otb.operations import REGISTRY, operation

pytestmark = pytest.mark.django_db(transaction=True)


class DeadlockOnce:
    """Fails the first constraint check with MariaDB's 1213 and, as the server has rolled
    the transaction back, the rollback to its savepoint too."""

    def __init__(self):
        self.fired = False
        self.failing = False

    def __call__(self, execute, sql, params, many, context):
        if not self.fired and "_check" in sql:
            self.fired = self.failing = True
            raise OperationalError(1213, "Deadlock found when trying to get lock")
        if self.failing and sql.upper().startswith("ROLLBACK TO SAVEPOINT"):
            self.failing = False
            raise OperationalError(1305, "SAVEPOINT does not exist")
        return execute(sql, params, many, context)


@pytest.fixture
def acme(business):
    return Client.objects.create(code="ACME", name="Acme", country="CA", default_currency="CAD")


def test_a_deadlock_swallowed_by_a_constraint_check_runs_the_operation_again(acme, monkeypatch):
    fault = DeadlockOnce()
    real = services.invoices.clean_lines
    attempts = []

    def clean_lines_under_fault(*args, **kwargs):
        attempts.append(1)
        with connection.execute_wrapper(fault):
            return real(*args, **kwargs)

    monkeypatch.setattr(services.invoices, "clean_lines", clean_lines_under_fault)

    draft = services.create_draft(
        client=acme,
        acting_user=None,
        lines=[LineData(description="Work", quantity="2", unit_price="50")],
    )

    assert fault.fired
    assert len(attempts) == 2
    assert Invoice.objects.get(pk=draft.pk).total == Decimal("113.00")


def test_an_operation_that_would_return_after_a_swallowed_deadlock_runs_again(acme):
    """Had the check been its last query, the operation would have returned and its atomic
    block rolled back in silence: a write lost while the caller was told it was done."""
    fault = DeadlockOnce()
    attempts = []

    @operation
    def write_then_check() -> None:
        attempts.append(1)
        services.update_client(client=acme, acting_user=None, name=f"Acme {len(attempts)}")
        with connection.execute_wrapper(fault):
            Service(code="NEW", name="New", unit_price=Decimal(1)).full_clean()

    try:
        write_then_check()
    finally:
        REGISTRY.pop(f"{__name__}.{write_then_check.__qualname__}")

    assert len(attempts) == 2
    assert Client.objects.get(pk=acme.pk).name == "Acme 2"
    assert not connection.in_atomic_block


def test_an_error_caught_where_the_transaction_survives_is_not_retried(acme):
    """SQLite's "database is locked" or a deadlock inside a savepoint that rolled back
    cleanly leaves the transaction usable: the operation goes on, once."""
    attempts = []

    def deadlock_once(execute, sql, params, many, context):
        if "_check" in sql and not attempts[1:]:
            attempts.append("fault")
            raise OperationalError(1213, "Deadlock found when trying to get lock")
        return execute(sql, params, many, context)

    @operation
    def check_once() -> None:
        attempts.append(1)
        with connection.execute_wrapper(deadlock_once):
            Service(code="NEW", name="New", unit_price=Decimal(1)).full_clean()
        services.update_client(client=acme, acting_user=None, name="Acme once")

    try:
        check_once()
    finally:
        REGISTRY.pop(f"{__name__}.{check_once.__qualname__}")

    assert attempts == [1, "fault"]
    assert Client.objects.get(pk=acme.pk).name == "Acme once"
    with transaction.atomic():
        assert Client.objects.count() == 1
