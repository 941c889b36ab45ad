"""GET /api/v1/exports/: the same bytes as the page, the API's errors, its schema."""

import http.client

import pytest
from rest_framework.test import APIClient

from api.models import ApiToken
from exports.books import Books
from exports.formats import FORMATS
from exports.inputs import EARLIEST, LATEST
from tests.api import refused, token_client
from tests.servers import running_servers

from .conftest import END, START

URL = "/api/v1/exports/"
RANGE = {"start": START.isoformat(), "end": END.isoformat()}


@pytest.fixture
def api(bookkeeper, golden_books):
    return token_client(bookkeeper)


@pytest.mark.parametrize("key", list(FORMATS))
def test_the_export_is_the_format_s_bytes(api, key):
    response = api.get(URL, {"format": key, **RANGE})
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"".join(
        FORMATS[key].write(Books.of(START, END))
    )
    assert response["Content-Type"] == FORMATS[key].content_type
    assert response["Content-Disposition"].startswith(f'attachment; filename="otb-books-{key}-')
    assert "Content-Length" not in response
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("key", list(FORMATS))
def test_every_date_the_schema_allows_exports(api, key):
    # What the fuzzer found: a zip's member times hold the years 1980 to 2107 only.
    for start, end in [(EARLIEST, EARLIEST), (LATEST, LATEST), (EARLIEST, LATEST)]:
        response = api.get(URL, {"format": key, "start": start, "end": end})
        assert response.status_code == 200, (start, end)
        assert b"".join(response.streaming_content) == b"".join(
            FORMATS[key].write(Books.of(start, end))
        )


def test_an_administrator_may_export(administrator, golden_books):
    response = token_client(administrator).get(URL, {"format": "hledger", **RANGE})
    assert response.status_code == 200


def test_any_accept_header_gets_the_export(api):
    # "format" is the export's here, not DRF's choice of renderer; Accept changes nothing.
    response = api.get(URL, {"format": "hledger", **RANGE}, HTTP_ACCEPT="application/zip")
    assert response.status_code == 200
    assert response["Content-Type"] == FORMATS["hledger"].content_type


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        (RANGE, "format", "Format: choose one of"),
        ({"format": "json", **RANGE}, "format", "“json” is not an export format"),
        ({"format": "hledger", "end": "2026-03-31"}, "start", "Start date: this field is required"),
        ({"format": "hledger", "start": "2026-01-01"}, "end", "End date: this field is required"),
        ({"format": "hledger", "start": "2026-1-1", "end": "2026-03-31"}, "start", "not a date"),
        (
            {"format": "hledger", "start": "2026-03-31", "end": "2026-03-30"},
            "end",
            "must be on or after the start date",
        ),
        ({"format": "hledger", "start": "0001-01-01", "end": "2026-03-31"}, "start", "between"),
        ({"format": "hledger", "start": "2026-01-01", "end": "9999-12-31"}, "end", "between"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api, query, field, words):
    response = api.get(URL, query)
    assert words in refused(response, 400, field)
    assert response["Content-Type"] == "application/json"


def test_without_a_token_it_is_a_401(golden_books):
    response = APIClient().get(URL, {"format": "hledger", **RANGE})
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_a_viewer_is_refused(viewer, golden_books):
    response = token_client(viewer).get(URL, {"format": "hledger", **RANGE})
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_the_schema_describes_the_export(api):
    schema = api.get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"][URL]["get"]
    assert set(schema["paths"][URL]) == {"get"}
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert sorted(parameters["format"]["schema"]["enum"]) == sorted(FORMATS)
    assert parameters["start"]["schema"] == {"type": "string", "format": "date"}
    assert parameters["end"]["schema"] == {"type": "string", "format": "date"}
    assert all(parameters[name]["required"] for name in ("format", "start", "end"))
    ok = operation["responses"]["200"]["content"]
    assert set(ok) == {"application/zip", "text/csv", "text/plain"}
    assert all(media["schema"] == {"type": "string", "format": "binary"} for media in ok.values())
    assert {"400", "401", "403"} <= set(operation["responses"])
    error = operation["responses"]["400"]["content"]["application/json"]["schema"]["$ref"]
    assert error.endswith("/ExportError")


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_a_real_server_streams_the_export_in_chunks(migration_rows, golden_books, bookkeeper):
    """Through gunicorn, as deployed: the export is read after the view returned, on the
    request's connection, and sent chunked (MariaDB only: the server shares the database)."""
    _token, key = ApiToken.objects.create_token(user=bookkeeper, name="stream-test")
    expected = b"".join(FORMATS["hledger"].write(Books.of(START, END)))
    with running_servers(1, spread_over_nodes=False) as (server,):
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        try:
            connection.request(
                "GET",
                f"{URL}?format=hledger&start={START}&end={END}",
                headers={"Authorization": f"Token {key}"},
            )
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()
        assert "Traceback" not in server.output()
    assert response.status == 200
    assert response.getheader("Transfer-Encoding") == "chunked"
    assert response.getheader("Content-Length") is None
    assert body == expected
