"""Document links (SPEC: Client portal and document links): the link an e-mail carries, which
opens its one document (a quote, an invoice, a credit note, a client's statement) and its PDF
without a login. One link per document and recipient; its token is random and only its
SHA-256 is stored, so nobody reading the database (or a backup) can open a document with it.

Quotes are the first to use them; invoices, credit notes and statements take the same rows."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class LinkKind(models.TextChoices):
    QUOTE = "quote", _("Quote")
    INVOICE = "invoice", _("Invoice")
    CREDIT_NOTE = "credit_note", _("Credit note")
    STATEMENT = "statement", _("Statement")


# The foreign key that names each kind's document; a statement is the client's, for dates.
DOCUMENT_FIELDS = {
    LinkKind.QUOTE: "quote",
    LinkKind.INVOICE: "invoice",
    LinkKind.CREDIT_NOTE: "credit_note",
}

# What revoke_reason says of a link that a new one to the same recipient replaced.
REPLACED = "replaced"


def _only(field: str | None) -> Q:
    """The document foreign keys: ``field`` set, every other one empty."""
    condition = Q()
    for name in DOCUMENT_FIELDS.values():
        condition &= Q(**{f"{name}__isnull": name != field})
    return condition


class DocumentLinkQuerySet(models.QuerySet):
    def live(self, *, now):
        """Links that still open their document: not revoked and not expired."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=now)


class DocumentLink(models.Model):
    kind = models.CharField(_("kind"), max_length=12, choices=LinkKind.choices)
    # Always the document's client: the later client portal lists a client's links by it.
    client = models.ForeignKey(
        "billing.Client",
        on_delete=models.PROTECT,
        related_name="document_links",
        verbose_name=_("client"),
    )
    quote = models.ForeignKey(
        "quotes.Quote",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="links",
        verbose_name=_("quote"),
    )
    invoice = models.ForeignKey(
        "billing.Invoice",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="links",
        verbose_name=_("invoice"),
    )
    credit_note = models.ForeignKey(
        "billing.CreditNote",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="links",
        verbose_name=_("credit note"),
    )
    statement_start = models.DateField(_("statement from"), null=True, blank=True)
    statement_end = models.DateField(_("statement to"), null=True, blank=True)
    recipient = models.EmailField(_("recipient"), max_length=254)
    # SHA-256 (hex) of the token; the token itself is never stored.
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    # "<kind>:<document>:<recipient>" while the link is not revoked, else NULL: the unique
    # index keeps one link per document and recipient however many send at once (NULLs never
    # collide, on every database; a partial index would not be one on MariaDB).
    active_key = models.CharField(max_length=320, null=True, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("revoked by"),
    )
    revoke_reason = models.CharField(_("why revoked"), max_length=200, blank=True)
    first_viewed_at = models.DateTimeField(_("first viewed"), null=True, blank=True)
    last_viewed_at = models.DateTimeField(_("last viewed"), null=True, blank=True)
    view_count = models.PositiveIntegerField(_("views"), default=0)

    objects = DocumentLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("document link")
        verbose_name_plural = _("document links")
        constraints = [
            models.CheckConstraint(
                condition=(
                    (Q(kind=LinkKind.QUOTE) & _only("quote"))
                    | (Q(kind=LinkKind.INVOICE) & _only("invoice"))
                    | (Q(kind=LinkKind.CREDIT_NOTE) & _only("credit_note"))
                    | (Q(kind=LinkKind.STATEMENT) & _only(None))
                ),
                name="document_link_kind_has_its_document",
            ),
            models.CheckConstraint(
                condition=(
                    Q(revoked_at__isnull=True, active_key__isnull=False)
                    | Q(revoked_at__isnull=False, active_key__isnull=True)
                ),
                name="document_link_active_until_revoked",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")),
                name="document_link_expires_after_created",
            ),
        ]
        indexes = [
            models.Index(fields=["quote", "created_at"], name="document_link_quote"),
            models.Index(fields=["invoice", "created_at"], name="document_link_invoice"),
            models.Index(fields=["credit_note", "created_at"], name="document_link_credit"),
            models.Index(fields=["client", "created_at"], name="document_link_client"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.recipient}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def is_live(self) -> bool:
        """Whether it still opens its document."""
        return not self.is_revoked and not self.is_expired

    @property
    def was_replaced(self) -> bool:
        return self.revoke_reason == REPLACED


class DocumentView(models.Model):
    """One opening of a link's page or PDF: when, from where, with what browser."""

    link = models.ForeignKey(
        DocumentLink, on_delete=models.PROTECT, related_name="views", verbose_name=_("link")
    )
    viewed_at = models.DateTimeField(_("viewed at"))
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=500, blank=True)

    class Meta:
        ordering = ["-viewed_at", "-id"]
        verbose_name = _("document view")
        verbose_name_plural = _("document views")
        indexes = [models.Index(fields=["link", "viewed_at"], name="document_view_link")]

    def __str__(self) -> str:
        return f"{self.link} {self.viewed_at:%Y-%m-%d %H:%M}"
