"""The office's view of a document's links: ``{% links_panel invoice %}`` (any document a
link opens) and ``{% statement_links_panel client %}`` show the links table
(links/_links_panel.html); ``{% viewed_status document %}`` says when the client last opened it."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext as _

from links import office
from links.documents import kind_of
from links.models import DocumentLink, LinkKind
from links.selectors import links_of, statement_links_of, viewed

register = template.Library()


def _panel(context, links: list[DocumentLink], kind: str, *, sendable: bool) -> dict[str, Any]:
    user = context["request"].user
    can_send = sendable and office.may_send(user, kind)
    return {
        # Each link, and the address of "Send a new link" for it (none for a replaced one:
        # its recipient's newer link is listed too).
        "rows": [
            (link, office.resend_url(link) if can_send and not link.was_replaced else "")
            for link in links
        ],
        "kind": kind,
        "can_revoke": office.may_revoke(user, kind),
    }


@register.inclusion_tag("links/_links_panel.html", takes_context=True)
def links_panel(context, document, sendable: bool = True) -> dict[str, Any]:
    """The links ``document`` was ever sent with. ``sendable``: whether the document can
    be sent again now (not for a cancelled invoice), which "Send a new link" needs."""
    links = list(links_of(document).select_related(*office.RELATED))
    return _panel(context, links, kind_of(document), sendable=sendable)


@register.inclusion_tag("links/_links_panel.html", takes_context=True)
def statement_links_panel(context, client) -> dict[str, Any]:
    """The statement links the client was ever sent, whatever their dates, under their own
    heading; nothing at all while there are none."""
    panel = _panel(context, list(statement_links_of(client)), LinkKind.STATEMENT, sendable=True)
    return {**panel, "heading": _("Statement links"), "hide_empty": True}


@register.inclusion_tag("links/_viewed.html")
def viewed_status(document) -> dict[str, Any]:
    """ "Viewed <when>" once a link of ``document`` was opened, "Not viewed yet" while none
    was, nothing if it was never sent with a link."""
    return {"viewed": viewed(document)}
