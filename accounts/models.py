"""Users are django.contrib.auth users and roles are groups; this app adds what sign-in keeps:
the failures that slow down password guessing (accounts/throttle.py)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

# Long enough for a username (150) with its scope; short enough for a unique index in
# utf8mb4 on every MariaDB.
KEY_MAX_LENGTH = 191


class SignInThrottle(models.Model):
    """The failed attempts of one account, one address, or one e-mail address asking for a
    password reset, and until when it must wait."""

    key = models.CharField(_("who"), max_length=KEY_MAX_LENGTH, unique=True)
    failures = models.PositiveIntegerField(_("failures"), default=0)
    last_failure_at = models.DateTimeField(_("last failure at"))
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)

    class Meta:
        ordering = ["-last_failure_at"]
        verbose_name = _("sign-in lock")
        verbose_name_plural = _("sign-in locks")

    def __str__(self) -> str:
        return self.key
