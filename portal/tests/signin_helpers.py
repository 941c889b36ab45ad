"""Signing in to the portal in tests, the way a contact does: ask for a link, take it from
the outbox (which keeps it until the message is delivered: in a test whose transaction
never commits, it stays), press the button."""

from __future__ import annotations

import re

from django.urls import reverse

from outbox.models import Message, MessageKind

SIGN_IN = reverse("portal:sign_in")
LINK_PATH = re.compile(r"https?://[^/\s]+(/portal/sign-in/([A-Za-z0-9_-]{43})/)")


def ask(browser, email, **extra):
    return browser.post(SIGN_IN, {"email": email}, follow=True, **extra)


def _newest_link_to(email: str) -> re.Match:
    message = Message.objects.filter(kind=MessageKind.PORTAL_SIGN_IN, to_addresses=email).latest(
        "pk"
    )
    return LINK_PATH.fullmatch(message.secret_link)


def last_link_to(email: str) -> str:
    """The path of the newest sign-in link queued for ``email``."""
    return _newest_link_to(email).group(1)


def token_of(link) -> str:
    """The token of the sign-in link ``link`` (the newest one to its address)."""
    return _newest_link_to(link.email).group(2)


def signed_in(browser, email: str) -> str:
    """``browser`` signed in as ``email`` (an address on file; e-mail set up); the path of
    the link it used."""
    ask(browser, email)
    path = last_link_to(email)
    browser.post(path)
    return path


CSRF_VALUE = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')


def not_found_for(browser) -> bytes:
    """The portal's one "not found" as ``browser`` (signed in or not) gets it, with the
    CSRF token of its forms (random in every answer, telling nothing) left out."""
    response = browser.get("/portal/invoices/NOBODYS-0000/")
    assert response.status_code == 404
    return without_csrf(response.content)


def without_csrf(content: bytes) -> bytes:
    return CSRF_VALUE.sub(b'name="csrfmiddlewaretoken" value=""', content)
