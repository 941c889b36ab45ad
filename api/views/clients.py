"""Clients, addressed by their code."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status

from billing import services as billing
from billing.lists import filter_clients
from billing.models import Client
from billing.selectors import with_credit

from .. import serializers as s
from ..idempotency import idempotent
from .base import ACTIVE_PARAMETER, IDEMPOTENCY_PARAMETER, CodeViewSet, query_bool, validated

CLIENT_FILTERS = [
    OpenApiParameter(
        "search",
        OpenApiTypes.STR,
        description="Part of the code, name, e-mail or contact person, any case.",
    ),
    ACTIVE_PARAMETER,
]


@extend_schema(tags=["clients"])
class ClientViewSet(CodeViewSet):
    """Clients, addressed by their code. Deactivate one (``is_active: false``) instead of
    deleting it: its invoices, payments and ledger keep pointing at it."""

    queryset = with_credit(Client.objects.prefetch_related("taxes", "contacts"))
    serializer_class = s.ClientSerializer
    read_permissions = ["billing.view_client"]
    write_permissions = {
        "create": ["billing.add_client"],
        "update": ["billing.change_client"],
        "partial_update": ["billing.change_client"],
    }

    def filter_queryset(self, queryset):
        return filter_clients(
            queryset,
            search=self.request.query_params.get("search", ""),
            is_active=query_bool(self.request, "is_active"),
        )

    @extend_schema(parameters=CLIENT_FILTERS)
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=s.ClientInputSerializer, parameters=[IDEMPOTENCY_PARAMETER])
    @idempotent
    def create(self, request):
        data = validated(s.ClientInputSerializer, request)
        client = billing.create_client(acting_user=request.user, **data)
        return self._answer(self.get_queryset().get(pk=client.pk), status.HTTP_201_CREATED)

    @extend_schema(request=s.ClientInputSerializer)
    def update(self, request, code, partial=False):
        data = validated(s.ClientInputSerializer, request, partial=partial)
        client = billing.update_client(client=self.get_object(), acting_user=request.user, **data)
        return self._answer(self.get_queryset().get(pk=client.pk))

    @extend_schema(request=s.ClientInputSerializer)
    def partial_update(self, request, code):
        return self.update(request, code, partial=True)
