"""What the API's resources share: authentication by DRF, the query-parameter parsers, input
validation, PDF downloads, and the viewset of rows addressed by their code (clients,
services)."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable

from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import mixins, renderers, status, viewsets
from rest_framework.response import Response

from billing.models import Client
from links.selectors import links_of
from links.services import revoke_link
from otb.operations import InvalidInput

from .. import serializers
from ..errors import ApiError

log = logging.getLogger(__name__)

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Send the same key again to get the first answer instead of a second row.",
)

ACTIVE_PARAMETER = OpenApiParameter(
    "is_active",
    OpenApiTypes.BOOL,
    description="true: the active ones; false: the inactive ones; left out: both.",
)


PDF_RESPONSES = {(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY)}


class PdfRenderer(renderers.BaseRenderer):
    """Lets a client ask for ``Accept: application/pdf``; errors are still JSON."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes):
            return data
        return renderers.JSONRenderer().render(data)


PDF_RENDERERS = [renderers.JSONRenderer, PdfRenderer]


def pdf_download(render: Callable[[], bytes], *, filename: str, what: str) -> HttpResponse:
    """The PDF that ``render`` makes, as a download named ``filename``. A document that
    cannot be rendered just now is a 503 naming no internals, never a 500."""
    try:
        content = render()
    except Exception:  # WeasyPrint and Pango raise many kinds; the API never answers 500
        log.exception("Could not render the PDF of %s", what)
        raise ApiError(
            _("The PDF could not be made just now; try again later."),
            code="pdf_failed",
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        ) from None
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class ApiViewMixin:
    """DRF authenticates API requests itself: the LoginRequiredMiddleware, which would send
    them to the login page, lets them through."""

    @classmethod
    def as_view(cls, *args, **kwargs):
        return login_not_required(super().as_view(*args, **kwargs))


def query_bool(request, name: str) -> bool | None:
    value = request.query_params.get(name)
    if value in (None, ""):
        return None
    if value.lower() in ("true", "1", "yes"):
        return True
    if value.lower() in ("false", "0", "no"):
        return False
    raise ApiError(
        _("%(name)s: use true or false.") % {"name": name},
        code="invalid",
        status_code=status.HTTP_400_BAD_REQUEST,
        field=name,
    )


def query_date(request, name: str) -> datetime.date | None:
    value = request.query_params.get(name)
    if value in (None, ""):
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise ApiError(
            _("%(name)s: “%(value)s” is not a date; use YYYY-MM-DD.")
            % {"name": name, "value": value[:40]},
            code="invalid",
            status_code=status.HTTP_400_BAD_REQUEST,
            field=name,
        ) from None


def validated(serializer_class, request, *, partial: bool = False) -> dict:
    serializer = serializer_class(data=request.data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def object_by_id(queryset, pk: str, *, what: str):
    """The row of ``queryset`` whose id is ``pk`` as the URL gives it, or a JSON 404 naming
    ``what``: an id that is no number ("null,null"), or beyond what the database holds, is
    found nowhere rather than a server error."""
    valid = pk.isascii() and pk.isdigit() and len(pk) < 19
    found = queryset.filter(pk=int(pk)).first() if valid else None
    if found is None:
        raise ApiError(
            _("There is no %(what)s “%(id)s”.") % {"what": what, "id": pk[:40]},
            code="not_found",
            status_code=status.HTTP_404_NOT_FOUND,
        )
    return found


def object_by_ref(queryset, ref: str, *, what: str):
    """The row of ``queryset`` numbered ``ref`` (INV-0042, CN-0001), else the one whose id it
    is: a document is addressed by its number once issued, by its id before."""
    found = queryset.filter(number=ref).first()
    return found if found is not None else object_by_id(queryset, ref, what=what)


def client_by_code(code: str, *, field: str = "client") -> Client:
    client = Client.objects.filter(code=code).first()
    if client is None:
        raise InvalidInput.single(
            field, _("Client: there is no client with the code “%(code)s”.") % {"code": code}
        )
    return client


class CodeViewSet(
    ApiViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Rows addressed by their code, listed, read, created and changed; never deleted."""

    lookup_field = "code"
    lookup_value_regex = "[^/]+"
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    input_serializer_class: type

    def get_object(self):
        return get_object_or_404(self.queryset, code=self.kwargs["code"])

    def _answer(self, obj, status_code=status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(obj).data, status=status_code)


def links_answer(document) -> Response:
    """The links ``document`` was ever sent with (the ``links`` action of each document that
    links open: an invoice, a credit note, a quote)."""
    return Response(serializers.DocumentLinkSerializer(links_of(document), many=True).data)


def revoke_link_answer(document, link_id: str, request) -> Response:
    """Revoke one of ``document``'s links (another document's link is not found): the
    ``revoke_link`` action of each document that links open."""
    link = object_by_id(links_of(document), link_id, what=_("link"))
    data = validated(serializers.RevokeLinkInputSerializer, request)
    link = revoke_link(link=link, acting_user=request.user, **data)
    return Response(serializers.DocumentLinkSerializer(link).data)
