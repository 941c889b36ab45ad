"""Paging that stays fast on millions of rows.

``keyset_page``: the office lists (invoices, payments) page by position in their order, not by
page number: "older than the last row shown" is an index range read, as fast on the ten
thousandth page as on the first, where OFFSET would read and throw away every row before it,
and where "page 3 of 20,000" would COUNT(*) the whole table on every request.

``CountPaginator``: for the back office's page numbers, a count that is exact when the database
can give it quickly and else the optimizer's estimate, marked as such.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from functools import cached_property

from django.core.paginator import Paginator
from django.db import DatabaseError, connections
from django.db.models import Q

CURSOR_SEPARATOR = "~"


@dataclass
class KeysetPage:
    items: list
    newer: str | None
    older: str | None

    def __iter__(self):
        return iter(self.items)

    def __len__(self):
        return len(self.items)


def _values(obj, keys) -> list:
    return [getattr(obj, k) for k in keys]


def _encode(obj, keys) -> str:
    return CURSOR_SEPARATOR.join(
        value.isoformat() if isinstance(value, datetime.date) else str(value)
        for value in _values(obj, keys)
    )


def _decode(cursor: str | None, model, keys) -> list | None:
    """The key values in ``cursor``, or None when it is missing or not one of ours (a hand-
    edited address shows the first page rather than an error)."""
    if not cursor:
        return None
    parts = cursor.split(CURSOR_SEPARATOR)
    if len(parts) != len(keys):
        return None
    values = []
    for name, text in zip(keys, parts, strict=True):
        field = model._meta.get_field(name)
        try:
            value = field.to_python(text)
        except Exception:  # ValidationError, and whatever a strange field raises
            return None
        if value is None:
            return None
        values.append(value)
    return values


def _beyond(keys, values, *, older: bool) -> Q:
    """Rows after (older=True) or before the cursor in an order descending on every key:
    (a < x) OR (a = x AND b < y) ..., which the database reads as an index range."""
    op = "lt" if older else "gt"
    condition = Q()
    for i in range(len(keys)):
        step = Q(**{keys[j]: values[j] for j in range(i)}) & Q(**{f"{keys[i]}__{op}": values[i]})
        condition |= step
    return condition


def keyset_page(queryset, *, keys: tuple[str, ...], size: int, older=None, newer=None):
    """One page of ``queryset`` in descending order of ``keys`` (the last must be unique,
    such as the id), starting after the cursor ``older`` or ending before ``newer``.

    Two queries at most (besides the queryset's prefetches), whatever the size of the
    table: the page (one row more than shown, to know whether there is an older page) and,
    away from the first page, whether there is a newer one.
    """
    model = queryset.model
    descending = [f"-{k}" for k in keys]
    ascending = list(keys)
    after = _decode(older, model, keys)
    before = None if after else _decode(newer, model, keys)

    if before is not None:
        rows = list(
            queryset.filter(_beyond(keys, before, older=False)).order_by(*ascending)[: size + 1]
        )
        has_newer = len(rows) > size
        rows = rows[:size][::-1]
        has_older = True
    else:
        base = queryset.filter(_beyond(keys, after, older=True)) if after else queryset
        rows = list(base.order_by(*descending)[: size + 1])
        has_older = len(rows) > size
        rows = rows[:size]
        has_newer = bool(
            after
            and rows
            and queryset.filter(_beyond(keys, _values(rows[0], keys), older=False)).exists()
        )
    return KeysetPage(
        items=rows,
        newer=_encode(rows[0], keys) if rows and has_newer else None,
        older=_encode(rows[-1], keys) if rows and has_older else None,
    )


# --- counts for the back office ---------------------------------------------------------------
# Below this many rows (as the optimizer estimates them) the exact count is quick enough.
EXACT_COUNT_UP_TO = 100_000
COUNT_BUDGET_SECONDS = 0.03


def fast_count(queryset) -> tuple[int, bool]:
    """(count, exact). On MariaDB: the optimizer's estimate (EXPLAIN) when it says the rows
    are many, else the exact COUNT(*), which the database stops after
    ``COUNT_BUDGET_SECONDS`` (a bad estimate), and the estimate is used after all."""
    connection = connections[queryset.db]
    if connection.vendor != "mysql":
        return queryset.count(), True
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        columns = [c[0] for c in cursor.description]
        plan = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    estimate = max((int(step.get("rows") or 0) for step in plan), default=0)
    if estimate > EXACT_COUNT_UP_TO:
        return estimate, False
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SET STATEMENT max_statement_time={COUNT_BUDGET_SECONDS} FOR "
                f"SELECT COUNT(*) FROM ({sql}) AS counted",
                params,
            )
            return cursor.fetchone()[0], True
    except DatabaseError as exc:
        # 1969: "Query execution was interrupted (max_statement_time exceeded)".
        if not exc.args or exc.args[0] != 1969:
            raise
    return estimate, False


class CountPaginator(Paginator):
    """A Paginator whose count is ``fast_count``'s: exact when quick, else estimated."""

    count_is_exact = True

    @cached_property
    def count(self):
        count, self.count_is_exact = fast_count(self.object_list)
        return count
