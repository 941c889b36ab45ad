"""The business's taxes, addressed by their id. A tax is deactivated, never deleted: the
documents that charged it keep their own copy of it anyway."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from settings_app.models import Tax
from settings_app.services import create_tax, update_tax

from .. import serializers as s
from ..idempotency import idempotent
from .base import IDEMPOTENCY_PARAMETER, ApiViewMixin, object_by_id, validated


@extend_schema(tags=["taxes"])
class TaxViewSet(
    ApiViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The taxes the business charges (SPEC: Several taxes). Every role reads them (clients
    and services name them); administrators add and change them."""

    queryset = Tax.objects.all()
    serializer_class = s.TaxSerializer
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    read_permissions = ["billing.view_client"]
    write_permissions = {
        "create": ["settings_app.add_tax"],
        "update": ["settings_app.change_tax"],
        "partial_update": ["settings_app.change_tax"],
    }

    lookup_value_regex = "[^/]+"

    def get_object(self):
        return object_by_id(self.queryset, self.kwargs["pk"], what=_("tax"))

    @extend_schema(request=s.TaxInputSerializer, parameters=[IDEMPOTENCY_PARAMETER])
    @idempotent
    def create(self, request):
        data = validated(s.TaxInputSerializer, request)
        tax = create_tax(acting_user=request.user, **data)
        return Response(self.get_serializer(tax).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.TaxInputSerializer)
    def update(self, request, pk, partial=False):
        data = validated(s.TaxInputSerializer, request, partial=partial)
        tax = update_tax(tax=self.get_object(), acting_user=request.user, **data)
        return Response(self.get_serializer(tax).data)

    @extend_schema(request=s.TaxInputSerializer)
    def partial_update(self, request, pk):
        return self.update(request, pk, partial=True)
