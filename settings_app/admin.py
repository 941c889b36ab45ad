from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse

from otb.admin import AuditedAdminMixin, OperationAdmin

from .forms import SECTIONS, BusinessSettingsForm
from .models import BusinessSettings, ReminderStage
from .selectors import get_business_settings
from .services import update_business_settings


@admin.register(BusinessSettings)
class BusinessSettingsAdmin(OperationAdmin):
    form = BusinessSettingsForm
    fieldsets = tuple((title, {"fields": fields}) for title, fields in SECTIONS)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        settings = get_business_settings()
        return HttpResponseRedirect(
            reverse("admin:settings_app_businesssettings_change", args=[settings.pk])
        )

    def save_model(self, request, obj, form, change):
        update_business_settings(acting_user=request.user, **form.settings_fields())


@admin.register(ReminderStage)
class ReminderStageAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Reminder stages are settings without money in them: the model's own validation (the
    placeholders) is all there is to check."""

    list_display = ("name", "days_from_due", "subject", "attach_pdf", "is_active")
    list_editable = ("is_active",)
    fields = ("name", "days_from_due", "subject", "body", "attach_pdf", "is_active")
