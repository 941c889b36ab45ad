"""Services, addressed by their code."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status

from billing import services as billing
from billing.lists import filter_services
from billing.models import Service

from .. import serializers as s
from ..idempotency import idempotent
from .base import ACTIVE_PARAMETER, IDEMPOTENCY_PARAMETER, CodeViewSet, query_bool, validated

SERVICE_FILTERS = [
    OpenApiParameter(
        "search", OpenApiTypes.STR, description="Part of the code, name or description, any case."
    ),
    ACTIVE_PARAMETER,
]


@extend_schema(tags=["services"])
class ServiceViewSet(CodeViewSet):
    """Services, addressed by their code. Deactivate one instead of deleting it."""

    queryset = Service.objects.prefetch_related("taxes", "prices")
    serializer_class = s.ServiceSerializer
    read_permissions = ["billing.view_service"]
    write_permissions = {
        "create": ["billing.add_service"],
        "update": ["billing.change_service"],
        "partial_update": ["billing.change_service"],
    }

    def filter_queryset(self, queryset):
        return filter_services(
            queryset,
            search=self.request.query_params.get("search", ""),
            is_active=query_bool(self.request, "is_active"),
        )

    @extend_schema(parameters=SERVICE_FILTERS)
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=s.ServiceInputSerializer, parameters=[IDEMPOTENCY_PARAMETER])
    @idempotent
    def create(self, request):
        data = validated(s.ServiceInputSerializer, request)
        service = billing.create_service(acting_user=request.user, **data)
        return self._answer(service, status.HTTP_201_CREATED)

    @extend_schema(request=s.ServiceInputSerializer)
    def update(self, request, code, partial=False):
        data = validated(s.ServiceInputSerializer, request, partial=partial)
        service = billing.update_service(
            service=self.get_object(), acting_user=request.user, **data
        )
        return self._answer(service)

    @extend_schema(request=s.ServiceInputSerializer)
    def partial_update(self, request, code):
        return self.update(request, code, partial=True)
