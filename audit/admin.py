from django.contrib import admin
from django.contrib.admin import DateFieldListFilter

from .models import AuditRecord


@admin.register(AuditRecord)
class AuditRecordAdmin(admin.ModelAdmin):
    """Read only: no add, change or delete page, no delete action."""

    list_display = ("at", "actor_name", "source", "address", "operation", "action", "object_repr")
    # A date filter, not date_hierarchy: the hierarchy truncates ``at`` in the database in the
    # business's time zone, which MariaDB can do only with its time zone tables loaded, and a
    # fresh server has them empty. The filter compares against bounds computed in Python.
    list_filter = (("at", DateFieldListFilter), "source", "action", "object_type")
    search_fields = ("actor_name", "object_id", "object_repr", "operation")
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
