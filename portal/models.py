"""The client portal's sign-in (SPEC: Client portal and document links).

A contact asks for a sign-in link with an address on file for a client; the link's token is
random and only its SHA-256 is stored, like a document link's. Pressing the button on the
page the link opens uses the link up and starts a portal session: its own key (random, in a
signed cookie, stored as a hash), never Django's session of the office, so no office page
ever takes it. A session is for an address; the client it shows is chosen among the clients
that have that address on file, and checked again on every request."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

USER_AGENT_MAX_LENGTH = 500


class SignInLinkQuerySet(models.QuerySet):
    def usable(self, *, now):
        """Links that still sign in: not used, not revoked, not expired."""
        return self.filter(used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now)


class SignInLink(models.Model):
    # The address it was asked for and sent to, lower-case.
    email = models.EmailField(_("e-mail"), max_length=254)
    # SHA-256 (hex) of the token; the token itself is never stored.
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("asked at"))
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoke_reason = models.CharField(_("why revoked"), max_length=200, blank=True)
    # Where it was asked from.
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=USER_AGENT_MAX_LENGTH, blank=True)

    objects = SignInLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("portal sign-in link")
        verbose_name_plural = _("portal sign-in links")
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")),
                name="portal_signin_link_expires_after_created",
            ),
        ]
        indexes = [models.Index(fields=["email", "created_at"], name="portal_signin_link_email")]

    def __str__(self) -> str:
        return f"{self.email} {self.created_at:%Y-%m-%d %H:%M}"


class PortalSessionQuerySet(models.QuerySet):
    def live(self, *, now):
        """Sessions not signed out and not past their end."""
        return self.filter(ended_at__isnull=True, expires_at__gt=now)


class PortalSession(models.Model):
    email = models.EmailField(_("e-mail"), max_length=254)
    # SHA-256 (hex) of the session's key; the key itself is only in the contact's cookie.
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    sign_in_link = models.OneToOneField(
        SignInLink,
        on_delete=models.PROTECT,
        related_name="session",
        verbose_name=_("sign-in link"),
    )
    # The client it shows, chosen after signing in when the address is on file for several.
    client = models.ForeignKey(
        "billing.Client",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="portal_sessions",
        verbose_name=_("client"),
    )
    created_at = models.DateTimeField(_("signed in at"))
    expires_at = models.DateTimeField(_("ends at"))
    last_seen_at = models.DateTimeField(_("last seen"))
    ended_at = models.DateTimeField(_("signed out at"), null=True, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=USER_AGENT_MAX_LENGTH, blank=True)

    objects = PortalSessionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("portal session")
        verbose_name_plural = _("portal sessions")
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")),
                name="portal_session_expires_after_created",
            ),
        ]
        indexes = [models.Index(fields=["email", "created_at"], name="portal_session_email")]

    def __str__(self) -> str:
        return f"{self.email} {self.created_at:%Y-%m-%d %H:%M}"
