"""Reading the audit trail: the one filter the page and the API share."""

from __future__ import annotations

import datetime

from django.db.models import QuerySet

from .models import AuditRecord


def filter_records(
    records: QuerySet[AuditRecord],
    *,
    user: str = "",
    object_type: str = "",
    object_id: str = "",
    operation: str = "",
    source: str = "",
    action: str = "",
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> QuerySet[AuditRecord]:
    """The records of the audit page or of ``GET /api/v1/audit/``: by who (username, or
    "manage.py NAME"), object type ("billing.invoice") and id, operation (a part of its
    name), source, action, and the days they were made on (both included)."""
    lookups = {
        "actor_name": user,
        "object_type": object_type,
        "object_id": object_id,
        "operation__icontains": operation,
        "source": source,
        "action": action,
        "at__date__gte": date_from,
        "at__date__lte": date_to,
    }
    return records.filter(**{lookup: value for lookup, value in lookups.items() if value})
