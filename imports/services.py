"""Importing a file (SPEC: Exports and imports): upload it, map its columns, preview, and
import. One function, ``run_import``, does the preview and the import alike: it writes every
row through the operations in one transaction, and rolls the whole transaction back when it
is a preview or when any row has a problem. So the preview checks exactly what the import
will do (a code taken by an earlier row of the file included), every problem is named by
row and column, and nothing is written until the whole file is valid.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import recording as audit
from billing.rules import check_money_date
from otb.operations import DomainError, InvalidInput, ensure_permitted, operation
from settings_app.selectors import business_today

from . import presets
from .kinds import (
    KINDS,
    LINES,
    SUM,
    WORDS,
    Context,
    Kind,
    Target,
    local_country,
    opens_balances,
)
from .models import KeptMapping, PendingImport
from .reading import FileRefused, Row, Table, read_table
from .values import decimal_mark_of, read_number

# A preview shows this many rows of what would be imported; the problems, this many.
PREVIEW_ROWS = 20
MAX_PROBLEMS = 200
# An upload on the page holds at most this many rows; a larger file goes through the
# command (manage.py import_csv), which shows its progress. Measured: bench/RESULTS.md,
# "Imports" (10,000 clients).
PAGE_ROWS = 2000
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
# A pending upload older than this is deleted with the next upload.
PENDING_FOR = datetime.timedelta(days=1)

ColumnMap = dict[str, str]


@dataclass(frozen=True)
class Problem:
    row: int | None
    """As a spreadsheet numbers it (the header is 1); None: the file or its mapping."""
    column: str
    """The column's header (several joined by " + "); "" when no column gave the field."""
    message: str
    value: str = ""
    """What the column holds in that row, when the message does not say it."""

    def __str__(self) -> str:
        if self.row is None:
            return self.message
        if self.column and self.value:
            return _("Row %(row)d, column “%(column)s” (“%(value)s”): %(message)s") % {
                "row": self.row,
                "column": self.column,
                "value": self.value,
                "message": self.message,
            }
        if self.column:
            return _("Row %(row)d, column “%(column)s”: %(message)s") % {
                "row": self.row,
                "column": self.column,
                "message": self.message,
            }
        return _("Row %(row)d: %(message)s") % {"row": self.row, "message": self.message}


@dataclass
class Outcome:
    kind: Kind
    rows: int
    """The rows of data in the file."""
    imported: int = 0
    """Rows that went through (written, or would be by the import)."""
    shown: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    stopped: bool = False
    """The problems reached MAX_PROBLEMS and the rest of the file was not read."""
    written: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


def headers_key(headers: tuple[str, ...]) -> str:
    """The set of a file's headers, whatever their order (a mapping names its columns)."""
    joined = "\x1f".join(sorted(presets.normalised(header) for header in headers))
    return hashlib.sha256(joined.encode()).hexdigest()


def suggested_mapping(kind: Kind, headers: tuple[str, ...]) -> tuple[ColumnMap, str]:
    """The mapping to start from, and where it came from: the one kept for these headers,
    a product's preset, or the headers that name a field."""
    kept = KeptMapping.objects.filter(kind=kind.name, headers_key=headers_key(headers)).first()
    if kept is not None:
        known = {target.name for target in kind.targets}
        chosen = {presets.normalised(h): t for h, t in kept.columns.items() if t in known}
        columns = {
            h: chosen[presets.normalised(h)] for h in headers if presets.normalised(h) in chosen
        }
        return columns, _("the mapping kept from the last file with these columns")
    preset = presets.detect(kind.name, headers)
    if preset is not None:
        return presets.mapping_of(preset, headers), str(preset.label)
    mapping: ColumnMap = {}
    for header in headers:
        name = presets.normalised(header)
        for target in kind.targets:
            spellings = {
                target.name.replace("_", " "),
                str(target.label).casefold(),
                *target.aliases,
            }
            if name in spellings:
                mapping[header] = target.name
                break
    return mapping, _("the columns' names")


def mapping_problems(kind: Kind, table: Table, mapping: ColumnMap) -> list[Problem]:
    """What is wrong with a mapping before any row is read: a column the file lacks, a field
    we do not know, a required field no column gives, both kinds of unit price. (Several
    columns given to a field of one value are fine: its first cell that is not empty counts,
    as a client's phone, else its contact's.)"""
    problems = []
    known = {target.name for target in kind.targets}
    for header, name in mapping.items():
        if header not in table.headers:
            problems.append(
                Problem(None, header, _("The file has no column “%(h)s”.") % {"h": header})
            )
        elif name not in known:
            problems.append(
                Problem(
                    None,
                    header,
                    _("“%(t)s” is no field of %(kind)s.") % {"t": name, "kind": kind.noun},
                )
            )
    given = set(mapping.values())
    for target in kind.targets:
        if target.required and target.name not in given:
            problems.append(
                Problem(
                    None,
                    "",
                    _("No column gives the %(field)s: choose one.")
                    % {"field": str(target.label).lower()},
                )
            )
    other = presets.detect_other(kind.name, table.headers)
    if other is not None:
        problems.append(
            Problem(
                None,
                "",
                _("This looks like the %(preset)s, a file of %(kind)s: upload it as %(kind)s.")
                % {"preset": other.label, "kind": KINDS[other.kind].noun},
            )
        )
    if {"unit_price", "unit_price_cents"} <= given:
        problems.append(
            Problem(None, "", _("Give the unit price or the unit price in cents, not both."))
        )
    return problems


def _values(kind: Kind, table: Table, mapping: ColumnMap, row: Row) -> dict[str, str]:
    """Each target's value in ``row``: its columns' cells, combined as the target says."""
    cells: dict[str, list[str]] = {}
    for index, header in enumerate(table.headers):
        target = mapping.get(header)
        if target:
            cells.setdefault(target, []).append(row.cells[index])
    values = {}
    for name, found in cells.items():
        filled = [cell for cell in found if cell]
        combine = kind.target(name).combine
        if combine == LINES:
            values[name] = "\n".join(filled)
        elif combine == WORDS:
            values[name] = " ".join(filled)
        elif combine == SUM:
            values[name] = (
                _summed(filled, kind.target(name), table) if len(filled) > 1 else "".join(filled)
            )
        else:
            values[name] = filled[0] if filled else ""
    return values


def _summed(cells: list[str], target: Target, table: Table) -> str:
    label = str(target.label)
    mark = decimal_mark_of(table.delimiter)
    total = sum(
        read_number(cell, field=target.name, label=label, decimal_mark=mark) for cell in cells
    )
    return f"{total:f}"


def _cells(table: Table, mapping: ColumnMap, row: Row, target: str) -> str:
    """The cells of ``row`` in the columns that give ``target``, shortened, joined."""
    found = [
        cell
        for header, cell in zip(table.headers, row.cells, strict=True)
        if cell and mapping.get(header) == target
    ]
    return " + ".join(cell if len(cell) <= 40 else cell[:39] + "…" for cell in found)


def _columns(mapping: ColumnMap, target: str | None) -> str:
    """The headers of the columns that give ``target``, joined ("" when none does)."""
    return " + ".join(header for header, mapped in mapping.items() if mapped == target)


def run_import(
    *,
    kind: Kind,
    table: Table,
    mapping: ColumnMap,
    acting_user: Any,
    cut_over: datetime.date | None = None,
    commit: bool,
    progress: Callable[[int, int], None] | None = None,
) -> Outcome:
    """Write every row through the operations, in one transaction: kept when ``commit``
    and every row went through; rolled back otherwise (a preview, or any problem)."""
    for permission in kind.permissions:
        ensure_permitted(acting_user, permission, _("import %(kind)s") % {"kind": kind.noun})
    opens = opens_balances(kind.name, mapping.values())
    if opens:
        ensure_permitted(acting_user, "ledger.add_ledgerentry", _("import opening balances"))
    outcome = Outcome(kind=kind, rows=len(table.rows))
    outcome.problems = mapping_problems(kind, table, mapping)
    # The cut-over day dates opening balances: without them, it is no matter.
    cut_over = _clean_cut_over(cut_over) if opens else None
    if outcome.problems:
        return outcome
    context = Context(
        acting_user=acting_user,
        cut_over=cut_over,
        local_country=local_country(),
        decimal_mark=decimal_mark_of(table.delimiter),
    )
    with transaction.atomic():
        for done, row in enumerate(table.rows, 1):
            try:
                with transaction.atomic():
                    values = _values(kind, table, mapping, row)
                    shown = kind.make(values, context, row.number)
            except DomainError as exc:
                errors = (
                    exc.errors
                    if isinstance(exc, InvalidInput)
                    else {exc.field or "": [exc.message]}
                )
                for name, messages in errors.items():
                    column = _columns(mapping, kind.fields.get(name, name))
                    value = _cells(table, mapping, row, kind.fields.get(name, name))
                    outcome.problems += [
                        Problem(row.number, column, str(m), "" if value in str(m) else value)
                        for m in messages
                    ]
                if len(outcome.problems) >= MAX_PROBLEMS:
                    outcome.stopped = True
                    break
            else:
                outcome.imported += 1
                if len(outcome.shown) < PREVIEW_ROWS:
                    outcome.shown.append((row.number, shown))
            if progress is not None:
                progress(done, len(table.rows))
        if outcome.problems or not commit:
            transaction.set_rollback(True)
        else:
            outcome.written = True
    return outcome


def _clean_cut_over(cut_over: datetime.date | None) -> datetime.date:
    """The cut-over day of opening balances: today by default, never after it."""
    today = business_today()
    if cut_over is None:
        return today
    check_money_date(date=cut_over, today=today, what="cut_over")
    return cut_over


# --- The page's steps: a file kept until it is imported, and its mapping ----------------


def read_upload(data: bytes, *, kind: str, rows_limit: int) -> Table:
    """The table of a file uploaded on the page (FileRefused when it cannot be read, or
    when it holds more than the page takes: the command takes any size)."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise FileRefused(
            _(
                "The file is larger than %(mb)d MB: import it with the command "
                "(manage.py import_csv)."
            )
            % {"mb": MAX_UPLOAD_BYTES // (1024 * 1024)}
        )
    table = read_table(data)
    if len(table.rows) > rows_limit:
        raise FileRefused(
            _(
                "The file holds %(n)d rows; a page imports at most %(max)d. Import it with "
                "the command: manage.py import_csv %(kind)s FILE."
            )
            % {"n": len(table.rows), "max": rows_limit, "kind": kind}
        )
    return table


@operation
def keep_upload(
    *, kind: str, file_name: str, data: bytes, cut_over: datetime.date | None, acting_user: Any
) -> PendingImport:
    """Keep an uploaded file until it is imported (the preview and the import are other
    requests); uploads a day old go."""
    if kind not in KINDS:
        raise InvalidInput.single("kind", _("Kind: choose clients, services or opening balances."))
    for permission in KINDS[kind].permissions:
        ensure_permitted(acting_user, permission, _("import %(kind)s") % {"kind": KINDS[kind].noun})
    _clean_cut_over(cut_over)
    for old in PendingImport.objects.filter(created_at__lt=timezone.now() - PENDING_FOR):
        audit.deleted(old)
        old.delete()
    pending = PendingImport.objects.create(
        kind=kind, file_name=file_name[:200], data=data, cut_over=cut_over, created_by=acting_user
    )
    audit.created(pending)
    return pending


@operation
def keep_mapping(
    *, kind: Kind, headers: tuple[str, ...], mapping: ColumnMap, acting_user: Any
) -> None:
    """Keep the mapping for the next file with these headers."""
    key = headers_key(headers)
    kept = KeptMapping.objects.select_for_update().filter(kind=kind.name, headers_key=key).first()
    if kept is None:
        try:
            with transaction.atomic():  # a savepoint: another import may keep it first
                kept = KeptMapping.objects.create(
                    kind=kind.name, headers_key=key, columns=dict(mapping)
                )
        except IntegrityError:
            kept = KeptMapping.objects.select_for_update().get(kind=kind.name, headers_key=key)
        else:
            audit.created(kept)
            return
    if kept.columns != mapping:
        before = audit.snapshot(kept)
        kept.columns = dict(mapping)
        kept.save(update_fields=["columns", "updated_at"])
        audit.changed(kept, before)


@operation
def discard_upload(*, pending: PendingImport, acting_user: Any) -> None:
    audit.deleted(pending)
    pending.delete()


@operation
def import_upload(
    *, pending: PendingImport, mapping: ColumnMap, acting_user: Any
) -> Outcome | None:
    """Import a kept upload with ``mapping``, keep the mapping and let the file go, in one
    transaction. None when another request (a second click) imported or discarded it
    first: the row lock makes the second wait, then find the file gone, so no row is ever
    written twice. An outcome with problems wrote nothing (the books changed since the
    preview)."""
    locked = pending_upload(pending.pk, acting_user, lock=True)
    if locked is None:
        return None
    table = read_table(bytes(locked.data))
    outcome = import_table(
        kind=KINDS[locked.kind],
        table=table,
        mapping=mapping,
        cut_over=locked.cut_over,
        acting_user=acting_user,
    )
    if outcome.written:
        discard_upload(pending=locked, acting_user=acting_user)
    return outcome


def waiting_uploads(user: Any) -> QuerySet[PendingImport]:
    """The user's uploads waiting for their import, newest first: a day at most."""
    return PendingImport.objects.filter(
        created_by_id=getattr(user, "pk", None), created_at__gte=timezone.now() - PENDING_FOR
    ).order_by("-created_at")


def pending_upload(pk: Any, user: Any, *, lock: bool = False) -> PendingImport | None:
    """The user's upload ``pk`` while it waits; None for another's, or one imported,
    discarded or too old."""
    found = waiting_uploads(user).filter(pk=pk)
    return (found.select_for_update() if lock else found).first()


@operation
def preview_table(
    *,
    kind: Kind,
    table: Table,
    mapping: ColumnMap,
    acting_user: Any,
    cut_over: datetime.date | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Outcome:
    """What importing ``table`` would do, written and rolled back (``run_import``): one
    operation, so a deadlock with another request runs it again rather than failing."""
    return run_import(
        kind=kind,
        table=table,
        mapping=mapping,
        acting_user=acting_user,
        cut_over=cut_over,
        commit=False,
        progress=progress,
    )


@operation
def import_table(
    *,
    kind: Kind,
    table: Table,
    mapping: ColumnMap,
    acting_user: Any,
    cut_over: datetime.date | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Outcome:
    """Import every row of ``table`` (``run_import``, kept only when every row went through)
    and keep the mapping for the next file with these headers: one operation, retried as a
    whole on a deadlock."""
    outcome = run_import(
        kind=kind,
        table=table,
        mapping=mapping,
        acting_user=acting_user,
        cut_over=cut_over,
        commit=True,
        progress=progress,
    )
    if outcome.written:
        keep_mapping(kind=kind, headers=table.headers, mapping=mapping, acting_user=acting_user)
    return outcome
