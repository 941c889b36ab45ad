"""Reading an uploaded CSV file (SPEC: Exports and imports): its encoding, its delimiter,
its header and its rows, each numbered as a spreadsheet shows it (the header is row 1).

Encodings: UTF-8, with or without a byte order mark, else Windows-1252 (what Excel on
Windows saves as "CSV"). A file that is not UTF-8 but holds UTF-8 sequences was pasted
together from both (a row typed on another machine): its accented letters would come out
wrong either way, so it is refused, naming the row and column of each kind of text. A
refusal names its row and column: ``FileRefused.row`` and ``.column``.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

from reports.spreadsheets import typed

BOM = b"\xef\xbb\xbf"
UTF8, UTF8_BOM, WINDOWS_1252 = "UTF-8", "UTF-8 with BOM", "Windows-1252"
DELIMITERS = (",", ";", "\t")
# A spreadsheet's own limits are far above these; a file beyond them is not a list of
# clients (and csv's field limit stops a runaway quote at this size).
MAX_COLUMNS = 300
MAX_CELL = 10_000
# A UTF-8 sequence of two to four bytes: in a file that is otherwise Windows-1252, a row
# typed elsewhere.
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


class FileRefused(Exception):
    """The file cannot be read as a table; the message names the row and column."""

    def __init__(self, message: str, *, row: int | None = None, column: str = ""):
        super().__init__(message)
        self.message = message
        self.row = row
        self.column = column


@dataclass(frozen=True)
class Row:
    number: int
    """As a spreadsheet shows it: the header is row 1, the first row of data row 2."""
    cells: tuple[str, ...]
    """One per column of the header, "" where the row stops early."""


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[Row, ...]
    encoding: str
    delimiter: str


def read_table(data: bytes) -> Table:
    """The file's header and rows, or FileRefused naming where it went wrong."""
    not_csv = _not_csv(data)
    if not_csv:
        raise FileRefused(not_csv)
    text, encoding = decode(data)
    delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records: list[list[str]] = []
    try:
        for record in reader:
            records.append(record)
    except csv.Error:
        row = len(records) + 1
        raise FileRefused(
            _(
                "Row %(row)d: a quote is misplaced or left open (a cell that starts with a "
                "quote must end with one, and a quote inside it is written twice)."
            )
            % {"row": row},
            row=row,
        ) from None
    if not records or not any(cell.strip() for cell in records[0]):
        raise FileRefused(_("The file is empty: its first row must name the columns."), row=1)
    headers = _headers(records[0])
    rows = []
    for number, record in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in record):
            continue  # a blank row, as spreadsheets leave at the end
        extra = [cell for cell in record[len(headers) :] if cell.strip()]
        if extra:
            raise FileRefused(
                _("Row %(row)d has %(n)d cells, the header %(columns)d: a delimiter too many?")
                % {"row": number, "n": len(record), "columns": len(headers)},
                row=number,
            )
        for index, cell in enumerate(record[: len(headers)]):
            if len(cell) > MAX_CELL:
                raise FileRefused(
                    _("Row %(row)d, column “%(column)s”: more than %(n)d characters.")
                    % {"row": number, "column": headers[index], "n": MAX_CELL},
                    row=number,
                    column=headers[index],
                )
        cells = [typed(cell.strip()) for cell in record[: len(headers)]]
        cells += [""] * (len(headers) - len(cells))
        rows.append(Row(number, tuple(cells)))
    return Table(tuple(headers), tuple(rows), encoding, delimiter)


def _not_csv(data: bytes) -> str:
    """Why the file is no CSV text at all ("" when it may be), said plainly where reading it
    would name one of its bytes: a workbook (xlsx and ods are zip files), a PDF, or UTF-16
    text (Excel's "Unicode text"), whose every other byte is zero."""
    if data.startswith(b"PK\x03\x04"):
        return _("This is a workbook or a zip file, not CSV: save it as “CSV UTF-8”.")
    if data.startswith(b"%PDF"):
        return _("This is a PDF, not CSV: save the data as “CSV UTF-8”.")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data:
        return _("This is UTF-16 text (“Unicode text”) or no text at all: save it as “CSV UTF-8”.")
    return ""


def _headers(record: list[str]) -> list[str]:
    """The header's names, stripped; an unnamed column is "Column N". Two columns of one
    name are refused: a mapping could not tell them apart."""
    while record and not record[-1].strip():
        record = record[:-1]  # trailing empty cells: a spreadsheet's stray commas
    if len(record) > MAX_COLUMNS:
        raise FileRefused(
            _("Row 1 names %(n)d columns; at most %(max)d.")
            % {"n": len(record), "max": MAX_COLUMNS},
            row=1,
        )
    for index, cell in enumerate(record, 1):
        if len(cell) > MAX_CELL:
            raise FileRefused(
                _("Row 1, column %(n)d: a header of more than %(max)d characters.")
                % {"n": index, "max": MAX_CELL},
                row=1,
            )
    names = [
        cell.strip() or _("Column %(n)d") % {"n": index} for index, cell in enumerate(record, 1)
    ]
    seen: dict[str, int] = {}
    for index, name in enumerate(names, 1):
        key = name.casefold()
        if key in seen:
            raise FileRefused(
                _("Row 1: columns %(first)d and %(second)d are both named “%(name)s”; rename one.")
                % {"first": seen[key], "second": index, "name": name},
                row=1,
                column=name,
            )
        seen[key] = index
    return names


def _delimiter(text: str) -> str:
    """The delimiter the header row uses most, outside quotes: a comma, or the semicolon
    of a spreadsheet in a language whose decimal mark is a comma, or a tab."""
    first = text.split("\n", 1)[0]
    outside = re.sub(r'"[^"]*"', "", first)
    counts = {delimiter: outside.count(delimiter) for delimiter in DELIMITERS}
    best = max(DELIMITERS, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def decode(data: bytes) -> tuple[str, str]:
    """The file's text and the encoding it was read in."""
    if data.startswith(BOM):
        try:
            return data[len(BOM) :].decode("utf-8"), UTF8_BOM
        except UnicodeDecodeError as exc:
            raise _refused_byte(
                data,
                exc.start + len(BOM),
                _("the file starts as UTF-8 (a byte order mark), but this is not UTF-8"),
            ) from None
    try:
        return data.decode("utf-8"), UTF8
    except UnicodeDecodeError as exc:
        not_utf8 = exc.start
    mixed = _UTF8_SEQUENCE.search(data)
    if mixed is not None:
        utf8_row, utf8_column = _place(data, mixed.start())
        other_row, other_column = _place(data, not_utf8)
        raise FileRefused(
            _(
                "The file mixes two encodings: row %(utf8_row)d, column “%(utf8_column)s” is "
                "UTF-8, row %(other_row)d, column “%(other_column)s” is not (Windows-1252?). "
                "Save the whole file again as UTF-8."
            )
            % {
                "utf8_row": utf8_row,
                "utf8_column": utf8_column,
                "other_row": other_row,
                "other_column": other_column,
            },
            row=other_row,
            column=other_column,
        )
    try:
        return data.decode("cp1252"), WINDOWS_1252
    except UnicodeDecodeError as exc:
        raise _refused_byte(
            data, exc.start, _("this byte is neither UTF-8 nor Windows-1252")
        ) from None


def _refused_byte(data: bytes, offset: int, why: str) -> FileRefused:
    row, column = _place(data, offset)
    return FileRefused(
        _("Row %(row)d, column “%(column)s”: %(why)s (byte 0x%(byte)02X). Save the file as UTF-8.")
        % {"row": row, "column": column, "why": why, "byte": data[offset]},
        row=row,
        column=column,
    )


def _place(data: bytes, offset: int) -> tuple[int, str]:
    """The row (a spreadsheet's, counting the rows a quoted cell spans as one) and the
    column name of the byte at ``offset``, read without knowing the encoding (Latin-1 maps
    each byte to one character, so the structure is kept)."""
    text = data[:offset].decode("latin-1")
    whole = data.decode("latin-1")
    delimiter = _delimiter(whole)
    header = next(csv.reader(io.StringIO(whole, newline=""), delimiter=delimiter), [])
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error:  # the byte is inside a quoted cell left open: count its lines
        records = [[""]] * (text.count("\n") + 1)
    if not records or text.endswith(("\n", "\r")):
        records.append([""])
    row = len(records)
    index = len(records[-1]) - 1
    names = [cell.strip().lstrip("\ufeff") or "" for cell in header]
    column = names[index] if 0 <= index < len(names) and names[index] else str(index + 1)
    return row, column
