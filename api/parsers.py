"""JSON bodies within the size Django allows any request body (DATA_UPLOAD_MAX_MEMORY_SIZE):
DRF's own parser reads the stream whole, past that limit (a 30 MB body was parsed)."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import parsers, status

from .errors import ApiError


def body_limit() -> int:
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


class TooLarge(ApiError):
    def __init__(self) -> None:
        super().__init__(
            _("The request body is larger than %(n)d bytes.") % {"n": body_limit()},
            code="too_large",
            status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )


class LimitedStream:
    """At most the limit of the stream, refused (413) as soon as it would pass it; the
    Content-Length a client announces is refused before anything is read."""

    def __init__(self, stream):
        self.stream = stream

    def read(self, size: int = -1) -> bytes:
        limit = body_limit()
        data = self.stream.read(limit + 1) if size < 0 or size > limit else self.stream.read(size)
        if len(data) > limit:
            raise TooLarge
        return data


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        length = request.META.get("CONTENT_LENGTH") if request is not None else None
        if length and length.isdigit() and int(length) > body_limit():
            raise TooLarge
        return super().parse(LimitedStream(stream), media_type, parser_context)
