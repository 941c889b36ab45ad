"""What a link can open, and its tokens.

A document is a model instance (a quote, an invoice, a credit note), told apart by its
model's label so that this app imports none of the apps whose documents it opens (they sit
above it: quotes/sending.py issues links, links never calls quotes), or a ``Statement``."""

from __future__ import annotations

import datetime
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

from .models import DOCUMENT_FIELDS, LinkKind

# 32 random bytes: 256 bits, as 43 characters of URL-safe base64 (A-Z a-z 0-9 - _).
TOKEN_BYTES = 32
# A token as new_token makes it; anything else is not looked up at all.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")

KIND_OF_MODEL = {
    "quotes.quote": LinkKind.QUOTE,
    "billing.invoice": LinkKind.INVOICE,
    "billing.creditnote": LinkKind.CREDIT_NOTE,
}


@dataclass(frozen=True)
class Statement:
    """A client's statement for dates, as a link names it."""

    client: Any
    start: datetime.date | None
    end: datetime.date | None

    @property
    def client_id(self) -> int:
        return self.client.pk


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def well_formed(token: Any) -> bool:
    return isinstance(token, str) and TOKEN_SHAPE.fullmatch(token) is not None


def kind_of(document: Any) -> LinkKind:
    """The kind of link that opens ``document``; TypeError for anything else."""
    if isinstance(document, Statement):
        return LinkKind.STATEMENT
    meta = getattr(document, "_meta", None)
    kind = KIND_OF_MODEL.get(meta.label_lower) if meta is not None else None
    if kind is None:
        raise TypeError(f"No document link opens a {type(document).__name__}.")
    return kind


def document_lookup(document: Any) -> dict[str, Any]:
    """The DocumentLink fields that name ``document``: its foreign key, or for a statement
    its client and dates."""
    kind = kind_of(document)
    if kind == LinkKind.STATEMENT:
        return {
            "kind": kind,
            "client_id": document.client_id,
            "statement_start": document.start,
            "statement_end": document.end,
        }
    return {"kind": kind, f"{DOCUMENT_FIELDS[kind]}_id": document.pk}


def active_key(document: Any, recipient: str) -> str:
    """The key that makes a live link unique per document and recipient."""
    kind = kind_of(document)
    if kind == LinkKind.STATEMENT:
        named = f"{document.client_id}:{document.start or ''}:{document.end or ''}"
    else:
        named = str(document.pk)
    return f"{kind}:{named}:{recipient}"
