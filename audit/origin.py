"""Where a write comes from: who, and through what (a page, the back office, the API, a
command). Set once per request (``AuditOriginMiddleware``) or per management command, read by
every audit record the request or command makes. No models: the lowest layer of all."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse

from .addresses import client_address

WEB, ADMIN, API, COMMAND, SYSTEM = "web", "admin", "api", "command", "system"


@dataclass(frozen=True)
class Origin:
    source: str
    address: str = ""
    command: str = ""
    # The signed-in user of the request, when there is one: an operation's acting_user wins.
    user: Any = None


_origin: ContextVar[Origin | None] = ContextVar("audit_origin", default=None)


def current() -> Origin:
    return _origin.get() or Origin(SYSTEM)


@contextlib.contextmanager
def origin(value: Origin) -> Iterator[Origin]:
    token = _origin.set(value)
    try:
        yield value
    finally:
        _origin.reset(token)


def _source_of(path: str) -> str:
    if path.startswith("/admin/"):
        return ADMIN
    if path.startswith("/api/"):
        return API
    return WEB


class AuditOriginMiddleware:
    """The request's address and signed-in user, for the audit records its writes make."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        value = Origin(
            _source_of(request.path),
            address=client_address(request),
            user=getattr(request, "user", None),
        )
        with origin(value):
            return self.get_response(request)


def record_commands_as_origin() -> None:
    """Every management command (ours and Django's) runs with itself as the origin, unless
    something set one already (a command called from a request)."""
    from django.core.management.base import BaseCommand

    if getattr(BaseCommand.execute, "_audit_origin", False):
        return
    execute = BaseCommand.execute

    @functools.wraps(execute)
    def execute_with_origin(self, *args, **options):
        if _origin.get() is not None:
            return execute(self, *args, **options)
        name = type(self).__module__.rpartition(".")[2]
        with origin(Origin(COMMAND, command=name)):
            return execute(self, *args, **options)

    execute_with_origin._audit_origin = True  # type: ignore[attr-defined]
    BaseCommand.execute = execute_with_origin  # type: ignore[method-assign]
