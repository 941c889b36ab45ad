"""Who the portal is showing (SPEC: Client portal and document links): the portal session
in the request's cookie, and the client it shows.

The session's key is random, signed (with the secret key and this module's salt) in a
cookie of its own that only /portal/ receives; the database keeps its SHA-256. It is never
Django's session: the office's pages read ``request.user`` (accounts), which a portal
cookie never sets, so no office page takes a portal session. Every request checks the
session again (live, not past its end) and that its address is still on file for the client
it shows (billing.selectors.clients_for_address): the business removing an address ends
that contact's access at once."""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core import signing
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation

from billing.models import Client
from billing.selectors import clients_for_address
from links.documents import hash_token, well_formed
from links.pages import csrf_protect_quietly, private
from settings_app.selectors import get_business_settings

from .context import page_context
from .models import PortalSession

COOKIE_NAME = "otb_portal"
COOKIE_PATH = "/portal/"
SALT = "otb.portal.session"
# last_seen_at is written at most this often, not on every page.
SEEN_EVERY = datetime.timedelta(minutes=1)


@dataclass(frozen=True)
class Access:
    """A live portal session, the clients its address is on file for now, and the one it
    shows (None until one is chosen among several)."""

    session: PortalSession
    clients: list[Client]
    client: Client | None

    @property
    def email(self) -> str:
        return self.session.email


def set_cookie(response: HttpResponse, session: PortalSession, key: str) -> HttpResponse:
    """The session's key, signed, in the cookie that keeps it until the session ends."""
    seconds = max(0, int((session.expires_at - timezone.now()).total_seconds()))
    response.set_cookie(
        COOKIE_NAME,
        signing.Signer(salt=SALT).sign(key),
        max_age=seconds,
        path=COOKIE_PATH,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return response


def delete_cookie(response: HttpResponse) -> HttpResponse:
    response.delete_cookie(COOKIE_NAME, path=COOKIE_PATH, samesite="Lax")
    return response


def _key(request: HttpRequest) -> str | None:
    value = request.COOKIES.get(COOKIE_NAME)
    if not value:
        return None
    try:
        key = signing.Signer(salt=SALT).unsign(value)
    except signing.BadSignature:
        return None
    return key if well_formed(key) else None


def current(request: HttpRequest) -> Access | None:
    """The portal access of ``request``'s cookie, or None: no cookie, a forged one, a
    session signed out or past its end, or an address no longer on file for any client."""
    key = _key(request)
    if key is None:
        return None
    now = timezone.now()
    session = (
        PortalSession.objects.live(now=now)
        .filter(key_hash=hash_token(key))
        .select_related("client")
        .first()
    )
    if session is None:
        return None
    clients = list(clients_for_address(session.email))
    if not clients:
        return None
    client = next((c for c in clients if c.pk == session.client_id), None)
    if client is None and len(clients) == 1:
        client = clients[0]
    if now - session.last_seen_at >= SEEN_EVERY:
        PortalSession.objects.filter(pk=session.pk).update(last_seen_at=now)
    return Access(session=session, clients=clients, client=client)


def portal_not_found(request: HttpRequest) -> HttpResponse:
    """The portal's one "not found", in its layout: the same page for another client's
    document, a draft, a number that is nobody's, and a document's page without a session
    (which then offers to sign in). Not logged with its path, as the links' is not."""
    response = render(request, "portal/not_found.html", page_context(request), status=404)
    response._has_been_logged = True  # type: ignore[attr-defined]
    return private(response)


def portal_off(request: HttpRequest) -> HttpResponse:
    """What every portal address answers while the business has the portal turned off."""
    return private(render(request, "portal/off.html", status=404))


def _in_business_language(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The portal speaks the business's language (LANGUAGE_CODE), not the browser's."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with translation.override(settings.LANGUAGE_CODE):
            return view(request, *args, **kwargs)

    return wrapped


def portal_view(*, needs_client: bool = True) -> Callable:
    """A portal page: open without an office login, off while the portal is, in the
    business's language, with the headers of a private page (links.pages.private), and
    Django's CSRF check on its forms as the links' pages have it (links.pages: under
    "Referrer-Policy: no-referrer" a browser's own form says "Origin: null").

    With ``needs_client`` (the default), ``request.portal`` is the Access with its client;
    without a session, a page that names a document (keyword arguments) answers the same
    "not found" as for another client's document (``portal_not_found``), and any other
    page goes to the sign-in page (or, signed in but no client chosen yet, to the
    chooser). Without ``needs_client``, ``request.portal`` is the Access or None."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_not_required
        @csrf_protect_quietly
        @_in_business_language
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not get_business_settings().portal_enabled:
                return portal_off(request)
            access = current(request)
            request.portal = access  # type: ignore[attr-defined]
            if needs_client and (access is None or access.client is None):
                if kwargs:
                    return portal_not_found(request)
                name = "portal:sign_in" if access is None else "portal:choose"
                return private(HttpResponseRedirect(reverse(name)))
            return private(view(request, *args, **kwargs))

        return wrapped

    return decorate
