from django.contrib import admin

from .models import AuditRecord


@admin.register(AuditRecord)
class AuditRecordAdmin(admin.ModelAdmin):
    """Read only: no add, change or delete page, no delete action."""

    list_display = ("at", "actor_name", "source", "address", "operation", "action", "object_repr")
    list_filter = ("source", "action", "object_type")
    search_fields = ("actor_name", "object_id", "object_repr", "operation")
    date_hierarchy = "at"
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
