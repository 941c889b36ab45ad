"""Writing the audit trail, from the operations (SPEC: Audit).

``@operation`` (otb/operations.py) runs every domain operation inside ``operation_scope``:
it knows the operation's name and acting user, counts the statements that write to the
database, and at the end refuses (``OTB_AUDIT_STRICT``, the tests) or logs a write that made
no audit record. The operations say what they changed, in their own transaction:

    before = snapshot(invoice)
    ... change and save it ...
    changed(invoice, before)

``created(obj)``, ``deleted(obj)`` and ``event(...)`` (sign-ins, failed sign-ins) likewise.
A record holds who (the acting user, else the request's user), when, from where (the
request's address, or the command), what object, and the fields before and after: for a
change only the fields that changed. Secrets are never copied: a password field shows
"(hidden)", and whether it changed.
"""

from __future__ import annotations

import contextlib
import datetime
import decimal
import logging
import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Model
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from . import origin as origins
from .models import OBJECT_REPR_MAX_LENGTH, Action, AuditRecord

log = logging.getLogger(__name__)

# Field names whose values are secrets: recorded as HIDDEN, never as they are.
SECRET_FIELDS = frozenset(
    {"password", "smtp_password", "key", "key_hash", "token", "secret_link", "bin_key"}
)
HIDDEN = "(hidden)"
HIDDEN_CHANGED = "(hidden, changed)"

# Tables whose rows are no part of the books or their settings: the sessions, the cache of
# rendered invoice PDFs (made again from the invoice at will), and the trail itself. A write
# to any other table inside an operation needs an audit record.
UNAUDITED_TABLES = frozenset({"django_session", "billing_renderedpdf", AuditRecord._meta.db_table})

_WRITE = re.compile(
    r"^\s*(?:INSERT\s+(?:IGNORE\s+)?INTO|UPDATE|DELETE\s+FROM|REPLACE\s+INTO)\s+[`\"]?(\w+)",
    re.IGNORECASE,
)


class UnauditedWrite(Exception):
    """An operation wrote to the database without an audit record (a bug)."""


@dataclass
class Scope:
    """One outermost operation: its name, the acting user, and what it wrote."""

    name: str
    acting_user: Any = None
    names: list[str] = field(default_factory=list)
    writes: list[str] = field(default_factory=list)
    records: int = 0
    # A change the operation checked and found to be none (a form saved unchanged): its
    # write (the same values again) is accounted for without a record.
    unchanged: int = 0
    # Every operation that ran in this scope, the outermost first.
    ran: list[str] = field(default_factory=list)

    def count_writes(self, execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        match = _WRITE.match(sql)
        if match and match.group(1) not in UNAUDITED_TABLES:
            # An UPDATE or DELETE that matched no row wrote nothing. (An INSERT always did;
            # with RETURNING, SQLite tells its row count only once the rows are read.)
            is_insert = sql.lstrip()[:6].upper() == "INSERT"
            if is_insert or context["cursor"].rowcount != 0:
                self.writes.append(match.group(1))
        return result

    @property
    def operation(self) -> str:
        return self.names[-1] if self.names else self.name


_scope: ContextVar[Scope | None] = ContextVar("audit_scope", default=None)
# Called with each outermost scope that ended without an error (the tests listen).
scope_listeners: list[Callable[[Scope], None]] = []


@contextlib.contextmanager
def operation_scope(name: str, acting_user: Any = None) -> Iterator[Scope]:
    """The audit scope of one run of an operation (each retry is a new one). Nested
    operations share the outermost scope; each names itself while it runs, and an explicit
    acting user of an inner one is its own."""
    outer = _scope.get()
    if outer is not None:
        outer.ran.append(name)
        outer.names.append(name)
        previous_user = outer.acting_user
        if acting_user is not None:
            outer.acting_user = acting_user
        try:
            yield outer
        finally:
            outer.names.pop()
            outer.acting_user = previous_user
        return
    scope = Scope(name=name, acting_user=acting_user, ran=[name])
    token = _scope.set(scope)
    try:
        with connection.execute_wrapper(scope.count_writes):
            yield scope
        if scope.writes and not (scope.records or scope.unchanged):
            message = (
                f"{name} wrote to {', '.join(sorted(set(scope.writes)))} without an audit record"
            )
            if settings.OTB_AUDIT_STRICT:
                raise UnauditedWrite(message)
            log.error(message)
        for listener in scope_listeners:
            listener(scope)
    finally:
        _scope.reset(token)


# --- What a record holds -------------------------------------------------------------------
def _plain(value: Any) -> Any:
    """A JSON value for a field's value, as a person would read it."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, FieldFile):
        return value.name or ""
    if isinstance(value, bytes | memoryview):
        return f"({len(value)} bytes)"
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    return str(value)


def _fields(instance: Model, *, skip: str = "") -> dict[str, Any]:
    return {
        model_field.attname: model_field.value_from_object(instance)
        for model_field in instance._meta.concrete_fields
        if model_field.attname != skip
    }


def _raw(instance: Model, related: Sequence[str] = ()) -> dict[str, Any]:
    values = _fields(instance)
    if instance.pk is not None:
        for m2m in instance._meta.many_to_many:
            values[m2m.name] = sorted(getattr(instance, m2m.name).values_list("pk", flat=True))
        for name in related:
            # The rows that belong to it (an invoice's lines), each without its key to it.
            back = instance._meta.get_field(name).field.attname  # type: ignore[union-attr]
            values[name] = [
                {key: _plain(value) for key, value in _fields(row, skip=back).items()}
                for row in getattr(instance, name).order_by("pk")
            ]
    return values


def snapshot(instance: Model, related: Sequence[str] = ()) -> dict[str, Any]:
    """The values of ``instance``'s fields now, and of the rows named in ``related`` that
    belong to it (secrets as they are: only what is recorded hides them), to give
    ``changed`` as ``before`` with the same ``related``."""
    return _raw(instance, related)


def _shown(name: str, value: Any) -> Any:
    if name in SECRET_FIELDS:
        return HIDDEN if value else ""
    return _plain(value)


def _write(
    *,
    action: str,
    object_type: str,
    object_id: str,
    object_repr: str,
    before: dict | None,
    after: dict | None,
) -> AuditRecord:
    record = _record(
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr,
        before=before,
        after=after,
    )
    record.save()
    return record


def _record(
    *,
    action: str,
    object_type: str,
    object_id: str,
    object_repr: str,
    before: dict | None,
    after: dict | None,
) -> AuditRecord:
    """A record (not saved yet) of who did it, when, from where, in which operation,
    counted in the operation's scope."""
    scope = _scope.get()
    where = origins.current()
    user = scope.acting_user if scope is not None and scope.acting_user is not None else None
    if user is None and where.user is not None and getattr(where.user, "is_authenticated", False):
        user = where.user
    if user is not None:
        actor_name = user.get_username()
    elif where.source == origins.COMMAND:
        actor_name = f"manage.py {where.command}"
    else:
        actor_name = ""
    record = AuditRecord(
        at=timezone.now(),
        actor_id=getattr(user, "pk", None),
        actor_name=actor_name,
        source=where.source,
        address=where.address,
        command=where.command,
        operation=scope.operation if scope is not None else "",
        action=action,
        object_type=object_type,
        object_id=object_id[:191],
        object_repr=object_repr[:OBJECT_REPR_MAX_LENGTH],
        before=before,
        after=after,
    )
    if scope is not None:
        scope.records += 1
    return record


def _write_about(
    instance: Model, *, action: str, before: dict | None, after: dict | None
) -> AuditRecord:
    record = _record_about(instance, action=action, before=before, after=after)
    record.save()
    return record


def _record_about(
    instance: Model, *, action: str, before: dict | None, after: dict | None
) -> AuditRecord:
    return _record(
        action=action,
        object_type=instance._meta.label_lower,
        object_id=str(instance.pk),
        object_repr=str(instance),
        before=before,
        after=after,
    )


def _stored(instance: Model) -> Model:
    """The row as the database holds it now: what a record calls "after" is what was
    written, not what an instance in memory says."""
    return type(instance)._base_manager.get(pk=instance.pk)


def created(instance: Model, related: Sequence[str] = ()) -> AuditRecord:
    """Record a new row (call it once it is saved, with the rows of ``related``)."""
    instance = _stored(instance)
    return _write_about(
        instance, action=Action.CREATED, before=None, after=_shown_all(_raw(instance, related))
    )


def _shown_all(values: dict[str, Any]) -> dict[str, Any]:
    return {name: _shown(name, value) for name, value in values.items()}


def changed(
    instance: Model, before: dict[str, Any], related: Sequence[str] = ()
) -> AuditRecord | None:
    """Record what changed in ``instance`` since ``before`` (a ``snapshot`` with the same
    ``related``); nothing when nothing did. Call it once the change is saved."""
    instance = _stored(instance)
    record = _change_record(instance, before, _raw(instance, related))
    if record is not None:
        record.save()
    return record


def _change_record(
    instance: Model, before: dict[str, Any], now: dict[str, Any]
) -> AuditRecord | None:
    """The record (not saved) of what changed in ``instance`` from ``before`` to ``now``,
    its values as stored; None, counted as checked and unchanged, when nothing did."""
    stamps = {f.attname for f in instance._meta.concrete_fields if getattr(f, "auto_now", False)}
    # The "updated at" stamp changes with every save: it is the record's own time.
    names = [
        name for name, value in now.items() if before.get(name) != value and name not in stamps
    ]
    if not names:
        scope = _scope.get()
        if scope is not None:
            scope.unchanged += 1
        return None
    shown_before, shown_after = {}, {}
    for name in names:
        if name in SECRET_FIELDS:
            shown_before[name] = HIDDEN if before.get(name) else ""
            shown_after[name] = HIDDEN_CHANGED if now[name] else ""
        else:
            shown_before[name] = _plain(before.get(name))
            shown_after[name] = _plain(now[name])
    return _record_about(instance, action=Action.CHANGED, before=shown_before, after=shown_after)


# --- Many rows at once (a batch of the recurring run) --------------------------------------
def _stored_many(
    model: type[Model], pks: Sequence[Any], related: Sequence[str]
) -> list[tuple[Model, dict[str, Any]]]:
    """Each row of ``model`` with these keys as the database holds it, in their order, with
    its values and those of its ``related`` rows, as ``_raw`` gives them: a query for the
    rows and one per kind of related row, however many rows."""
    rows = model._base_manager.in_bulk(pks)
    values = {pk: _fields(row) for pk, row in rows.items()}
    for m2m in model._meta.many_to_many:
        for pk, row in rows.items():
            values[pk][m2m.name] = sorted(getattr(row, m2m.name).values_list("pk", flat=True))
    for name in related:
        back = model._meta.get_field(name).field  # type: ignore[union-attr]
        for pk in rows:
            values[pk][name] = []
        for row in back.model._base_manager.filter(**{f"{back.name}__in": pks}).order_by("pk"):
            values[getattr(row, back.attname)][name].append(
                {key: _plain(value) for key, value in _fields(row, skip=back.attname).items()}
            )
    return [(rows[pk], values[pk]) for pk in pks]


def created_many(instances: Sequence[Model], related: Sequence[str] = ()) -> None:
    """``created`` for many new rows of one model: read back and recorded in a few
    statements, however many rows."""
    if not instances:
        return
    stored = _stored_many(type(instances[0]), [instance.pk for instance in instances], related)
    # Named by the instances in hand, whose related rows are read already.
    AuditRecord.objects.bulk_create(
        _record_about(instance, action=Action.CREATED, before=None, after=_shown_all(values))
        for instance, (_row, values) in zip(instances, stored, strict=True)
    )


def changed_many(changes: Sequence[tuple[Model, dict[str, Any]]]) -> None:
    """``changed`` for many rows of one model, each with its ``snapshot`` before."""
    if not changes:
        return
    model = type(changes[0][0])
    stored = _stored_many(model, [instance.pk for instance, _before in changes], ())
    records = [
        _change_record(instance, before, now)
        for (_row, now), (instance, before) in zip(stored, changes, strict=True)
    ]
    AuditRecord.objects.bulk_create(record for record in records if record is not None)


def changed_values(
    model: type[Model],
    *,
    object_id: Any,
    object_repr: str,
    before: dict[str, Any],
    after: dict[str, Any],
) -> AuditRecord:
    """Record a change made without loading the rows (a bulk UPDATE): the caller read the
    values it replaces."""
    return _write(
        action=Action.CHANGED,
        object_type=model._meta.label_lower,
        object_id=str(object_id),
        object_repr=object_repr,
        before=_shown_all(before),
        after=_shown_all(after),
    )


def deleted(instance: Model, related: Sequence[str] = ()) -> AuditRecord:
    """Record that ``instance`` is about to be deleted, with all its values: call it before
    the delete."""
    before = _shown_all(_raw(instance, related))
    return _write_about(instance, action=Action.DELETED, before=before, after=None)


def event(
    name: str,
    *,
    subject: str,
    object_type: str = "",
    details: dict[str, Any] | None = None,
) -> AuditRecord:
    """Something that is not a row's change: a sign-in, a failed one, a lock lifted."""
    return _write(
        action=Action.EVENT,
        object_type=object_type,
        object_id=subject,
        object_repr=name,
        before=None,
        after={"event": name, **{k: _plain(v) for k, v in (details or {}).items()}},
    )
