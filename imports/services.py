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

from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from audit import recording as audit
from otb.operations import InvalidInput, ensure_permitted, operation
from settings_app.selectors import business_today

from . import presets
from .kinds import KINDS, LINES, SUM, WORDS, Context, Kind, Target, local_country
from .models import KeptMapping, PendingImport
from .reading import FileRefused, Row, Table, read_table
from .values import read_number

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

    def __str__(self) -> str:
        if self.row is None:
            return self.message
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
    joined = "\x1f".join(presets.normalised(header) for header in headers)
    return hashlib.sha256(joined.encode()).hexdigest()


def suggested_mapping(kind: Kind, headers: tuple[str, ...]) -> tuple[ColumnMap, str]:
    """The mapping to start from, and where it came from: the one kept for these headers,
    a product's preset, or the headers that name a field."""
    kept = KeptMapping.objects.filter(kind=kind.name, headers_key=headers_key(headers)).first()
    if kept is not None:
        known = {target.name for target in kind.targets}
        columns = {h: t for h, t in kept.columns.items() if h in headers and t in known}
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
    we do not know, a required field no column gives, a field of one value given twice."""
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
                _summed(filled, kind.target(name)) if len(filled) > 1 else "".join(filled)
            )
        else:
            values[name] = filled[0] if filled else ""
    return values


def _summed(cells: list[str], target: Target) -> str:
    label = str(target.label)
    return str(sum(read_number(cell, field=target.name, label=label) for cell in cells))


def _columns(mapping: ColumnMap, target: str | None) -> str:
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
    outcome = Outcome(kind=kind, rows=len(table.rows))
    outcome.problems = mapping_problems(kind, table, mapping)
    cut_over = _clean_cut_over(cut_over)
    if outcome.problems:
        return outcome
    context = Context(acting_user=acting_user, cut_over=cut_over, local_country=local_country())
    with transaction.atomic():
        for done, row in enumerate(table.rows, 1):
            try:
                with transaction.atomic():
                    values = _values(kind, table, mapping, row)
                    shown = kind.make(values, context, row.number)
            except InvalidInput as exc:
                for name, messages in exc.errors.items():
                    target = kind.fields.get(name, name)
                    column = _columns(mapping, target)
                    outcome.problems += [Problem(row.number, column, str(m)) for m in messages]
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
    if cut_over > today:
        raise InvalidInput.single(
            "cut_over",
            _("Cut-over day: %(day)s is after today; opening balances are what was owed then.")
            % {"day": formats.date_format(cut_over)},
        )
    return cut_over


# --- The page's steps: a file kept until it is imported, and its mapping ----------------


def read_upload(data: bytes, *, kind: str, rows_limit: int | None) -> Table:
    """The table of an uploaded file (FileRefused when it cannot be read, or when it holds
    more rows than ``rows_limit``)."""
    if len(data) > MAX_UPLOAD_BYTES and rows_limit is not None:
        raise FileRefused(
            _(
                "The file is larger than %(mb)d MB: import it with the command "
                "(manage.py import_csv)."
            )
            % {"mb": MAX_UPLOAD_BYTES // (1024 * 1024)}
        )
    table = read_table(data)
    if rows_limit is not None and len(table.rows) > rows_limit:
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
        kept = KeptMapping.objects.create(kind=kind.name, headers_key=key, columns=dict(mapping))
        audit.created(kept)
    elif kept.columns != mapping:
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
    locked = (
        PendingImport.objects.select_for_update()
        .filter(pk=pending.pk, created_by_id=getattr(acting_user, "pk", None))
        .first()
    )
    if locked is None:
        return None
    kind = KINDS[locked.kind]
    table = read_table(bytes(locked.data))
    outcome = run_import(
        kind=kind,
        table=table,
        mapping=mapping,
        acting_user=acting_user,
        cut_over=locked.cut_over,
        commit=True,
    )
    if outcome.written:
        keep_mapping(kind=kind, headers=table.headers, mapping=mapping, acting_user=acting_user)
        discard_upload(pending=locked, acting_user=acting_user)
    return outcome
