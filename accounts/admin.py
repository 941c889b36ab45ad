from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils.translation import gettext, gettext_lazy
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from otb.admin import AuditedAdminMixin, record_admin_event
from otb.operations import DomainError

from .forms import AdminLoginForm
from .models import SignInThrottle
from .roles import role_of
from .second_factor import reset_second_factor
from .services import lift_locks, unlock_user

User = get_user_model()
admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(Group)
class OTBGroupAdmin(AuditedAdminMixin, GroupAdmin):
    pass


# The devices hold the secrets of the second factor: they are set up on the user's own page,
# and lifted with the user action below (or manage.py reset_second_factor), not edited here.
admin.site.unregister(TOTPDevice)
admin.site.unregister(StaticDevice)
# The back office's sign-in is throttled like the office's.
admin.site.login_form = AdminLoginForm


@admin.register(User)
class OTBUserAdmin(AuditedAdminMixin, UserAdmin):
    """Django's user admin, with each user's role (the group that grants it) in the list."""

    list_display = ("username", "email", "first_name", "last_name", "role", "is_active")
    list_filter = ("groups", "is_active", "is_superuser")
    actions = ["unlock", "reset_second_factor"]

    def user_change_password(self, request, id, form_url=""):
        # Django's page saves the new password itself: with its audit record, in one
        # transaction.
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            if request.method == "POST" and response.status_code == 302:
                record_admin_event(
                    name="password set", obj=User.objects.get(pk=id), acting_user=request.user
                )
        return response

    @admin.action(description=gettext_lazy("Lift the sign-in lock"), permissions=["change"])
    def unlock(self, request, queryset):
        for user in queryset:
            unlock_user(username=user.get_username(), acting_user=request.user)
        self.message_user(request, gettext("Sign-in locks lifted."), messages.SUCCESS)

    @admin.action(
        description=gettext_lazy("Reset the second factor (they set a new one up)"),
        permissions=["change"],
    )
    def reset_second_factor(self, request, queryset):
        try:
            for user in queryset:
                reset_second_factor(username=user.get_username(), acting_user=request.user)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            self.message_user(request, gettext("Second factors reset."), messages.SUCCESS)

    @admin.display(description=gettext_lazy("role"))
    def role(self, user):
        return (role_of(user) or "—").capitalize()

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")


@admin.register(SignInThrottle)
class SignInThrottleAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Who is being slowed down, and "lift the lock". Rows are written by sign-in only."""

    list_display = ("key", "failures", "last_failure_at", "locked_until")
    search_fields = ("key",)
    actions = ["lift"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(
        description=gettext_lazy("Lift the lock (forget the failures)"), permissions=["delete"]
    )
    def lift(self, request, queryset):
        count = lift_locks(
            keys=list(queryset.values_list("key", flat=True)), acting_user=request.user
        )
        self.message_user(
            request, gettext("%(count)d lock(s) lifted.") % {"count": count}, messages.SUCCESS
        )
