"""The REST API v1. Each write validates its input, calls one operation of the core (one
transaction) and renders the result; refusals become JSON errors in api/errors.py."""

from __future__ import annotations

import datetime
import logging

from django.contrib.auth.decorators import login_not_required
from django.db.models import Prefetch, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, mixins, renderers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from billing import services as billing
from billing.models import Client, Invoice, InvoiceLine, InvoiceStatus, Payment, Service
from billing.pdf import invoice_pdf, load_invoice, pdf_filename
from billing.selectors import with_credit
from billing.services import post_manual_credit, post_manual_debit
from ledger.selectors import client_balance, ledger_entries, with_running_balance
from otb.operations import InvalidInput
from outbox import services as outbox
from outbox.models import Message
from settings_app.selectors import business_today, get_business_settings
from settings_app.services import update_business_settings

from . import serializers as s
from .errors import ApiError
from .fields import MoneyField
from .idempotency import idempotent, idempotent_resource

log = logging.getLogger(__name__)

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Send the same key again to get the first answer instead of a second row.",
)


class ApiViewMixin:
    """DRF authenticates API requests itself: the LoginRequiredMiddleware, which would send
    them to the login page, lets them through."""

    @classmethod
    def as_view(cls, *args, **kwargs):
        return login_not_required(super().as_view(*args, **kwargs))


def _query_bool(request, name: str) -> bool | None:
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


def _query_date(request, name: str) -> datetime.date | None:
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


def _validated(serializer_class, request, *, partial: bool = False) -> dict:
    serializer = serializer_class(data=request.data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _client_by_code(code: str, *, field: str = "client") -> Client:
    client = Client.objects.filter(code=code).first()
    if client is None:
        raise InvalidInput.single(
            field, _("Client: there is no client with the code “%(code)s”.") % {"code": code}
        )
    return client


# --- Clients and services -----------------------------------------------------------------


class _CodeViewSet(
    ApiViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    lookup_field = "code"
    lookup_value_regex = "[^/]+"
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    search_fields: tuple[str, ...] = ()
    input_serializer_class: type

    def get_queryset(self):
        queryset = self.queryset.all()
        search = self.request.query_params.get("search", "").strip()
        if search:
            condition = Q()
            for name in self.search_fields:
                condition |= Q(**{f"{name}__icontains": search})
            queryset = queryset.filter(condition)
        active = _query_bool(self.request, "is_active")
        if active is not None:
            queryset = queryset.filter(is_active=active)
        return queryset

    def get_object(self):
        return get_object_or_404(self.queryset, code=self.kwargs["code"])

    def _answer(self, obj, status_code=status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(obj).data, status=status_code)


LIST_FILTERS = [
    OpenApiParameter("search", OpenApiTypes.STR, description="Part of the code, name or e-mail."),
    OpenApiParameter("is_active", OpenApiTypes.BOOL),
]


@extend_schema(tags=["clients"])
class ClientViewSet(_CodeViewSet):
    """Clients, addressed by their code. Deactivate one (``is_active: false``) instead of
    deleting it: its invoices, payments and ledger keep pointing at it."""

    queryset = with_credit(Client.objects.all())
    serializer_class = s.ClientSerializer
    search_fields = ("code", "name", "email", "contact_person")
    read_permissions = ["billing.view_client"]
    write_permissions = {
        "create": ["billing.add_client"],
        "update": ["billing.change_client"],
        "partial_update": ["billing.change_client"],
    }

    @extend_schema(parameters=LIST_FILTERS)
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=s.ClientInputSerializer, parameters=[IDEMPOTENCY_PARAMETER])
    @idempotent
    def create(self, request):
        data = _validated(s.ClientInputSerializer, request)
        client = billing.create_client(acting_user=request.user, **data)
        return self._answer(self.get_queryset().get(pk=client.pk), status.HTTP_201_CREATED)

    @extend_schema(request=s.ClientInputSerializer)
    def update(self, request, code, partial=False):
        data = _validated(s.ClientInputSerializer, request, partial=partial)
        client = billing.update_client(client=self.get_object(), acting_user=request.user, **data)
        return self._answer(self.get_queryset().get(pk=client.pk))

    @extend_schema(request=s.ClientInputSerializer)
    def partial_update(self, request, code):
        return self.update(request, code, partial=True)


@extend_schema(tags=["services"])
class ServiceViewSet(_CodeViewSet):
    """Services, addressed by their code. Deactivate one instead of deleting it."""

    queryset = Service.objects.all()
    serializer_class = s.ServiceSerializer
    search_fields = ("code", "name", "description")
    read_permissions = ["billing.view_service"]
    write_permissions = {
        "create": ["billing.add_service"],
        "update": ["billing.change_service"],
        "partial_update": ["billing.change_service"],
    }

    @extend_schema(parameters=LIST_FILTERS)
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=s.ServiceInputSerializer, parameters=[IDEMPOTENCY_PARAMETER])
    @idempotent
    def create(self, request):
        data = _validated(s.ServiceInputSerializer, request)
        service = billing.create_service(acting_user=request.user, **data)
        return self._answer(service, status.HTTP_201_CREATED)

    @extend_schema(request=s.ServiceInputSerializer)
    def update(self, request, code, partial=False):
        data = _validated(s.ServiceInputSerializer, request, partial=partial)
        service = billing.update_service(
            service=self.get_object(), acting_user=request.user, **data
        )
        return self._answer(service)

    @extend_schema(request=s.ServiceInputSerializer)
    def partial_update(self, request, code):
        return self.update(request, code, partial=True)


# --- Invoices -----------------------------------------------------------------------------


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


INVOICE_FILTERS = [
    OpenApiParameter("status", OpenApiTypes.STR, enum=InvoiceStatus.values),
    OpenApiParameter("client", OpenApiTypes.STR, description="A client code."),
    OpenApiParameter("issued_from", OpenApiTypes.DATE, description="Issue date on or after."),
    OpenApiParameter("issued_to", OpenApiTypes.DATE, description="Issue date on or before."),
    OpenApiParameter("search", OpenApiTypes.STR, description="Part of the number."),
]


def _message_with_attempts():
    return Message.objects.select_related("invoice", "attachment").prefetch_related("attempts")


def _message_answer(message_id: int) -> dict:
    """An e-mail as it is now, read again: its delivery goes on after the request wrote it."""
    return s.MessageSerializer(_message_with_attempts().get(pk=message_id)).data


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
        "send": ["outbox.send_message"],
    }

    def get_queryset(self):
        return (
            Invoice.objects.with_shown_status(today=business_today())
            .select_related("client")
            .prefetch_related(
                Prefetch("lines", queryset=InvoiceLine.objects.select_related("service")),
                "taxes",
            )
        )

    def filter_queryset(self, queryset):
        params = self.request.query_params
        status_filter = params.get("status")
        if status_filter:
            if status_filter not in InvoiceStatus.values:
                raise ApiError(
                    _("status: use one of %(values)s.")
                    % {"values": ", ".join(InvoiceStatus.values)},
                    code="invalid",
                    status_code=status.HTTP_400_BAD_REQUEST,
                    field="status",
                )
            queryset = queryset.filter(shown_status=status_filter)
        if params.get("client"):
            queryset = queryset.filter(client__code=params["client"].strip().upper())
        issued_from = _query_date(self.request, "issued_from")
        if issued_from:
            queryset = queryset.filter(issue_date__gte=issued_from)
        issued_to = _query_date(self.request, "issued_to")
        if issued_to:
            queryset = queryset.filter(issue_date__lte=issued_to)
        if params.get("search"):
            queryset = queryset.filter(number__icontains=params["search"].strip())
        return queryset

    def get_object(self):
        ref = self.kwargs["ref"]
        queryset = self.get_queryset()
        invoice = queryset.filter(number=ref).first()
        if invoice is None and ref.isascii() and ref.isdigit() and len(ref) < 19:
            invoice = queryset.filter(pk=int(ref)).first()
        if invoice is None:
            raise ApiError(
                _("There is no invoice “%(ref)s”.") % {"ref": ref[:40]},
                code="not_found",
                status_code=status.HTTP_404_NOT_FOUND,
            )
        return invoice

    def _answer(self, invoice, status_code=status.HTTP_200_OK) -> Response:
        invoice = self.get_queryset().get(pk=invoice.pk)
        return Response(self.get_serializer(invoice).data, status=status_code)

    @extend_schema(parameters=INVOICE_FILTERS)
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=s.InvoiceInputSerializer, parameters=[IDEMPOTENCY_PARAMETER])
    @idempotent
    def create(self, request):
        data = dict(_validated(s.InvoiceInputSerializer, request))
        client = _client_by_code(data.pop("client"))
        lines = _lines(data.pop("lines"))
        invoice = billing.create_draft(client=client, lines=lines, acting_user=request.user, **data)
        return self._answer(invoice, status.HTTP_201_CREATED)

    @extend_schema(request=s.InvoiceInputSerializer)
    def update(self, request, ref, partial=False):
        invoice = self.get_object()
        data = dict(_validated(s.InvoiceInputSerializer, request, partial=partial))
        if "client" in data:
            data["client"] = _client_by_code(data["client"])
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
        data = _validated(s.IssueInputSerializer, request)
        invoice = billing.issue_invoice(invoice=invoice, acting_user=request.user, **data)
        return self._answer(invoice)

    @extend_schema(request=s.CancelInputSerializer, responses=s.InvoiceSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, ref):
        """Cancel an issued invoice without payments; its number is never reused."""
        invoice = self.get_object()
        data = _validated(s.CancelInputSerializer, request)
        invoice = billing.cancel_invoice(invoice=invoice, acting_user=request.user, **data)
        return self._answer(invoice)

    @extend_schema(
        request=s.SendInvoiceInputSerializer,
        responses={202: s.MessageSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @action(detail=True, methods=["post"])
    @idempotent_resource(render=_message_answer, status_code=status.HTTP_202_ACCEPTED)
    def send(self, request, ref, *, remember):
        """E-mail the invoice with its PDF attached, through the SMTP server of the settings.
        The answer is the message in the outbox as it is once the first delivery attempt is
        over: ``sent``, ``queued`` (a temporary failure, tried again later: see
        ``next_attempt_at``) or ``failed`` with the ``problem``. Sent again with the same
        ``Idempotency-Key``, the answer is that message as it is now."""
        invoice = self.get_object()
        data = _validated(s.SendInvoiceInputSerializer, request)
        fields = {**outbox.invoice_message_defaults(invoice), **data}
        return outbox.send_invoice(
            invoice=invoice, acting_user=request.user, on_queued=remember, **fields
        )

    @extend_schema(
        responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY)},
    )
    @action(
        detail=True,
        methods=["get"],
        renderer_classes=[renderers.JSONRenderer, PdfRenderer],
    )
    def pdf(self, request, ref):
        """The invoice as PDF, the same document as the invoice page."""
        invoice = load_invoice(pk=self.get_object().pk, with_payments=False)
        try:
            content = invoice_pdf(invoice, request=request)
        except Exception:  # WeasyPrint and Pango raise many kinds; the API never answers 500
            log.exception("Could not render the PDF of invoice %s", invoice.pk)
            raise ApiError(
                _("The PDF could not be made just now; try again later."),
                code="pdf_failed",
                status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            ) from None
        response = HttpResponse(content, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{pdf_filename(invoice)}"'
        return response


# --- E-mail -------------------------------------------------------------------------------


MESSAGE_FILTERS = [
    OpenApiParameter("invoice", OpenApiTypes.STR, description="An invoice number."),
    OpenApiParameter("needs_attention", OpenApiTypes.BOOL),
]


@extend_schema(tags=["e-mail"])
class MessageViewSet(
    ApiViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """The outbox: every e-mail sent or tried, newest first, with its delivery attempts."""

    serializer_class = s.MessageSerializer
    read_permissions = ["outbox.view_message"]

    def get_queryset(self):
        return _message_with_attempts().order_by("-created_at", "-id")

    def filter_queryset(self, queryset):
        number = self.request.query_params.get("invoice", "").strip()
        if number:
            queryset = queryset.filter(invoice__number=number)
        attention = _query_bool(self.request, "needs_attention")
        if attention is not None:
            queryset = queryset.filter(needs_attention=attention)
        return queryset

    @extend_schema(parameters=MESSAGE_FILTERS)
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)


# --- Payments -----------------------------------------------------------------------------

PAYMENT_FILTERS = [
    OpenApiParameter("client", OpenApiTypes.STR, description="A client code."),
    OpenApiParameter("invoice", OpenApiTypes.STR, description="An invoice number."),
    OpenApiParameter("status", OpenApiTypes.STR, enum=["pending", "confirmed", "reversed"]),
    OpenApiParameter("date_from", OpenApiTypes.DATE),
    OpenApiParameter("date_to", OpenApiTypes.DATE),
]


def _invoice_by_ref(ref: str) -> Invoice:
    ref = ref.strip()
    invoice = Invoice.objects.filter(number=ref).first()
    if invoice is None and ref.isascii() and ref.isdigit() and len(ref) < 19:
        invoice = Invoice.objects.filter(pk=int(ref)).first()
    if invoice is None:
        raise InvalidInput.single(
            "invoice", _("Invoice: there is no invoice “%(ref)s”.") % {"ref": ref[:40]}
        )
    return invoice


@extend_schema(tags=["payments"])
class PaymentViewSet(
    ApiViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Payments: recorded pending or confirmed, confirmed, reversed; never deleted."""

    serializer_class = s.PaymentSerializer
    queryset = Payment.objects.select_related("client", "invoice")
    lookup_value_regex = "[^/]+"
    read_permissions = ["billing.view_payment"]
    write_permissions = {
        "create": ["billing.add_payment"],
        "confirm": ["billing.confirm_payment"],
        "reverse": ["billing.reverse_payment"],
    }

    def filter_queryset(self, queryset):
        params = self.request.query_params
        if params.get("client"):
            queryset = queryset.filter(client__code=params["client"].strip().upper())
        if params.get("invoice"):
            queryset = queryset.filter(invoice__number=params["invoice"].strip())
        if params.get("status"):
            queryset = queryset.filter(status=params["status"])
        date_from = _query_date(self.request, "date_from")
        if date_from:
            queryset = queryset.filter(date__gte=date_from)
        date_to = _query_date(self.request, "date_to")
        if date_to:
            queryset = queryset.filter(date__lte=date_to)
        return queryset

    def get_object(self):
        pk = self.kwargs["pk"]
        valid = pk.isascii() and pk.isdigit() and len(pk) < 19
        payment = self.queryset.filter(pk=int(pk)).first() if valid else None
        if payment is None:
            raise ApiError(
                _("There is no payment “%(id)s”.") % {"id": pk[:40]},
                code="not_found",
                status_code=status.HTTP_404_NOT_FOUND,
            )
        return payment

    def _answer(self, payment, status_code=status.HTTP_200_OK) -> Response:
        payment = self.queryset.get(pk=payment.pk)
        return Response(self.get_serializer(payment).data, status=status_code)

    @extend_schema(parameters=PAYMENT_FILTERS)
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=s.PaymentInputSerializer, parameters=[IDEMPOTENCY_PARAMETER])
    @idempotent
    def create(self, request):
        data = dict(_validated(s.PaymentInputSerializer, request))
        invoice_ref = data.pop("invoice", None)
        client_code = data.pop("client", None)
        payment = billing.record_payment(
            invoice=_invoice_by_ref(invoice_ref) if invoice_ref else None,
            client=_client_by_code(client_code) if client_code else None,
            acting_user=request.user,
            **data,
        )
        return self._answer(payment, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=s.PaymentSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk):
        payment = billing.confirm_payment(payment=self.get_object(), acting_user=request.user)
        return self._answer(payment)

    @extend_schema(request=s.ReverseInputSerializer, responses=s.PaymentSerializer)
    @action(detail=True, methods=["post"])
    def reverse(self, request, pk):
        payment = self.get_object()
        data = _validated(s.ReverseInputSerializer, request)
        payment = billing.reverse_payment(
            payment=payment, reason=data["reason"], acting_user=request.user
        )
        return self._answer(payment)


# --- Ledger -------------------------------------------------------------------------------


@extend_schema(tags=["clients"])
class ClientLedgerView(ApiViewMixin, generics.GenericAPIView):
    """A client's ledger, oldest entry first, each with the balance after it."""

    serializer_class = s.LedgerEntrySerializer
    read_permissions = ["billing.view_client", "ledger.view_ledgerentry"]
    write_permissions = {"post": ["billing.view_client", "ledger.add_ledgerentry"]}

    def get_client(self) -> Client:
        return get_object_or_404(Client, code=self.kwargs["code"])

    @extend_schema(operation_id="clients_ledger_list", responses=s.LedgerPageSerializer)
    def get(self, request, code):
        client = self.get_client()
        page = with_running_balance(client, self.paginate_queryset(ledger_entries(client)))
        response = self.get_paginated_response(self.get_serializer(page, many=True).data)
        response.data["balance"] = MoneyField().to_representation(client_balance(client))
        return response

    @extend_schema(
        operation_id="clients_ledger_create",
        request=s.ManualEntryInputSerializer,
        responses={201: s.LedgerEntrySerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def post(self, request, code):
        client = self.get_client()
        data = dict(_validated(s.ManualEntryInputSerializer, request))
        post = post_manual_credit if data.pop("kind") == "credit" else post_manual_debit
        entry = post(client=client, acting_user=request.user, **data)
        entry = with_running_balance(client, ledger_entries(client).filter(pk=entry.pk))[0]
        return Response(self.get_serializer(entry).data, status=status.HTTP_201_CREATED)


# --- Settings -----------------------------------------------------------------------------


@extend_schema(tags=["settings"])
class SettingsView(ApiViewMixin, generics.GenericAPIView):
    """The business settings, for administrators. The SMTP password can be set, never read."""

    serializer_class = s.SettingsSerializer
    pagination_class = None
    read_permissions = ["settings_app.change_businesssettings"]
    write_permissions = {
        "put": ["settings_app.change_businesssettings"],
        "patch": ["settings_app.change_businesssettings"],
    }

    def get_object(self):
        # One row, no queryset; OPTIONS (DRF's metadata) asks for it too.
        return get_business_settings()

    def get(self, request):
        return Response(self.get_serializer(get_business_settings()).data)

    @extend_schema(request=s.SettingsInputSerializer)
    def patch(self, request):
        serializer = s.SettingsInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        settings = update_business_settings(acting_user=request.user, **serializer.validated_data)
        return Response(self.get_serializer(settings).data)

    @extend_schema(request=s.SettingsInputSerializer)
    def put(self, request):
        return self.patch(request)
