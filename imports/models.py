"""An uploaded file waiting for its import, and the column mappings kept for next time."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class PendingImport(models.Model):
    """A file between its upload and its import: kept in the database, not on a disk, so
    the preview and the import may be served by different servers. Deleted once imported,
    discarded, or a day old."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=20)
    file_name = models.CharField(_("file name"), max_length=200)
    data = models.BinaryField(_("content"))
    cut_over = models.DateField(_("cut-over day"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("file to import")
        verbose_name_plural = _("files to import")
        default_permissions = ()

    def __str__(self) -> str:
        return self.file_name


class KeptMapping(models.Model):
    """Which field each column of a file gives, kept per kind and set of headers: the next
    file with the same columns is mapped the same way."""

    kind = models.CharField(_("kind"), max_length=20)
    headers_key = models.CharField(_("headers"), max_length=64)
    """SHA-256 of the file's normalised headers, in order."""
    columns = models.JSONField(_("columns"))
    """Header → field name."""
    updated_at = models.DateTimeField(_("kept at"), auto_now=True)

    class Meta:
        verbose_name = _("kept column mapping")
        verbose_name_plural = _("kept column mappings")
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["kind", "headers_key"], name="kept_mapping_headers")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.headers_key[:8]}"
