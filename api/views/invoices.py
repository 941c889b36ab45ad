"""Invoices: drafts addressed by id, issued ones by number; their lifecycle, e-mail and PDF."""

from __future__ import annotations

import datetime

from django.db.models import Prefetch
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from billing import services as billing
from billing.lists import filter_invoices
from billing.models import Invoice, InvoiceLine, InvoiceStatus, Service
from billing.pdf import invoice_pdf, load_invoice, pdf_filename
from billing.selectors import with_viewed_at
from links.models import LinkKind
from links.office import REVOKE_PERMISSIONS
from otb.operations import InvalidInput
from outbox import services as outbox
from settings_app.selectors import business_today

from .. import serializers as s
from ..idempotency import idempotent, idempotent_resource
from .base import (
    IDEMPOTENCY_PARAMETER,
    PDF_RENDERERS,
    PDF_RESPONSES,
    ApiViewMixin,
    client_by_code,
    links_answer,
    object_by_ref,
    pdf_download,
    query_date,
    revoke_link_answer,
    validated,
)
from .messages import messages_answer


def _lines(items: list[dict]) -> list[billing.LineData]:
    codes = {item["service"] for item in items if item.get("service")}
    services = {service.code: service for service in Service.objects.filter(code__in=codes)}
    errors = {}
    lines = []
    for index, item in enumerate(items):
        item = dict(item)
        code = item.pop("service", None)
        if code:
            if code not in services:
                errors[f"lines.{index}.service"] = [
                    _("Line %(n)d: there is no service with the code “%(code)s”.")
                    % {"n": index + 1, "code": code}
                ]
                continue
            item["service"] = services[code]
        lines.append(billing.LineData(**item))
    if errors:
        raise InvalidInput(errors)
    return lines


# What each filter means is billing.lists.filter_invoices'; the office's invoice list has the
# same ones (its number search is "q").
LINK_ID = OpenApiParameter(
    "link_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The link's id."
)

INVOICE_FILTERS = [
    OpenApiParameter(
        "status",
        OpenApiTypes.STR,
        enum=InvoiceStatus.values,
        description="The status the invoice shows: a pending or partly paid invoice past its "
        "due date is overdue.",
    ),
    OpenApiParameter("client", OpenApiTypes.STR, description="A client code, any case."),
    OpenApiParameter("issued_from", OpenApiTypes.DATE, description="Issue date on or after."),
    OpenApiParameter("issued_to", OpenApiTypes.DATE, description="Issue date on or before."),
    OpenApiParameter(
        "search",
        OpenApiTypes.STR,
        description="The start of the number, any case (INV-004 finds INV-0042), or digits "
        "alone, the number's sequence (42 finds INV-0042).",
    ),
]


@extend_schema(tags=["invoices"])
class InvoiceViewSet(
    ApiViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Invoices. Issued ones are addressed by number (``INV-0042``), drafts by id."""

    serializer_class = s.InvoiceSerializer
    lookup_field = "ref"
    lookup_value_regex = "[^/]+"
    read_permissions = ["billing.view_invoice"]
    write_permissions = {
        "create": ["billing.add_invoice"],
        "update": ["billing.change_invoice"],
        "partial_update": ["billing.change_invoice"],
        "destroy": ["billing.delete_invoice"],
        "issue": ["billing.issue_invoice"],
        "cancel": ["billing.cancel_invoice"],
        "duplicate": ["billing.add_invoice"],
        "send": ["outbox.send_message"],
        "revoke_link": list(REVOKE_PERMISSIONS[LinkKind.INVOICE]),
    }

    @cached_property
    def today(self) -> datetime.date:
        return business_today()

    def get_queryset(self):
        return with_viewed_at(
            Invoice.objects.with_shown_status(today=self.today)
            .select_related("client")
            .prefetch_related(
                Prefetch("lines", queryset=InvoiceLine.objects.select_related("service")),
                "taxes",
            )
        )

    def filter_queryset(self, queryset):
        params = self.request.query_params
        return filter_invoices(
            queryset,
            today=self.today,
            status=params.get("status", ""),
            client=params.get("client", ""),
            number=params.get("search", ""),
            issued_from=query_date(self.request, "issued_from"),
            issued_to=query_date(self.request, "issued_to"),
        )

    def get_object(self):
        return object_by_ref(self.get_queryset(), self.kwargs["ref"], what=_("invoice"))

    def _answer(self, invoice, status_code=status.HTTP_200_OK) -> Response:
        invoice = self.get_queryset().get(pk=invoice.pk)
        return Response(self.get_serializer(invoice).data, status=status_code)

    @extend_schema(parameters=INVOICE_FILTERS)
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=s.InvoiceInputSerializer, parameters=[IDEMPOTENCY_PARAMETER])
    @idempotent
    def create(self, request):
        data = dict(validated(s.InvoiceInputSerializer, request))
        client = client_by_code(data.pop("client"))
        lines = _lines(data.pop("lines"))
        invoice = billing.create_draft(client=client, lines=lines, acting_user=request.user, **data)
        return self._answer(invoice, status.HTTP_201_CREATED)

    @extend_schema(request=s.InvoiceInputSerializer)
    def update(self, request, ref, partial=False):
        invoice = self.get_object()
        data = dict(validated(s.InvoiceInputSerializer, request, partial=partial))
        if "client" in data:
            data["client"] = client_by_code(data["client"])
        if "lines" in data:
            data["lines"] = _lines(data["lines"])
        invoice = billing.update_invoice(invoice=invoice, acting_user=request.user, **data)
        return self._answer(invoice)

    @extend_schema(request=s.InvoiceInputSerializer)
    def partial_update(self, request, ref):
        return self.update(request, ref, partial=True)

    @extend_schema(responses={204: None})
    def destroy(self, request, ref):
        billing.delete_draft(invoice=self.get_object(), acting_user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=s.IssueInputSerializer, responses=s.InvoiceSerializer)
    @action(detail=True, methods=["post"])
    def issue(self, request, ref):
        """Give the draft its number and dates (default: today, and today + payment terms)."""
        invoice = self.get_object()
        data = validated(s.IssueInputSerializer, request)
        invoice = billing.issue_invoice(invoice=invoice, acting_user=request.user, **data)
        return self._answer(invoice)

    @extend_schema(request=None, responses={201: s.InvoiceSerializer})
    @action(detail=True, methods=["post"])
    def duplicate(self, request, ref):
        """A new draft with the invoice's client, lines, discount, notes and terms."""
        draft = billing.duplicate_invoice(invoice=self.get_object(), acting_user=request.user)
        return self._answer(draft, status.HTTP_201_CREATED)

    @extend_schema(request=s.CancelInputSerializer, responses=s.InvoiceSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, ref):
        """Cancel an issued invoice without payments; its number is never reused."""
        invoice = self.get_object()
        data = validated(s.CancelInputSerializer, request)
        invoice = billing.cancel_invoice(invoice=invoice, acting_user=request.user, **data)
        return self._answer(invoice)

    @extend_schema(
        request=s.SendInvoiceInputSerializer,
        responses={202: s.MessageSerializer(many=True)},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @action(detail=True, methods=["post"], pagination_class=None)
    @idempotent_resource(render=messages_answer, status_code=status.HTTP_202_ACCEPTED)
    def send(self, request, ref, *, remember):
        """E-mail the invoice with its PDF attached, through the SMTP server of the settings:
        one message per recipient (to, cc and bcc alike), each with that recipient's own link
        to the invoice (which replaces the link an earlier send gave it). The answer is the
        messages in the outbox as they are once the first delivery attempt is over, the
        links masked: each ``sent``, ``queued`` (a temporary failure, tried again later: see
        ``next_attempt_at``) or ``failed`` with the ``problem``. Sent again with the same
        ``Idempotency-Key``, the answer is those messages as they are now."""
        invoice = self.get_object()
        data = validated(s.SendInvoiceInputSerializer, request)
        fields = {**outbox.invoice_message_defaults(invoice), **data}
        return outbox.send_invoice(
            invoice=invoice,
            acting_user=request.user,
            on_queued=remember,
            base_url=request.build_absolute_uri("/"),
            **fields,
        )

    @extend_schema(responses=PDF_RESPONSES)
    @action(detail=True, methods=["get"], renderer_classes=PDF_RENDERERS)
    def pdf(self, request, ref):
        """The invoice as PDF, the same document as the invoice page."""
        invoice = load_invoice(pk=self.get_object().pk, with_payments=False)
        return pdf_download(
            lambda: invoice_pdf(invoice, request=request),
            filename=pdf_filename(invoice),
            what=f"invoice {invoice.pk}",
        )

    @extend_schema(responses=s.DocumentLinkSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def links(self, request, ref):
        """The links the invoice was ever sent with, newest first, revoked, replaced and
        expired ones too, with their views. A link's token is never shown: only the
        e-mail it went in carried it."""
        return links_answer(self.get_object())

    @extend_schema(
        request=s.RevokeLinkInputSerializer,
        responses=s.DocumentLinkSerializer,
        parameters=[LINK_ID],
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"links/(?P<link_id>[^/]+)/revoke",
        url_name="revoke-link",
    )
    def revoke_link(self, request, ref, link_id):
        """The link no longer opens the invoice: whoever follows it gets the same "not
        found" page as for a link that never existed. A link of another invoice is not
        found. To replace a link, send the invoice again to its recipient."""
        return revoke_link_answer(self.get_object(), link_id, request)
