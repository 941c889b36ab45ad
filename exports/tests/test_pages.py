"""The export page at /exports/: who may open it, the form, bad input, and the download."""

import datetime
import logging
from collections.abc import Iterator

import pytest
import time_machine
from django.utils.html import escape

from exports.books import Books
from exports.formats import FORMATS, Format

from .conftest import END, START

URL = "/exports/"
RANGE = {"start": START.isoformat(), "end": END.isoformat()}


def exported(key: str, start: datetime.date = START, end: datetime.date = END) -> bytes:
    return b"".join(FORMATS[key].write(Books.of(start, end)))


@pytest.fixture
def signed_in(client, bookkeeper, golden_books):
    client.force_login(bookkeeper)
    return client


@pytest.mark.parametrize("role", ["administrator", "bookkeeper"])
def test_administrators_and_bookkeepers_may_open_the_page(client, role, request, golden_books):
    client.force_login(request.getfixturevalue(role))
    response = client.get(URL)
    assert response.status_code == 200
    for found in FORMATS.values():
        assert escape(str(found.label)) in response.text
        assert escape(str(found.description)) in response.text


def test_a_viewer_may_neither_open_the_page_nor_download(client, viewer, golden_books):
    client.force_login(viewer)
    assert client.get(URL).status_code == 403
    assert client.get(URL, {"format": "hledger", **RANGE}).status_code == 403


def test_the_page_needs_a_login(client, golden_books):
    response = client.get(URL, {"format": "hledger", **RANGE})
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_menu_links_the_page_for_a_bookkeeper_only(client, bookkeeper, viewer, golden_books):
    client.force_login(bookkeeper)
    assert f'href="{URL}"' in client.get("/").text
    client.force_login(viewer)
    assert f'href="{URL}"' not in client.get("/").text


def test_the_form_offers_last_year_by_default(signed_in):
    with time_machine.travel(datetime.datetime(2026, 2, 10, 12, tzinfo=datetime.UTC)):
        response = signed_in.get(URL)
    assert response.status_code == 200
    assert 'value="2025-01-01"' in response.text
    assert 'value="2025-12-31"' in response.text
    # A GET form: no CSRF token to end up in the download's address.
    form = response.text.split('id="export-form"')[1].split("</form>")[0]
    assert "csrfmiddlewaretoken" not in form


@pytest.mark.parametrize("key", list(FORMATS))
def test_the_download_is_the_format_s_export_of_the_range(signed_in, key):
    response = signed_in.get(URL, {"format": key, **RANGE})
    assert response.status_code == 200
    assert response.streaming
    # Read after the view returned, as a server sends it: the queries still work.
    content = b"".join(response.streaming_content)
    assert content == exported(key)
    found = FORMATS[key]
    assert response["Content-Type"] == found.content_type
    assert response["Content-Disposition"] == (
        f'attachment; filename="otb-books-{key}-20260101-20260331.{found.extension}"'
    )
    assert "Content-Length" not in response
    assert "no-store" in response["Cache-Control"]


def test_an_empty_range_downloads_too(signed_in):
    response = signed_in.get(URL, {"format": "hledger", "start": "2019-01-01", "end": "2019-12-31"})
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    assert content == exported("hledger", datetime.date(2019, 1, 1), datetime.date(2019, 12, 31))


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ({**RANGE}, "format", "Format: choose one of csv"),
        ({"format": "", **RANGE}, "format", "Format: choose one of"),
        ({"format": "pdf", **RANGE}, "format", "Format: “pdf” is not an export format"),
        ({"format": "hledger", "end": "2026-03-31"}, "start", "Start date: this field is required"),
        ({"format": "hledger", "start": "2026-01-01"}, "end", "End date: this field is required"),
        (
            {"format": "hledger", "start": "2026-02-30", "end": "2026-03-31"},
            "start",
            "Start date: “2026-02-30” is not a date",
        ),
        (
            {"format": "hledger", "start": "2026-01-01", "end": "yesterday"},
            "end",
            "End date: “yesterday” is not a date",
        ),
        (
            {"format": "hledger", "start": "2026-03-31", "end": "2026-01-01"},
            "end",
            "End date: must be on or after the start date (2026-03-31)",
        ),
        (
            {"format": "hledger", "start": "1969-12-31", "end": "2026-01-01"},
            "start",
            "Start date: enter a date between 1970-01-01 and 2999-12-31",
        ),
        (
            {"format": "hledger", "start": "2026-01-01", "end": "9999-12-31"},
            "end",
            "End date: enter a date between 1970-01-01 and 2999-12-31",
        ),
    ],
)
def test_bad_input_shows_the_page_again_naming_the_field(signed_in, query, field, words):
    response = signed_in.get(URL, query)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert any(words in message for message in errors[field]), errors
    assert words in response.text.replace("&quot;", '"')


def test_every_bad_field_is_named_at_once(signed_in):
    response = signed_in.get(URL, {"format": "x", "start": "no", "end": "never"})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"format", "start", "end"}


def _failing_half_way(books: Books) -> Iterator[bytes]:
    yield b"the first part\n"
    raise RuntimeError("the disk of the database went away")


def _failing_at_once(books: Books) -> Iterator[bytes]:
    raise RuntimeError("no export at all")


def _format(key: str, write) -> Format:
    return Format(key, key, key, "txt", "text/plain; charset=utf-8", write)


def test_a_failure_half_way_is_logged_and_cuts_the_download_short(signed_in, monkeypatch, caplog):
    monkeypatch.setitem(FORMATS, "broken", _format("broken", _failing_half_way))
    response = signed_in.get(URL, {"format": "broken", **RANGE})
    assert response.status_code == 200  # sent before the failure
    chunks = iter(response.streaming_content)
    assert next(chunks) == b"the first part\n"
    with caplog.at_level(logging.ERROR, logger="exports.streaming"), pytest.raises(RuntimeError):
        next(chunks)
    record = next(r for r in caplog.records if r.name == "exports.streaming")
    assert "broken export of 2026-01-01 to 2026-03-31 failed half-way" in record.getMessage()
    assert record.exc_info is not None


def test_a_format_failing_at_once_is_an_error_not_an_empty_file(signed_in, monkeypatch):
    monkeypatch.setitem(FORMATS, "broken", _format("broken", _failing_at_once))
    signed_in.raise_request_exception = False
    response = signed_in.get(URL, {"format": "broken", **RANGE})
    assert response.status_code == 500
