from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy

from .roles import role_of

User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class OTBUserAdmin(UserAdmin):
    """Django's user admin, with each user's role (the group that grants it) in the list."""

    list_display = ("username", "email", "first_name", "last_name", "role", "is_active")
    list_filter = ("groups", "is_active", "is_superuser")

    @admin.display(description=gettext_lazy("role"))
    def role(self, user):
        return (role_of(user) or "—").capitalize()

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")
