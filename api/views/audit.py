"""The audit trail, read only: administrators (SPEC: Audit)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets

from audit.forms import AuditFilterForm
from audit.models import AuditRecord, Source
from audit.selectors import filter_records

from ..errors import ApiError
from .base import ApiViewMixin

AUDIT_FILTERS = [
    OpenApiParameter("user", OpenApiTypes.STR, description='A username, or "manage.py NAME".'),
    OpenApiParameter("object_type", OpenApiTypes.STR, description='As "billing.invoice".'),
    OpenApiParameter("object_id", OpenApiTypes.STR),
    OpenApiParameter("operation", OpenApiTypes.STR, description="A part of its name."),
    OpenApiParameter(
        "source",
        OpenApiTypes.STR,
        enum=Source.values,
    ),
    OpenApiParameter("action", OpenApiTypes.STR),
    OpenApiParameter("date_from", OpenApiTypes.DATE),
    OpenApiParameter("date_to", OpenApiTypes.DATE),
]


class AuditRecordSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="actor_name")

    class Meta:
        model = AuditRecord
        fields = [
            "id",
            "at",
            "user",
            "source",
            "address",
            "command",
            "operation",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "before",
            "after",
        ]
        read_only_fields = fields


@extend_schema(tags=["audit"])
class AuditViewSet(
    ApiViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Every write, newest first: who, when, from where, what object, fields before and
    after. Nothing here can change it."""

    serializer_class = AuditRecordSerializer
    read_permissions = ["audit.view_auditrecord"]
    queryset = AuditRecord.objects.all()

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        form = AuditFilterForm(self.request.query_params)
        selection = form.selection() if self.request.query_params else {}
        if selection is None:
            field, errors = next(iter(form.errors.items()))
            label = form.fields[field].label if field in form.fields else field
            raise ApiError(
                f"{label}: {errors[0]}",
                code="invalid",
                status_code=status.HTTP_400_BAD_REQUEST,
                field=field,
            )
        return filter_records(queryset, **selection)

    @extend_schema(parameters=AUDIT_FILTERS)
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)
