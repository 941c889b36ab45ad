"""The reports as CSV, for a spreadsheet: the office's report pages and a statement link's
CSV alike."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """Text a person typed (a name, a memo) that a spreadsheet would run as a formula is
    kept as text; amounts and dates are written as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def typed(text: str) -> str:
    """What ``cell`` was given: a cell read back from a file we wrote (an import of our own
    export) loses the ``'`` that kept a spreadsheet from running it."""
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text


def csv_content(header: Sequence[str], rows: Iterable[Iterable[Any]]) -> bytes:
    """CSV with a BOM (spreadsheets then read it as UTF-8), amounts as plain decimals."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows([cell(value) for value in row] for row in rows)
    return ("\ufeff" + buffer.getvalue()).encode()
