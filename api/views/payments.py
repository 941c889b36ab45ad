"""Payments: recorded pending or confirmed, confirmed, reversed; never deleted."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from billing import services as billing
from billing.lists import filter_payments
from billing.models import Invoice, Payment, PaymentMethod, PaymentStatus
from otb.operations import InvalidInput

from .. import serializers as s
from ..idempotency import idempotent
from .base import (
    IDEMPOTENCY_PARAMETER,
    ApiViewMixin,
    client_by_code,
    object_by_id,
    query_date,
    validated,
)

# What each filter means is billing.lists.filter_payments'; the office's payment list has the
# same ones (its search is "q").
PAYMENT_FILTERS = [
    OpenApiParameter("client", OpenApiTypes.STR, description="A client code, any case."),
    OpenApiParameter(
        "invoice", OpenApiTypes.STR, description="The whole number of the invoice, any case."
    ),
    OpenApiParameter("status", OpenApiTypes.STR, enum=PaymentStatus.values),
    OpenApiParameter("method", OpenApiTypes.STR, enum=PaymentMethod.values),
    OpenApiParameter(
        "search",
        OpenApiTypes.STR,
        description="The start of the reference, any case (chq-47 finds CHQ-4711), or the "
        "whole number of the invoice.",
    ),
    OpenApiParameter("date_from", OpenApiTypes.DATE, description="Payment date on or after."),
    OpenApiParameter("date_to", OpenApiTypes.DATE, description="Payment date on or before."),
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
        "partial_update": ["billing.change_payment"],
        "confirm": ["billing.confirm_payment"],
        "reverse": ["billing.reverse_payment"],
    }

    def filter_queryset(self, queryset):
        params = self.request.query_params
        return filter_payments(
            queryset,
            status=params.get("status", ""),
            method=params.get("method", ""),
            client=params.get("client", ""),
            invoice=params.get("invoice", ""),
            search=params.get("search", ""),
            date_from=query_date(self.request, "date_from"),
            date_to=query_date(self.request, "date_to"),
        )

    def get_object(self):
        return object_by_id(self.queryset, self.kwargs["pk"], what=_("payment"))

    def _answer(self, payment, status_code=status.HTTP_200_OK) -> Response:
        payment = self.queryset.get(pk=payment.pk)
        return Response(self.get_serializer(payment).data, status=status_code)

    @extend_schema(parameters=PAYMENT_FILTERS)
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=s.PaymentInputSerializer, parameters=[IDEMPOTENCY_PARAMETER])
    @idempotent
    def create(self, request):
        data = dict(validated(s.PaymentInputSerializer, request))
        invoice_ref = data.pop("invoice", None)
        client_code = data.pop("client", None)
        payment = billing.record_payment(
            invoice=_invoice_by_ref(invoice_ref) if invoice_ref else None,
            client=client_by_code(client_code) if client_code else None,
            acting_user=request.user,
            **data,
        )
        return self._answer(payment, status.HTTP_201_CREATED)

    @extend_schema(request=s.PaymentCorrectionSerializer, responses=s.PaymentSerializer)
    def partial_update(self, request, pk):
        """Correct a pending payment; a confirmed one is reversed and recorded again."""
        payment = self.get_object()
        data = validated(s.PaymentCorrectionSerializer, request, partial=True)
        payment = billing.update_payment(payment=payment, acting_user=request.user, **data)
        return self._answer(payment)

    @extend_schema(request=s.ConfirmInputSerializer, responses=s.PaymentSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk):
        """Confirm a pending payment; in a foreign currency it keeps the rate of its date,
        or ``exchange_rate`` typed in."""
        data = validated(s.ConfirmInputSerializer, request)
        payment = billing.confirm_payment(
            payment=self.get_object(), acting_user=request.user, **data
        )
        return self._answer(payment)

    @extend_schema(request=s.ReverseInputSerializer, responses=s.PaymentSerializer)
    @action(detail=True, methods=["post"])
    def reverse(self, request, pk):
        payment = self.get_object()
        data = validated(s.ReverseInputSerializer, request)
        payment = billing.reverse_payment(
            payment=payment, reason=data["reason"], acting_user=request.user
        )
        return self._answer(payment)
