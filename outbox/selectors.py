"""Reads of the outbox for the pages that warn about failed e-mail."""

from __future__ import annotations

from dataclasses import dataclass

from .models import SETTINGS_FAILURES, Message


@dataclass
class Attention:
    count: int
    latest: Message | None


def needing_attention(*, settings_only: bool = False) -> Attention:
    """How many messages need a person, and the newest of them (two small queries on an
    index). ``settings_only``: those a change in the e-mail settings would cure."""
    found = Message.objects.needing_attention()
    if settings_only:
        found = found.filter(failure_kind__in=SETTINGS_FAILURES)
    latest = found.select_related("invoice").order_by("-created_at", "-id").first()
    return Attention(count=found.count() if latest else 0, latest=latest)
