"""The accounting exports (issue 22): the books of a date range in one of the formats of
``exports.formats``, streamed as the page at /exports/ gives them."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, views
from rest_framework.negotiation import BaseContentNegotiation

from exports.formats import FORMATS
from exports.inputs import EARLIEST, LATEST, clean_export
from exports.streaming import EXPORT_PERMISSIONS, download

from .base import ApiViewMixin

ERROR = inline_serializer(
    "ExportError",
    fields={
        "code": serializers.CharField(),
        "detail": serializers.CharField(),
        "errors": serializers.DictField(child=serializers.ListField(child=serializers.CharField())),
    },
)
BINARY = OpenApiResponse(OpenApiTypes.BINARY, description="The export, streamed.")


class ExportNegotiation(BaseContentNegotiation):
    """The export's bytes whatever ``Accept`` asks, and errors in JSON. Here ``format`` is
    the export's format, not DRF's choice of renderer (URL_FORMAT_OVERRIDE), which would
    answer 404 to ``?format=hledger``."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class ExportView(ApiViewMixin, views.APIView):
    read_permissions = list(EXPORT_PERMISSIONS)
    content_negotiation_class = ExportNegotiation

    @extend_schema(
        operation_id="exports_retrieve",
        tags=["exports"],
        summary="Download the books of a date range",
        description=(
            "The documents issued and the payments recorded from `start` to `end` (both "
            "included), in one format; the same books give the same bytes. The file is "
            "streamed: no Content-Length. Administrators and bookkeepers only. "
            + " ".join(f"`{key}`: {found.label}." for key, found in FORMATS.items())
        ),
        parameters=[
            OpenApiParameter(
                "format",
                OpenApiTypes.STR,
                required=True,
                enum=list(FORMATS),
                description="The export format.",
            ),
            OpenApiParameter(
                "start",
                OpenApiTypes.DATE,
                required=True,
                description=f"The first day, {EARLIEST} to {LATEST}.",
            ),
            OpenApiParameter(
                "end",
                OpenApiTypes.DATE,
                required=True,
                description=f"The last day: on or after `start`, at most {LATEST}.",
            ),
        ],
        responses={
            **{
                (200, media_type): BINARY
                for media_type in sorted(
                    {found.content_type.split(";")[0] for found in FORMATS.values()}
                )
            },
            400: OpenApiResponse(ERROR, description="A parameter is not valid; named in errors."),
            401: OpenApiResponse(ERROR, description="No valid token."),
            403: OpenApiResponse(ERROR, description="Not an administrator or a bookkeeper."),
        },
    )
    def get(self, request) -> StreamingHttpResponse:
        export = clean_export(
            format_key=request.query_params.get("format"),
            start=request.query_params.get("start"),
            end=request.query_params.get("end"),
        )
        return download(export)
