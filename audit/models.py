"""The audit trail (SPEC: Audit): one row per write, never changed nor deleted."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

OBJECT_REPR_MAX_LENGTH = 200


class Action(models.TextChoices):
    CREATED = "created", _("created")
    CHANGED = "changed", _("changed")
    DELETED = "deleted", _("deleted")
    EVENT = "event", _("event")


class Source(models.TextChoices):
    WEB = "web", _("office page")
    ADMIN = "admin", _("back office")
    API = "api", _("API")
    COMMAND = "command", _("command")
    SYSTEM = "system", _("system")


class ImmutableRecord(Exception):
    """Raised on any attempt to change or delete an audit record."""


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ImmutableRecord("The audit trail cannot be changed.")

    def delete(self):
        raise ImmutableRecord("The audit trail cannot be deleted.")

    # bulk_update goes through update(); bulk_create (only new rows) stays.


class AuditRecord(models.Model):
    at = models.DateTimeField(_("when"), db_index=True)
    # No foreign key constraint: deleting a user must not change (or be blocked by) the
    # records of what they did; actor_name keeps who it was.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_name = models.CharField(_("who"), max_length=150, blank=True)
    source = models.CharField(_("through"), max_length=10, choices=Source.choices)
    address = models.CharField(_("address"), max_length=45, blank=True)
    command = models.CharField(_("command"), max_length=100, blank=True)
    operation = models.CharField(_("operation"), max_length=100)
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    object_type = models.CharField(_("object type"), max_length=100, blank=True)
    object_id = models.CharField(_("object id"), max_length=191, blank=True)
    object_repr = models.CharField(_("object"), max_length=OBJECT_REPR_MAX_LENGTH, blank=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("audit record")
        verbose_name_plural = _("audit trail")
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object_idx"),
            models.Index(fields=["actor", "at"], name="audit_actor_idx"),
        ]
        # Only "view": nobody may add, change or delete records by hand (the admin has no
        # such pages and no role gets such permissions; see accounts.roles).
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_name or self.source} {self.operation}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ImmutableRecord("The audit trail cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableRecord("The audit trail cannot be deleted.")
