import contextlib
import datetime
from collections.abc import Iterator
from contextvars import ContextVar

from django.db import transaction
from django.utils import timezone

from .models import BusinessSettings

# The settings row a batch read once (``settings_read_once``), or None: read it each time.
_read_once: ContextVar[BusinessSettings | None] = ContextVar("business_settings", default=None)


def get_business_settings() -> BusinessSettings:
    """The settings row, created with the defaults the first time it is asked for."""
    shared = _read_once.get()
    if shared is not None:
        return shared
    settings, _ = BusinessSettings.objects.get_or_create(pk=BusinessSettings.SINGLETON_PK)
    return settings


@contextlib.contextmanager
def settings_read_once() -> Iterator[BusinessSettings]:
    """Inside, every ``get_business_settings()`` answers the one row read on entering: for
    a batch of operations in one transaction (the recurring run), which would otherwise
    read it a few times per invoice. Only inside a transaction, whose snapshot (MariaDB's
    repeatable read, SQLite's one writer) would answer the same row anyway."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("settings_read_once() belongs inside a transaction")
    settings = get_business_settings()
    token = _read_once.set(settings)
    try:
        yield settings
    finally:
        _read_once.reset(token)


def business_today(settings: BusinessSettings | None = None) -> datetime.date:
    """Today in the business's time zone: what issue dates, due dates and overdue go by."""
    settings = settings or get_business_settings()
    return timezone.localdate(timezone=settings.zone)
