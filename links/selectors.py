"""Reading document links: the one a token opens, the links of a document, and when it was
last viewed."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max, QuerySet
from django.utils import timezone

from .documents import document_lookup, hash_token, well_formed
from .models import DocumentLink, LinkKind


def open_link(token: Any, *, kind: str) -> DocumentLink | None:
    """The live link of ``kind`` that ``token`` opens, or None: for a token that is unknown,
    malformed, expired, revoked or of another kind of document alike, so that the callers
    answer them all with the same "not found" page and a guesser learns nothing."""
    if not well_formed(token):
        return None
    return (
        DocumentLink.objects.live(now=timezone.now())
        .filter(token_hash=hash_token(token), kind=kind)
        .first()
    )


def links_of(document: Any) -> QuerySet[DocumentLink]:
    """Every link ever issued for ``document``, newest first, revoked and expired ones too."""
    return DocumentLink.objects.filter(**document_lookup(document)).select_related(
        "created_by", "revoked_by"
    )


def statement_links_of(client: Any) -> QuerySet[DocumentLink]:
    """Every statement link ever issued for ``client``, whatever its dates, newest first."""
    return DocumentLink.objects.filter(client=client, kind=LinkKind.STATEMENT).select_related(
        "client", "created_by", "revoked_by"
    )


@dataclass(frozen=True)
class Viewed:
    """Whether a document was sent with links, and when one was last opened (None: not
    yet)."""

    has_links: bool
    last_viewed_at: datetime.datetime | None


def viewed(document: Any) -> Viewed:
    """When any link of ``document`` was last opened, revoked and expired ones too: the
    client saw the document then, whatever became of the link since."""
    found = DocumentLink.objects.filter(**document_lookup(document)).aggregate(
        links=Count("pk"), latest=Max("last_viewed_at")
    )
    return Viewed(has_links=bool(found["links"]), last_viewed_at=found["latest"])
