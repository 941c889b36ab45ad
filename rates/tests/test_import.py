"""Importing the ECB's euro reference rates: reading its files (no database), the crosses to
the base currency worked out by hand, and the import from a file, an address and the command.

The files in rates/tests/data are the ECB's own, cut down by scripts/make_ecb_files.py. On
2026-10-30 one euro bought 1.1172 USD, 1.5606 CAD and 175.68 JPY; on 1999-01-04, 1.1789
USD, 1.8004 CAD and 133.73 JPY (and no BRL: the ECB has quoted it only since 2008)."""

from __future__ import annotations

import datetime
import io
import socket
import threading
import zipfile
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from audit.models import Action, AuditRecord
from otb.currencies import CURRENCIES
from otb.operations import NotPermitted
from rates import ecb, importing
from rates.importing import RatesRefused, fetch_source, import_rates
from rates.models import SOURCE_ECB, SOURCE_TYPED, ExchangeRate

DATA = Path(__file__).resolve().parent / "data"
DAILY_XML = "eurofxref-daily.xml"
DAILY_CSV = "eurofxref.csv"
NINETY_DAYS_XML = "eurofxref-hist-90d.xml"
HISTORY_XML = "eurofxref-hist-trimmed.xml"
HISTORY_ZIP = "eurofxref-hist-trimmed.zip"

OCT_30 = datetime.date(2026, 10, 30)
JAN_4_1999 = datetime.date(1999, 1, 4)
FIRST_DAYS_1999 = [datetime.date(1999, 1, day) for day in (4, 5, 6, 7, 8)]

# Worked out by hand from the euro rates above, rounded half-up to 10 decimals; the check
# beside each is the product that must come back to the euro rate.
CAD_PER_USD_OCT_30 = Decimal("1.3968850698")  # 1.5606 / 1.1172; × 1.1172 = 1.5605999999...
CAD_PER_JPY_OCT_30 = Decimal("0.0088831967")  # 1.5606 / 175.68; × 175.68 = 1.5605999966...
CAD_PER_EUR_OCT_30 = Decimal("1.5606000000")  # the euro rate of CAD itself
EUR_PER_USD_OCT_30 = Decimal("0.8950948801")  # 1 / 1.1172 = 0.89509488005...
EUR_PER_CAD_OCT_30 = Decimal("0.6407791875")  # 1 / 1.5606 = 0.64077918749...
JPY_PER_USD_OCT_30 = Decimal("157.2502685285")  # 175.68 / 1.1172 = 157.25026852846...
JPY_PER_EUR_OCT_30 = Decimal("175.6800000000")
CAD_PER_USD_1999 = Decimal("1.5271863602")  # 1.8004 / 1.1789 = 1.52718636016...
CAD_PER_JPY_1999 = Decimal("0.0134629477")  # 1.8004 / 133.73 = 0.01346294773...

# Every currency the product offers but CAD has an ECB rate on 2026-10-30; on the first days
# of 1999 all but BRL, CNY, INR, MXN and RON (the ROL then): 18.
OFFERED_BUT_CAD = len(CURRENCIES) - 1
OFFERED_BUT_CAD_1999 = 18


def read(name: str) -> bytes:
    return (DATA / name).read_bytes()


def rates_in(base: str, date: datetime.date) -> dict[str, Decimal]:
    return dict(
        ExchangeRate.objects.filter(base_currency=base, date=date).values_list("currency", "rate")
    )


# --- A web server on this machine, serving what a test gives it ----------------------------
class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/never-answers":
            self.server.hang_up.wait(timeout=30)  # type: ignore[attr-defined]
            return
        found = self.server.pages.get(self.path)  # type: ignore[attr-defined]
        if found is None:
            self.send_error(404, "Not Found")
            return
        content, with_length = found
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if with_length:
            self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def log_message(self, format, *args):
        pass


class Site:
    def __init__(self, server: ThreadingHTTPServer):
        self.server = server
        self.pages: dict[str, tuple[bytes, bool]] = {}
        server.pages = self.pages  # type: ignore[attr-defined]

    def serve(self, path: str, content: bytes, *, with_length: bool = True) -> str:
        self.pages[path] = (content, with_length)
        return self.url(path)

    def url(self, path: str) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}{path}"


@pytest.fixture
def site():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.hang_up = threading.Event()  # type: ignore[attr-defined]
    serving = threading.Event()

    def run():
        serving.set()
        server.serve_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert serving.wait(timeout=10)
    try:
        yield Site(server)
    finally:
        server.hang_up.set()  # type: ignore[attr-defined]
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def closed_port() -> int:
    """A port on which nothing listens (it was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- Reading the ECB's files (no database) ---------------------------------------------------
def test_the_daily_xml_has_the_rates_of_its_day_as_the_ecb_wrote_them():
    rates = ecb.parse(read(DAILY_XML))

    assert list(rates) == [OCT_30]
    assert len(rates[OCT_30]) == 29
    assert rates[OCT_30]["USD"] == Decimal("1.1172")
    assert rates[OCT_30]["CAD"] == Decimal("1.5606")
    assert str(rates[OCT_30]["GBP"]) == "0.83380"


def test_the_daily_csv_reads_as_the_daily_xml():
    assert ecb.parse(read(DAILY_CSV)) == ecb.parse(read(DAILY_XML))


def test_the_history_as_xml_and_as_a_zipped_csv_read_the_same():
    from_xml = ecb.parse(read(HISTORY_XML))

    assert ecb.parse(read(HISTORY_ZIP)) == from_xml
    assert sorted(from_xml) == FIRST_DAYS_1999 + [
        datetime.date(2026, 10, day) for day in (26, 27, 28, 29, 30)
    ]


def test_a_currency_without_a_rate_that_day_is_left_out():
    day = ecb.parse(read(HISTORY_ZIP))[JAN_4_1999]  # N/A for BRL, RON, ... in 1999

    assert "BRL" not in day and "RON" not in day
    assert day["USD"] == Decimal("1.1789") and day["ROL"] == Decimal("13111")


def test_the_90_day_file_has_every_day_of_its_90_days():
    rates = ecb.parse(read(NINETY_DAYS_XML))

    assert len(rates) == 65
    assert min(rates) == datetime.date(2026, 8, 3) and max(rates) == OCT_30


def test_the_crosses_of_a_day_to_the_base_by_hand():
    day = ecb.parse(read(DAILY_XML))[OCT_30]

    in_cad = ecb.crosses(day, base="CAD")
    assert in_cad is not None
    assert in_cad["USD"] == CAD_PER_USD_OCT_30
    assert in_cad["JPY"] == CAD_PER_JPY_OCT_30
    assert in_cad["EUR"] == CAD_PER_EUR_OCT_30
    assert set(in_cad) == set(CURRENCIES) - {"CAD"}  # not IDR, THB, ...: not offered

    in_euros = ecb.crosses(day, base="EUR")
    assert in_euros is not None
    assert in_euros["USD"] == EUR_PER_USD_OCT_30
    assert in_euros["CAD"] == EUR_PER_CAD_OCT_30
    assert "EUR" not in in_euros

    in_yen = ecb.crosses(day, base="JPY")
    assert in_yen is not None
    assert in_yen["USD"] == JPY_PER_USD_OCT_30
    assert in_yen["EUR"] == JPY_PER_EUR_OCT_30


def test_a_cross_is_rounded_half_up_to_10_decimals():
    # 2.0000000001 / 2 = 1.00000000005 exactly: half-up gives ...01 (half-even would give ...00).
    crossed = ecb.crosses({"CAD": Decimal("2.0000000001"), "USD": Decimal("2")}, base="CAD")

    assert crossed == {"USD": Decimal("1.0000000001"), "EUR": Decimal("2.0000000001")}


@pytest.mark.parametrize(
    ("euro_rates", "shown"),
    [
        ({"CAD": Decimal("9999"), "USD": Decimal("0.0000001")}, "1 USD = 99990000000 CAD"),
        ({"CAD": Decimal("0.00000000001"), "USD": Decimal("1")}, "1 USD = 0.00000000001 CAD"),
    ],
)
def test_a_cross_a_rate_cannot_hold_is_refused(euro_rates, shown):
    with pytest.raises(ecb.EcbFileError, match=f"{shown} is out of the range a rate can hold"):
        ecb.crosses(euro_rates, base="CAD")


def test_a_day_without_a_rate_for_the_base_gives_nothing():
    day = ecb.parse(read(HISTORY_XML))[JAN_4_1999]

    assert ecb.crosses(day, base="BRL") is None


def _daily_xml_with(old: str, new: str) -> bytes:
    content = read(DAILY_XML)
    assert old.encode() in content
    return content.replace(old.encode(), new.encode(), 1)


def _zip_of(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, read(DAILY_CSV))
    return buffer.getvalue()


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">]>
<Envelope>&lol2;</Envelope>"""

BAD_FILES = {
    "empty": (b"", "The file is empty."),
    "blank": (b"  \n\n", "The file is empty."),
    "not_xml_nor_csv": (
        b"Hello, world",
        "This is not a file of the ECB's euro reference rates (XML, CSV or zip): its first "
        "line should start with “Date,”, not “Hello, world”.",
    ),
    "not_text": (b"\x89PNG\r\n\x1a\n\x00\x00\xff", "it is not text"),
    "truncated_xml": (read(DAILY_XML)[:400], "The file is not valid XML"),
    "other_xml": (
        b"<rates><rate currency='USD'>1.1</rate></rates>",
        "its XML has no Cube in the namespace http://www.ecb.int/vocabulary/2002-08-01/eurofxref",
    ),
    "entity_bomb": (BOMB, "its XML is refused"),
    "rate_abc": (
        _daily_xml_with("rate='1.1172'", "rate='abc'"),
        "Bad rate “abc” for USD on 2026-10-30",
    ),
    "negative_rate": (
        _daily_xml_with("rate='1.1172'", "rate='-1.1172'"),
        "Bad rate “-1.1172” for USD on 2026-10-30: a rate is a number greater than 0",
    ),
    "zero_rate": (b"Date,USD,\n2026-10-30,0,\n", "Bad rate “0” for USD on 2026-10-30"),
    "bad_xml_date": (
        _daily_xml_with("time='2026-10-30'", "time='2026-10-32'"),
        "Bad date “2026-10-32” in the day number 1 of the file",
    ),
    "bad_csv_date": (
        b"Date,USD,CAD,\n2026-10-30,1.1172,1.5606,\n30/10/2026,1.1,1.5,\n",
        "Bad date “30/10/2026” on line 3",
    ),
    "unknown_layout": (
        b"currency,rate\nUSD,1.1172\n",
        "its first line should start with “Date,”, not “currency,rate”",
    ),
    "bad_currency": (b"Date,US Dollar,\n2026-10-30,1.1172,\n", "Bad currency code “US Dollar”"),
    "too_many_values": (b"Date,USD,\n2026-10-30,1.1,2.2,3.3\n", "Line 2 has 4 values"),
    "day_twice": (
        b"Date,USD,\n2026-10-30,1.1,\n2026-10-30,1.2,\n",
        "The day 2026-10-30 is in the file twice (line 3).",
    ),
    "header_only": (b"Date,USD,JPY,\n", "The file holds no day of rates."),
    "zip_of_two": (_zip_of("a.csv", "b.csv"), "The zip holds 2 files"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_a_bad_file_is_refused_saying_what_is_wrong(name):
    content, message = BAD_FILES[name]

    with pytest.raises(ecb.EcbFileError) as refused:
        ecb.parse(content)
    assert message in str(refused.value)


# --- Importing ------------------------------------------------------------------------------
@pytest.fixture
def base(business):
    """The business's base currency, CAD; ``base("EUR")`` makes it another."""

    def change(currency: str) -> str:
        business.default_currency = currency
        business.save()
        return currency

    return change


def test_importing_the_daily_file_stores_the_crosses_in_the_base_currency(base, administrator):
    summary = import_rates(
        data=fetch_source(str(DATA / DAILY_XML)), acting_user=administrator, origin="daily"
    )

    stored = rates_in("CAD", OCT_30)
    assert stored["USD"] == CAD_PER_USD_OCT_30
    assert stored["JPY"] == CAD_PER_JPY_OCT_30
    assert stored["EUR"] == CAD_PER_EUR_OCT_30
    assert len(stored) == OFFERED_BUT_CAD
    rows = ExchangeRate.objects.filter(date=OCT_30)
    assert {row.source for row in rows} == {SOURCE_ECB}
    assert {row.created_by for row in rows} == {administrator}
    assert summary == importing.ImportSummary(
        base_currency="CAD",
        first_date=OCT_30,
        last_date=OCT_30,
        days=1,
        added=OFFERED_BUT_CAD,
        updated=0,
        unchanged=0,
        kept=0,
    )


def test_a_base_of_euros_takes_the_inverse_of_each_euro_rate(base, administrator):
    base("EUR")
    import_rates(data=read(DAILY_XML), acting_user=administrator)

    stored = rates_in("EUR", OCT_30)
    assert stored["USD"] == EUR_PER_USD_OCT_30
    assert stored["CAD"] == EUR_PER_CAD_OCT_30
    assert "EUR" not in stored
    assert not rates_in("CAD", OCT_30)


def test_a_base_of_yen(base, administrator):
    base("JPY")
    import_rates(data=read(DAILY_CSV), acting_user=administrator)

    stored = rates_in("JPY", OCT_30)
    assert stored["USD"] == JPY_PER_USD_OCT_30
    assert stored["EUR"] == JPY_PER_EUR_OCT_30


@pytest.mark.parametrize(
    ("name", "days", "added"),
    [
        (DAILY_XML, 1, OFFERED_BUT_CAD),
        (DAILY_CSV, 1, OFFERED_BUT_CAD),
        (NINETY_DAYS_XML, 65, 65 * OFFERED_BUT_CAD),
        (HISTORY_XML, 10, 5 * OFFERED_BUT_CAD + 5 * OFFERED_BUT_CAD_1999),
        (HISTORY_ZIP, 10, 5 * OFFERED_BUT_CAD + 5 * OFFERED_BUT_CAD_1999),
    ],
)
@pytest.mark.parametrize("through", ["file", "address"])
def test_each_ecb_file_imports_from_a_file_or_an_address(
    name, days, added, through, base, administrator, site
):
    source = str(DATA / name) if through == "file" else site.serve(f"/ecb/{name}", read(name))

    summary = import_rates(data=fetch_source(source), acting_user=administrator, origin=source)

    assert (summary.days, summary.added, summary.last_date) == (days, added, OCT_30)
    assert rates_in("CAD", OCT_30)["USD"] == CAD_PER_USD_OCT_30
    assert ExchangeRate.objects.filter(source=SOURCE_ECB).count() == added


def test_the_history_has_its_1999_crosses_by_hand(base, administrator):
    import_rates(data=read(HISTORY_ZIP), acting_user=administrator)

    stored = rates_in("CAD", JAN_4_1999)
    assert stored["USD"] == CAD_PER_USD_1999
    assert stored["JPY"] == CAD_PER_JPY_1999
    assert "BRL" not in stored and len(stored) == OFFERED_BUT_CAD_1999


def test_days_without_a_rate_for_the_base_are_skipped_and_said(base, administrator):
    base("BRL")

    summary = import_rates(data=read(HISTORY_XML), acting_user=administrator)

    assert summary.skipped_dates == tuple(FIRST_DAYS_1999)
    assert summary.added == 5 * OFFERED_BUT_CAD  # BRL's days of 2026, USD... and CAD
    assert not ExchangeRate.objects.filter(base_currency="BRL", date__year=1999).exists()
    assert "5 days skipped: the file has no rate for BRL on them (1999-01-04 to 1999-01-08)" in (
        summary.describe()
    )


def test_importing_again_changes_nothing(base, administrator):
    import_rates(data=read(NINETY_DAYS_XML), acting_user=administrator)
    rows = list(ExchangeRate.objects.order_by("pk").values())
    records = AuditRecord.objects.count()

    summary = import_rates(data=read(NINETY_DAYS_XML), acting_user=administrator)

    assert (summary.added, summary.updated, summary.unchanged) == (0, 0, 65 * OFFERED_BUT_CAD)
    assert list(ExchangeRate.objects.order_by("pk").values()) == rows
    assert AuditRecord.objects.count() == records  # nothing written, nothing to record


def test_an_ecb_rate_stored_with_another_value_is_updated(base, administrator):
    import_rates(data=read(DAILY_XML), acting_user=administrator)
    ExchangeRate.objects.filter(currency="USD", date=OCT_30).update(rate=Decimal("1.3"))

    summary = import_rates(data=read(DAILY_XML), acting_user=administrator, origin="again")

    assert (summary.added, summary.updated) == (0, 1)
    assert rates_in("CAD", OCT_30)["USD"] == CAD_PER_USD_OCT_30
    record = AuditRecord.objects.filter(operation="rates.importing.import_rates").first()
    assert record is not None and record.after["from"] == "again"
    assert record.after["changed"] == [
        {"currency": "USD", "date": "2026-10-30", "before": "1.3000000000", "after": "1.3968850698"}
    ]


def test_a_rate_typed_in_is_kept(base, administrator):
    typed = ExchangeRate.objects.create(
        base_currency="CAD", currency="USD", date=OCT_30, rate=Decimal("1.4"), source=SOURCE_TYPED
    )

    summary = import_rates(data=read(DAILY_XML), acting_user=administrator)

    assert (summary.added, summary.kept) == (OFFERED_BUT_CAD - 1, 1)
    typed.refresh_from_db()
    assert (typed.rate, typed.source) == (Decimal("1.4"), SOURCE_TYPED)
    assert "1 kept as typed in" in summary.describe()


def test_an_import_leaves_one_audit_record_saying_what_it_did(base, administrator):
    before = AuditRecord.objects.count()

    import_rates(data=read(HISTORY_ZIP), acting_user=administrator, origin="hist.zip")

    assert AuditRecord.objects.count() == before + 1
    record = AuditRecord.objects.get(operation="rates.importing.import_rates")
    assert record.action == Action.EVENT and record.actor_id == administrator.pk
    assert record.object_type == "rates.exchangerate"
    assert record.after == {
        "event": "exchange rates imported",
        "from": "hist.zip",
        "base_currency": "CAD",
        "first_date": "1999-01-04",
        "last_date": "2026-10-30",
        "days": 10,
        "added": 5 * OFFERED_BUT_CAD + 5 * OFFERED_BUT_CAD_1999,
        "updated": 0,
        "unchanged": 0,
        "kept": 0,
        "skipped_days": 0,
        "changed": [],
    }


def test_a_viewer_may_not_import(base, viewer):
    with pytest.raises(NotPermitted):
        import_rates(data=read(DAILY_XML), acting_user=viewer)
    assert not ExchangeRate.objects.filter(source=SOURCE_ECB).exists()


def test_a_bookkeeper_may_import(base, bookkeeper):
    assert import_rates(data=read(DAILY_XML), acting_user=bookkeeper).added == OFFERED_BUT_CAD


def test_the_bundled_history_since_2025_imports(base):
    summary = import_rates(data=importing.BUNDLED_HISTORY.read_bytes(), acting_user=None)

    assert summary.first_date == datetime.date(2025, 1, 2) and summary.last_date == OCT_30
    assert summary.added == summary.days * OFFERED_BUT_CAD
    assert rates_in("CAD", OCT_30)["USD"] == CAD_PER_USD_OCT_30


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_a_bad_file_imports_nothing(name, base, administrator):
    content, message = BAD_FILES[name]
    count = ExchangeRate.objects.count()

    with pytest.raises(RatesRefused) as refused:
        import_rates(data=content, acting_user=administrator)

    assert message in refused.value.message
    assert ExchangeRate.objects.count() == count
    assert not AuditRecord.objects.filter(operation="rates.importing.import_rates").exists()


def test_a_file_bad_on_its_last_day_imports_none_of_the_others(base, administrator):
    content = read(NINETY_DAYS_XML)
    content = content[: content.rindex(b'rate="')] + b'rate="N/A"/></Cube></Cube></gesmes:Envelope>'
    count = ExchangeRate.objects.count()

    with pytest.raises(RatesRefused, match="Bad rate “N/A” for ZAR on 2026-08-03"):
        import_rates(data=content, acting_user=administrator)
    assert ExchangeRate.objects.count() == count


# --- Reading a file or an address -------------------------------------------------------------
def test_an_unreachable_address_is_refused(closed_port):
    with pytest.raises(RatesRefused, match="Could not reach http://127.0.0.1:.*refused"):
        fetch_source(f"http://127.0.0.1:{closed_port}/eurofxref-daily.xml")


def test_an_address_that_is_not_found_is_refused(site):
    with pytest.raises(RatesRefused) as refused:
        fetch_source(site.url("/stats/eurofxref/missing.xml"))
    assert refused.value.message == (
        f"{site.url('/stats/eurofxref/missing.xml')} answered 404 Not Found: no rates were read."
    )


def test_an_address_that_does_not_answer_in_time_is_refused(site, monkeypatch):
    monkeypatch.setattr(importing, "FETCH_TIMEOUT", 0.5)

    with pytest.raises(RatesRefused, match="did not answer within 0.5 seconds"):
        fetch_source(site.url("/never-answers"))


@pytest.mark.parametrize("with_length", [True, False])
def test_an_answer_too_big_is_refused(site, monkeypatch, with_length):
    monkeypatch.setattr(importing, "MAX_SOURCE_BYTES", 1000)
    url = site.serve("/big.xml", read(DAILY_XML), with_length=with_length)

    with pytest.raises(RatesRefused, match="is larger than 1,000 bytes"):
        fetch_source(url)


def test_a_file_too_big_is_refused(monkeypatch):
    monkeypatch.setattr(importing, "MAX_SOURCE_BYTES", 1000)

    with pytest.raises(RatesRefused, match="is larger than 1,000 bytes"):
        fetch_source(str(DATA / DAILY_XML))


def test_a_missing_file_a_folder_and_another_scheme_are_refused(tmp_path):
    with pytest.raises(RatesRefused, match="There is no file .*nowhere.xml"):
        fetch_source(str(tmp_path / "nowhere.xml"))
    with pytest.raises(RatesRefused, match="is a folder, not a file"):
        fetch_source(str(tmp_path))
    with pytest.raises(RatesRefused, match="an address starting with http:// or https://"):
        fetch_source("ftp://ftp.example.com/eurofxref-daily.xml")


# --- manage.py import_rates -----------------------------------------------------------------
def run(*args: str) -> str:
    out = StringIO()
    call_command("import_rates", *args, stdout=out)
    return out.getvalue()


def test_the_command_imports_a_file_and_prints_what_it_did(base):
    printed = run(str(DATA / NINETY_DAYS_XML))

    assert printed.strip() == (
        f"Imported the ECB's rates of 65 days, 2026-08-03 to 2026-10-30 in CAD: "
        f"{65 * OFFERED_BUT_CAD} added, 0 updated, 0 unchanged, 0 kept as typed in."
    )
    record = AuditRecord.objects.get(operation="rates.importing.import_rates")
    assert (record.actor_id, record.actor_name) == (None, "manage.py import_rates")
    assert ExchangeRate.objects.filter(created_by=None, source=SOURCE_ECB).count() == (
        65 * OFFERED_BUT_CAD
    )


def test_the_command_reads_otb_rates_url_when_given_nothing(base, site, settings):
    settings.OTB_RATES_URL = site.serve("/eurofxref-daily.xml", read(DAILY_XML))

    assert run().strip() == (
        f"Imported the ECB's rates of 2026-10-30 in CAD: {OFFERED_BUT_CAD} added, 0 updated, "
        "0 unchanged, 0 kept as typed in."
    )
    assert "0 added" in run()


def test_the_command_defaults_to_the_ecbs_daily_file(settings, monkeypatch):
    settings.OTB_RATES_URL = ""
    monkeypatch.delenv("OTB_RATES_URL", raising=False)

    assert importing.default_source() == (
        "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml"
    )


def test_the_command_refuses_a_bad_file_or_address_saying_why(base, tmp_path, site):
    bad = tmp_path / "eurofxref-daily.xml"
    bad.write_bytes(read(DAILY_XML)[:400])
    count = ExchangeRate.objects.count()

    with pytest.raises(CommandError, match="The file is not valid XML"):
        run(str(bad))
    with pytest.raises(CommandError, match="answered 404 Not Found"):
        run(site.url("/eurofxref-daily.xml"))
    assert ExchangeRate.objects.count() == count
