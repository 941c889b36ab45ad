from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from otb.admin import AuditedAdminMixin, OperationAdmin

from .forms import SECTIONS, BusinessSettingsForm
from .models import BusinessSettings, ReminderStage, Tax, format_rate
from .selectors import get_business_settings
from .services import TAX_FIELDS, create_tax, update_business_settings, update_tax


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


@admin.register(Tax)
class TaxAdmin(OperationAdmin):
    """The business's taxes. A tax on documents is never deleted (they keep their copy of
    it anyway): it is deactivated."""

    list_display = ("label", "rate_display", "number", "in_default_set", "is_active", "position")
    list_display_links = ("label",)
    list_filter = ("is_active", "in_default_set")
    fields = ("label", "rate", "number", "in_default_set", "is_active", "position")

    @admin.display(description=_("rate (%)"), ordering="rate")
    def rate_display(self, tax):
        return f"{format_rate(tax.rate)} %"

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        fields = {k: v for k, v in form.cleaned_data.items() if k in TAX_FIELDS}
        if change:
            update_tax(tax=obj, acting_user=request.user, **fields)
        else:
            obj.pk = create_tax(acting_user=request.user, **fields).pk
