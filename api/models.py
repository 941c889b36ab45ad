"""API tokens, and the answers kept for requests sent with an Idempotency-Key."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

PREFIX_LENGTH = 8


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def create_token(self, *, user, name: str = "") -> tuple[ApiToken, str]:
        """A new token for ``user`` and its key. The key is not stored, only its hash: it is
        shown this once."""
        token = self.model(user=user, name=name)
        key = token.set_new_key()
        token.save(force_insert=True)
        return token, key


class ApiToken(models.Model):
    """A per-user key for ``Authorization: Token <key>``. The token acts as its user, with
    the user's role."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("user"),
    )
    name = models.CharField(_("name"), max_length=100, blank=True)
    # SHA-256 hex of the key: a copy of the database does not give working keys away.
    key_hash = models.CharField(max_length=64, editable=False)
    prefix = models.CharField(_("key starts with"), max_length=PREFIX_LENGTH, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        constraints = [models.UniqueConstraint(fields=["key_hash"], name="api_token_hash_unique")]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name or self.user})"

    def set_new_key(self) -> str:
        """Give the (unsaved) token a new random key and return it: only its hash and
        first characters are kept."""
        key = secrets.token_urlsafe(32)
        self.key_hash = hash_key(key)
        self.prefix = key[:PREFIX_LENGTH]
        return key


class IdempotentRequest(models.Model):
    """The first answer to a write sent with an ``Idempotency-Key`` header: the same key
    with the same request gets it again instead of creating a second invoice or payment."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # SHA-256 of method, path and body: the same key with another request is refused.
    fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("idempotent request")
        verbose_name_plural = _("idempotent requests")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotent_request_key_unique")
        ]

    def __str__(self) -> str:
        return self.key
