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
    object_by_ref,
    pdf_download,
    query_date,
    validated,
)
from .messages import message_answer


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
    }

    @cached_property
    def today(self) -> datetime.date:
        return business_today()

    def get_queryset(self):
        return (
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
        responses={202: s.MessageSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @action(detail=True, methods=["post"])
    @idempotent_resource(render=message_answer, status_code=status.HTTP_202_ACCEPTED)
    def send(self, request, ref, *, remember):
        """E-mail the invoice with its PDF attached, through the SMTP server of the settings.
        The answer is the message in the outbox as it is once the first delivery attempt is
        over: ``sent``, ``queued`` (a temporary failure, tried again later: see
        ``next_attempt_at``) or ``failed`` with the ``problem``. Sent again with the same
        ``Idempotency-Key``, the answer is that message as it is now."""
        invoice = self.get_object()
        data = validated(s.SendInvoiceInputSerializer, request)
        fields = {**outbox.invoice_message_defaults(invoice), **data}
        return outbox.send_invoice(
            invoice=invoice, acting_user=request.user, on_queued=remember, **fields
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
