"""The business's time zone, active for every request and every command, so every time a
person reads (pages, the back office, e-mail, PDFs) is in it (SPEC: Access). Stored times
stay UTC; the API answers in UTC, as machines expect."""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from .models import BusinessSettings


def business_zone() -> zoneinfo.ZoneInfo:
    """The zone of the settings row, without creating it; the model's default before the
    row (or its table, during the first migrate) exists."""
    try:
        name = (
            BusinessSettings.objects.filter(pk=BusinessSettings.SINGLETON_PK)
            .values_list("time_zone", flat=True)
            .first()
        )
    except DatabaseError:
        name = None
    return zoneinfo.ZoneInfo(name or BusinessSettings._meta.get_field("time_zone").default)


@contextmanager
def business_time(zone: zoneinfo.ZoneInfo | None = None) -> Iterator[None]:
    with timezone.override(zone or business_zone()):
        yield


class BusinessTimeZoneMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith("/api/"):
            return self.get_response(request)
        with business_time():
            return self.get_response(request)


def install_for_commands() -> None:
    """Run every management command (the outbox worker's e-mail, reminders, reports) in
    the business's time zone."""
    from django.core.management.base import BaseCommand

    if getattr(BaseCommand.execute, "_business_time", False):
        return
    execute = BaseCommand.execute

    @functools.wraps(execute)
    def execute_in_business_time(self, *args, **options):
        with business_time():
            return execute(self, *args, **options)

    execute_in_business_time._business_time = True  # type: ignore[attr-defined]
    BaseCommand.execute = execute_in_business_time  # type: ignore[method-assign]
