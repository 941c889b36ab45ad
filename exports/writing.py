"""What every export writes with: CSV rows as bytes, a zip of several files streamed as it
is made, and plain text for cells. The same rows always make the same bytes."""

from __future__ import annotations

import csv
import datetime
import io
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from reports.spreadsheets import cell

# Rows written before the CSV text is handed on: small enough to stream, large enough that
# the writer is not called for every row.
ROWS_PER_CHUNK = 200


def text(value: Any) -> str:
    """A cell's text: amounts as plain decimals (never an exponent), dates as ISO 8601,
    yes/no for flags, nothing for None; text a spreadsheet would run as a formula kept as
    text (``reports.spreadsheets.cell``, the one rule); numbers never are."""
    # Every cell of an export passes here: the common types go straight to their rule.
    convert = _BY_TYPE.get(type(value))
    if convert is not None:
        return convert(value)
    return _text(value)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    return cell(str(value))


# ``text``'s rules by exact type; any other (None, a flag, a subclass such as a model's
# choices) takes the long way. A flag is not an int here: type(True) is bool.
_BY_TYPE: dict[type, Callable[[Any], str]] = {
    str: cell,
    Decimal: lambda value: f"{value:f}",
    datetime.date: datetime.date.isoformat,
    int: str,
}


def csv_chunks(
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    convert: Callable[[Any], str] = text,
    bom: bool = False,
) -> Iterator[bytes]:
    """``header`` and ``rows`` as CSV (RFC 4180: quoted where needed, CRLF line ends),
    UTF-8, a few hundred rows at a time. ``bom``: begin with a byte order mark, which
    spreadsheets need to read UTF-8 as such."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    pending = 0
    first = True
    for row in rows:
        writer.writerow(map(convert, row))
        pending += 1
        if pending >= ROWS_PER_CHUNK:
            yield _take(buffer, bom and first)
            first, pending = False, 0
    yield _take(buffer, bom and first)


def _take(buffer: io.StringIO, bom: bool) -> bytes:
    written = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return (("\ufeff" if bom else "") + written).encode()


class _Pipe(io.RawIOBase):
    """A write-only stream that keeps what is written until it is taken: what lets
    ``zipfile`` write a zip that is handed on piece by piece (it then writes each member's
    sizes after its data, as zip allows for streams it cannot seek)."""

    def __init__(self) -> None:
        self._pieces: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._pieces.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data, self._pieces = b"".join(self._pieces), []
        return data


def zip_chunks(
    members: Iterable[tuple[str, Iterable[bytes]]], *, date: datetime.date
) -> Iterator[bytes]:
    """A zip of ``members`` (file name, its bytes in pieces), streamed as each piece is
    compressed. Every member has the same time (``date``, midnight) and file mode, so the
    same members make the same bytes."""
    pipe = _Pipe()
    # A zip's dates run from 1980 to 2107: a range ending outside them is dated at the edge.
    stamp = (min(max(date.year, 1980), 2107), date.month, date.day, 0, 0, 0)
    with zipfile.ZipFile(pipe, mode="w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, pieces in members:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, whatever the server
            info.external_attr = 0o100644 << 16  # a regular file, rw-r--r--
            with archive.open(info, mode="w", force_zip64=True) as member:
                for piece in pieces:
                    member.write(piece)
                    yield pipe.take()
            yield pipe.take()
    yield pipe.take()
