from django.contrib import admin, messages
from django.utils.translation import gettext as _

from otb.admin import AuditedAdminMixin

from .models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["prefix", "name", "user", "created_at", "last_used_at"]
    list_select_related = ["user"]
    search_fields = ["name", "prefix", "user__username"]
    fields = ["user", "name", "prefix", "created_at", "last_used_at"]
    readonly_fields = ["prefix", "created_at", "last_used_at"]

    def get_readonly_fields(self, request, obj=None):
        # A token keeps its user: give another user a token of their own.
        return [*self.readonly_fields, "user"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        key = obj.set_new_key()
        super().save_model(request, obj, form, change)
        messages.warning(
            request,
            _("The key of the new token is %(key)s — copy it now: it is not shown again.")
            % {"key": key},
        )
