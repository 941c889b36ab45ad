"""What every domain operation (a write, in any app's ``services.py``) shares.

- ``DomainError``: the one error type an operation raises when the rules of SPEC.md refuse
  what was asked. It carries a machine-readable ``code``, a sentence for the user, and for bad
  input the field it is about, so pages, the admin, commands and the API can all show it.
- ``@operation``: runs the function in one transaction and, on a deadlock, runs it again as a
  whole, a bounded number of times (SPEC: Scale). Operations therefore re-read every row they
  change (``select_for_update``) instead of trusting instances handed to them.
"""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import OperationalError, transaction
from django.db.models import Model
from django.utils.text import capfirst

from audit.recording import operation_scope

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


class DomainError(Exception):
    """An operation refused by a rule of the product; nothing was changed."""

    code = "refused"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.field = field

    def __str__(self) -> str:
        return self.message


class InvalidInput(DomainError):
    """A value the user typed is wrong; ``field`` names it, ``errors`` holds every field."""

    code = "invalid"

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        field, messages = next(iter(errors.items()))
        super().__init__(messages[0], field=field)

    @classmethod
    def single(cls, field: str, message: str) -> InvalidInput:
        return cls({field: [message]})

    @classmethod
    def from_validation_error(cls, exc, model=None) -> InvalidInput:
        """From a Django ValidationError; with ``model``, each message starts with the
        label of its field ("Client code: ...")."""
        if not hasattr(exc, "error_dict"):
            return cls({"__all__": [str(m) for m in exc.messages]})
        return cls(
            {
                field: [_labelled(model, field, str(message)) for message in messages]
                for field, messages in exc.message_dict.items()
            }
        )


def field_label(model: type[Model] | Model, field: str) -> str:
    """The model field's label as the user reads it ("Client code"); the name itself for
    a relation without one."""
    label = getattr(model._meta.get_field(field), "verbose_name", None) or field
    # capfirst, not capitalize(): "SMTP port" stays "SMTP port", not "Smtp port".
    return str(capfirst(label))


def _labelled(model: Any, field: str, message: str) -> str:
    if model is None or field == "__all__":
        return message
    try:
        label = field_label(model, field)
    except FieldDoesNotExist:  # a form-level key that is not a model field
        return message
    return f"{label}: {message}"


class NotPermitted(DomainError):
    code = "not_permitted"


# MariaDB/MySQL: 1213 deadlock (also what Galera answers on a certification failure),
# 1205 lock wait timeout. SQLite: "database is locked" when the busy timeout ran out.
RETRYABLE_MYSQL_CODES = {1213, 1205}
# The longest pause, in seconds, before a write is tried again; the pauses are random so that
# writers that collided do not collide again.
MAX_PAUSE = 0.5


class StaleRead(OperationalError):
    """Rows an operation read before locking them changed before it got the locks (an
    invoice moved to another client): the operation starts over in a new transaction,
    which reads them again, so locks are always taken in the documented order. Retryable
    like a deadlock, and answered like one ("busy") should every attempt meet it."""


def is_retryable(exc: OperationalError) -> bool:
    if isinstance(exc, StaleRead):
        return True
    code = exc.args[0] if exc.args else None
    if code in RETRYABLE_MYSQL_CODES:
        return True
    return "database is locked" in str(exc)


class _SwallowedErrorWatch:
    """Remembers a deadlock (or certification failure) raised by any query of one attempt.

    Some code catches database errors and goes on: Django's check-constraint validation
    (``Q.check``, run by ``full_clean``) logs a DatabaseError and answers "valid". On
    MariaDB a deadlock has already rolled the whole transaction back, so the savepoint
    around that query is gone and Django marks the transaction for rollback: the next query
    fails with TransactionManagementError, or, worse, the operation returns normally and
    its atomic block rolls back in silence. On a Galera cluster, a transaction aborted by a
    replicated write meets its 1213 on whatever statement comes next. Either way the attempt
    must be run again as a whole, like any other deadlock; ``raise_if_swallowed`` turns it
    back into the retryable error."""

    def __init__(self) -> None:
        self.error: OperationalError | None = None

    def __call__(self, execute: Any, sql: Any, params: Any, many: bool, context: Any) -> Any:
        try:
            return execute(sql, params, many, context)
        except OperationalError as exc:
            if self.error is None and is_retryable(exc):
                self.error = exc
            raise

    def raise_if_swallowed(self, connection: Any, cause: BaseException | None = None) -> None:
        """Raise the remembered error if the transaction it broke is marked for rollback."""
        if self.error is None or cause is self.error or not connection.needs_rollback:
            return
        raise self.error from cause


# Every operation, by its dotted name (module.function): tests/test_audit_every_operation.py
# runs each one and checks its audit record.
REGISTRY: dict[str, Callable[..., Any]] = {}


def operation(func: Callable[P, R]) -> Callable[P, R]:
    """Run ``func`` in one transaction, retried as a whole on a deadlock, in the audit scope
    of its name and acting user (audit/recording.py): a write it makes without an audit
    record is refused in the tests and logged in production."""
    name = f"{func.__module__}.{func.__qualname__}"

    def run(kwargs: dict[str, Any], call: Callable[[], R]) -> R:
        watch = _SwallowedErrorWatch()
        connection = transaction.get_connection()
        with (
            transaction.atomic(),
            operation_scope(name, acting_user=kwargs.get("acting_user")),
            connection.execute_wrapper(watch),
        ):
            try:
                result = call()
            except Exception as exc:
                watch.raise_if_swallowed(connection, exc)
                raise
            watch.raise_if_swallowed(connection)
            return result

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        def call() -> R:
            return func(*args, **kwargs)

        if transaction.get_connection().in_atomic_block:
            # Part of a larger transaction: only its owner can safely start it over.
            return run(kwargs, call)
        attempts = max(1, settings.OTB_WRITE_ATTEMPTS)
        for attempt in range(1, attempts + 1):
            try:
                return run(kwargs, call)
            except OperationalError as exc:
                if attempt == attempts or not is_retryable(exc):
                    raise
                log.warning("%s: %s, attempt %d of %d", func.__name__, exc, attempt, attempts)
                time.sleep(random.uniform(0.005, min(MAX_PAUSE, 0.02 * 2**attempt)))
        raise AssertionError("unreachable")

    REGISTRY[name] = wrapper
    return wrapper


class _Unset:
    """The default of an operation's argument the caller did not give, where None is a
    value the caller may give (no due date, no client)."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


def given(**values: Any) -> dict[str, Any]:
    """The keyword arguments the caller gave, without the ones left UNSET."""
    return {name: value for name, value in values.items() if value is not UNSET}


def ensure_permitted(user: Any, perm: str, action: str) -> None:
    """Refuse ``action`` unless ``user`` holds ``perm``. ``None`` is the system itself
    (maintenance commands, demo data), which may do anything."""
    if user is None:
        return
    if not user.is_active or not user.has_perm(perm):
        raise NotPermitted(f"You are not allowed to {action}.")


__all__ = [
    "DomainError",
    "InvalidInput",
    "NotPermitted",
    "StaleRead",
    "UNSET",
    "ensure_permitted",
    "given",
    "operation",
]
