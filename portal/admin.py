"""The portal's sign-ins in the back office, for administrators: who asked for a link, who
signed in, from where, and until when. Nothing is edited here; a session can be ended (after
a mailbox is lost, say), through the operation. Tokens and keys are nowhere to be shown:
only their hashes are stored, and those are left out too."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from otb.admin import ReadOnlyAdmin

from . import services
from .models import PortalSession, SignInLink


@admin.register(SignInLink)
class SignInLinkAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "email", "expires_at", "used_at", "revoked_at", "ip_address")
    search_fields = ("email",)
    list_filter = ("revoke_reason",)
    hidden = ("token_hash",)


@admin.register(PortalSession)
class PortalSessionAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "email",
        "client",
        "last_seen_at",
        "expires_at",
        "ended_at",
        "ip_address",
    )
    search_fields = ("email", "client__code", "client__name")
    list_select_related = ("client",)
    hidden = ("key_hash",)
    actions = ("end_selected",)

    @admin.action(description=_("Sign out the selected sessions"), permissions=["end"])
    def end_selected(self, request, queryset):
        ended = services.end_sessions(
            sessions=list(queryset.order_by("pk")), acting_user=request.user
        )
        self.message_user(
            request,
            ngettext("%(n)d session ended.", "%(n)d sessions ended.", ended) % {"n": ended},
            messages.SUCCESS,
        )

    def has_end_permission(self, request):
        return request.user.has_perm("portal.change_portalsession")
