"""Document links in the back office: a read-only list of who was sent which link, when it
expires, whether it was revoked and how often it was opened. Links are issued by sending a
document and revoked from its page, never here; the token itself is nowhere to be shown."""

from __future__ import annotations

from django.contrib import admin
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from otb.admin import ReadOnlyAdmin

from .models import DOCUMENT_FIELDS, DocumentLink, DocumentView, LinkKind


class DocumentViewInline(admin.TabularInline):
    model = DocumentView
    extra = 0
    can_delete = False
    fields = ("viewed_at", "ip_address", "user_agent")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(DocumentLink)
class DocumentLinkAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "kind",
        "client",
        "document",
        "recipient",
        "expires_at",
        "revoked_at",
        "last_viewed_at",
        "view_count",
    )
    list_filter = ("kind", "revoke_reason")
    search_fields = (
        "recipient",
        "client__code",
        "client__name",
        "quote__number",
        "invoice__number",
        "credit_note__number",
    )
    list_select_related = ("client", "quote", "invoice", "credit_note")
    hidden = ("token_hash", "active_key")
    inlines = (DocumentViewInline,)

    @admin.display(description=gettext_lazy("document"))
    def document(self, link: DocumentLink) -> str:
        """What the link opens, in one column for every kind: the document's number, or a
        statement's dates (as in the office's links table)."""
        if link.kind == LinkKind.STATEMENT:
            start = formats.date_format(link.statement_start) if link.statement_start else "…"
            end = formats.date_format(link.statement_end) if link.statement_end else "…"
            return _("Statement %(start)s – %(end)s") % {"start": start, "end": end}
        return str(getattr(link, DOCUMENT_FIELDS[LinkKind(link.kind)]))
