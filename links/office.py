"""The office's side of document links: the page of a link's document, the page that sends
it again, and who may revoke or replace a link. Pages are found by their URL names, by
kind, so that this app imports none of the apps whose documents it opens (they sit above
it)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.urls import reverse

from .models import DocumentLink, LinkKind

# The right to send each kind of document: to send a new link is to send it again.
SEND_PERMISSIONS: dict[str, tuple[str, ...]] = {
    LinkKind.QUOTE: ("quotes.send_quote", "outbox.send_message"),
    LinkKind.INVOICE: ("outbox.send_message",),
    LinkKind.CREDIT_NOTE: ("outbox.send_message",),
    LinkKind.STATEMENT: ("outbox.send_message",),
}

# Revoking sends nothing: the right to change links and the document's own right to be
# sent (for a quote, quotes.send_quote, as its API has it).
REVOKE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    LinkKind.QUOTE: ("links.change_documentlink", "quotes.send_quote"),
    LinkKind.INVOICE: ("links.change_documentlink", "outbox.send_message"),
    LinkKind.CREDIT_NOTE: ("links.change_documentlink", "outbox.send_message"),
    LinkKind.STATEMENT: ("links.change_documentlink", "outbox.send_message"),
}

# A link's document foreign key and what to select with a link to show its pages.
RELATED = ("client", "quote", "invoice", "credit_note", "created_by", "revoked_by")


def may_revoke(user: Any, kind: str) -> bool:
    return bool(user.has_perms(REVOKE_PERMISSIONS[kind]))


def may_send(user: Any, kind: str) -> bool:
    return bool(user.has_perms(SEND_PERMISSIONS[kind]))


def document_url(link: DocumentLink) -> str:
    """The office page of the link's document; a statement's is its client's page."""
    if link.kind == LinkKind.QUOTE:
        return reverse("quotes:detail", args=[link.quote_id])
    if link.kind == LinkKind.INVOICE and link.invoice is not None:
        # A link opens an issued invoice only: it has its number.
        return reverse("invoices:detail", args=[link.invoice.number])
    if link.kind == LinkKind.CREDIT_NOTE:
        return reverse("credit_notes:detail", args=[link.credit_note_id])
    return reverse("clients:detail", args=[link.client.code])


def resend_url(link: DocumentLink) -> str:
    """The page that sends the link's document again, to the link's recipient: sending
    it replaces that recipient's link."""
    query: dict[str, str] = {"to": link.recipient}
    if link.kind == LinkKind.QUOTE:
        url = reverse("quote_sending:send", args=[link.quote_id])
    elif link.kind == LinkKind.INVOICE:
        url = reverse("invoices:send", args=[link.invoice_id])
    elif link.kind == LinkKind.CREDIT_NOTE:
        url = reverse("credit_notes:send", args=[link.credit_note_id])
    else:
        url = reverse("reports:statement")
        query = {"client": link.client.code}
        if link.statement_start:
            query["start"] = link.statement_start.isoformat()
        if link.statement_end:
            query["end"] = link.statement_end.isoformat()
        query["to"] = link.recipient
    return f"{url}?{urlencode(query)}"
