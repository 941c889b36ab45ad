"""An export as a download, for the page and the API alike: the bytes go to the client as
the format writes them, so neither the server nor the client holds the whole file.

A streamed answer is written after the view has returned. There is no request transaction
(no ATOMIC_REQUESTS) to end under it: each query of the export runs on the request's
connection, which Django closes only when the server has sent the last byte. The first
chunk is made in the view, so a format that fails at once answers an error status, not a
200 with an empty file. A failure after that is logged here and raised again: the server
then drops the connection without ending the chunked answer, and the browser or client
reports a failed (truncated) download, never a complete-looking one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from django.http import StreamingHttpResponse
from django.utils.cache import patch_cache_control

from .inputs import ExportRequest

log = logging.getLogger(__name__)

# Who may export: a bookkeeper or an administrator, never a viewer (the ledger's own
# permission: ledger.models.LedgerEntry.Meta).
EXPORT_PERMISSIONS = ("ledger.export_books",)


def download(export: ExportRequest) -> StreamingHttpResponse:
    """``export`` as an attachment: no Content-Length (the size is known only at the end),
    and never stored by a cache."""
    books = export.books()
    chunks = iter(export.format.write(books))
    first = next(chunks, b"")
    response = StreamingHttpResponse(
        _rest_logged(first, chunks, export), content_type=export.format.content_type
    )
    # The name is ASCII (key, dates, extension): no quoting beyond the quotes.
    response["Content-Disposition"] = f'attachment; filename="{export.format.filename(books)}"'
    patch_cache_control(response, no_store=True, private=True)
    return response


def _rest_logged(first: bytes, rest: Iterator[bytes], export: ExportRequest) -> Iterator[bytes]:
    if first:
        yield first
    try:
        yield from rest
    except Exception:
        # The client closing the connection is GeneratorExit, not an Exception: not logged.
        log.exception(
            "The %s export of %s to %s failed half-way; the download is cut short",
            export.format.key,
            export.start,
            export.end,
        )
        raise
