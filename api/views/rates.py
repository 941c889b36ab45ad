"""Exchange rates, addressed by their id: what one unit of a currency was worth in the
business's base currency on a day (SPEC: Currencies and exchange rates)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from rates.models import ExchangeRate
from rates.selectors import filter_rates
from rates.services import delete_rate, record_rate, update_rate

from .. import serializers as s
from ..idempotency import idempotent
from .base import IDEMPOTENCY_PARAMETER, ApiViewMixin, object_by_id, query_date, validated

# What each filter means is rates.selectors.filter_rates'; the office's list has the currency.
RATE_FILTERS = [
    OpenApiParameter("currency", OpenApiTypes.STR, description="A currency code, any case."),
    OpenApiParameter("date_from", OpenApiTypes.DATE, description="Rate date on or after."),
    OpenApiParameter("date_to", OpenApiTypes.DATE, description="Rate date on or before."),
]


@extend_schema(tags=["exchange rates"])
class ExchangeRateViewSet(
    ApiViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Exchange rates, newest first. Every role reads them; bookkeepers and administrators
    add, change and delete them. Issued documents keep the rate they copied."""

    queryset = ExchangeRate.objects.select_related("created_by")
    serializer_class = s.ExchangeRateSerializer
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]
    read_permissions = ["rates.view_exchangerate"]
    write_permissions = {
        "create": ["rates.add_exchangerate"],
        "update": ["rates.change_exchangerate"],
        "partial_update": ["rates.change_exchangerate"],
        "destroy": ["rates.delete_exchangerate"],
    }

    lookup_value_regex = "[^/]+"

    def filter_queryset(self, queryset):
        params = self.request.query_params
        return filter_rates(
            queryset,
            currency=params.get("currency", ""),
            date_from=query_date(self.request, "date_from"),
            date_to=query_date(self.request, "date_to"),
        )

    def get_object(self):
        return object_by_id(self.queryset, self.kwargs["pk"], what=_("exchange rate"))

    def _answer(self, rate: ExchangeRate, status_code=status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(self.queryset.get(pk=rate.pk)).data, status=status_code)

    @extend_schema(parameters=RATE_FILTERS)
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=s.ExchangeRateInputSerializer,
        responses={201: s.ExchangeRateSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def create(self, request):
        """Record the rate of a currency on a day: added, or the new value of the rate that
        currency already has that day."""
        data = validated(s.ExchangeRateInputSerializer, request)
        rate = record_rate(acting_user=request.user, **data)
        return self._answer(rate, status.HTTP_201_CREATED)

    @extend_schema(request=s.ExchangeRateInputSerializer)
    def update(self, request, pk, partial=False):
        """Change a rate: its value, source, or the currency and day it is for."""
        data = validated(s.ExchangeRateInputSerializer, request, partial=partial)
        rate = update_rate(rate_row=self.get_object(), acting_user=request.user, **data)
        return self._answer(rate)

    @extend_schema(request=s.ExchangeRateInputSerializer)
    def partial_update(self, request, pk):
        return self.update(request, pk, partial=True)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk):
        """Delete a rate typed in by mistake."""
        delete_rate(rate_row=self.get_object(), acting_user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
