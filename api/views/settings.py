"""The business settings, for administrators."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.response import Response

from settings_app.selectors import get_business_settings
from settings_app.services import update_business_settings

from .. import serializers as s
from .base import ApiViewMixin


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
