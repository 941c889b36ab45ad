from django.contrib import admin
from django.template.response import TemplateResponse
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
        # Shown once, on the page that answers this request (response_add); never in the
        # messages cookie, which is signed but not encrypted.
        request._otb_new_token_key = obj.set_new_key()
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj, post_url_continue=None):
        key = getattr(request, "_otb_new_token_key", None)
        if key is None:
            return super().response_add(request, obj, post_url_continue)
        response = TemplateResponse(
            request,
            "admin/api/apitoken/new_key.html",
            {
                **self.admin_site.each_context(request),
                "title": _("New API token"),
                "token": obj,
                "key": key,
                "opts": self.opts,
            },
        )
        response["Cache-Control"] = "no-store"
        return response
