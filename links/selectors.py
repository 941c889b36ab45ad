"""Reading document links: the one a token opens, and the links of a document."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from .documents import document_lookup, hash_token, well_formed
from .models import DocumentLink


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
