"""Where a request comes from: the address sign-in throttling and the audit trail record."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _valid(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def client_address(request: HttpRequest) -> str:
    """The IP address of the client. Behind a proxy listed in ``TRUSTED_PROXIES`` (nginx on
    the same machine), the last address of ``X-Forwarded-For`` that is not one of those
    proxies: the one nginx saw. A client cannot forge it, since nginx appends the address it
    saw to whatever the client sent. Empty when nothing valid is known."""
    remote = _valid(request.META.get("REMOTE_ADDR", "")) or ""
    trusted = set(settings.TRUSTED_PROXIES)
    if remote not in trusted:
        return remote
    forwarded = [
        address
        for address in (
            _valid(part) for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        )
        if address
    ]
    for address in reversed(forwarded):
        if address not in trusted:
            return address
    return remote
