"""Throttled sign-in (SPEC: Access): a few failures, then a pause that grows.

Every way in that takes a secret counts its failures here, under one or more keys: the
account (``account:alice``), the address it came from (``address:203.0.113.9``), or for a
password reset the e-mail address asked about (``reset:a@example.com``). The first
``OTB_SIGNIN_FREE_FAILURES`` failures of a key cost nothing (an address gets
``OTB_SIGNIN_FREE_FAILURES_PER_ADDRESS``: an office behind one router shares it); each one
after that locks the key for twice as long as the one before, from
``OTB_SIGNIN_FIRST_PAUSE`` seconds up to ``OTB_SIGNIN_MAX_PAUSE``. While a key is locked,
nothing is checked: a right password is refused like a wrong one, and the attempt does not
count. A key with no failure for a day starts again from nothing; a successful sign-in clears
its account's key (not its address's, or one valid account would let an address guess at
every other one).

Why not django-axes: its cool-off is one fixed time (or a function of the request), the
attempts are deleted when it ends, so it cannot grow; and the API's tokens, the password
reset, the second factor and the portal are not ``authenticate()`` calls it sees. This
module is the one rule, and every one of those calls it.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from audit import recording as audit
from audit.addresses import client_address
from otb.operations import DomainError, operation

from .models import KEY_MAX_LENGTH, SignInThrottle

FORGET_AFTER = datetime.timedelta(days=1)
# What is being tried, as the audit trail names it.
PASSWORD, CODE, API_TOKEN, RESET_REQUEST, NEW_PASSWORD, DOCUMENT_LINK = (
    "password",
    "second-factor code",
    "API token",
    "reset request",
    "new password",
    "document link",
)
PORTAL_SIGN_IN_REQUEST, PORTAL_SIGN_IN_LINK = "portal sign-in request", "portal sign-in link"
ACCOUNT, ADDRESS, RESET = "account", "address", "reset"

Found = TypeVar("Found")

# How the audit trail names a failure that is not a sign-in's.
FAILURE_EVENTS = {
    RESET_REQUEST: "password reset asked",
    DOCUMENT_LINK: "document link opened nothing",
    PORTAL_SIGN_IN_REQUEST: "portal sign-in asked",
    PORTAL_SIGN_IN_LINK: "portal sign-in link opened nothing",
}


class SignInLocked(DomainError):
    """Too many failures: nothing is checked until ``until``."""

    code = "locked"

    def __init__(self, until: datetime.datetime, *, now: datetime.datetime | None = None):
        self.until = until
        self.retry_after = max(1, math.ceil((until - (now or timezone.now())).total_seconds()))
        super().__init__(
            _("Too many failed attempts. Try again in %(wait)s.")
            % {"wait": wait_text(self.retry_after)}
        )


def wait_text(seconds: int) -> str:
    """ "45 seconds", "3 minutes", "1 hour": the wait rounded up, as a person says it."""
    if seconds < 60:
        return ngettext("%(n)d second", "%(n)d seconds", seconds) % {"n": seconds}
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}
    hours = math.ceil(minutes / 60)
    return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}


def free_failures(key: str) -> int:
    if key.startswith(ADDRESS + ":"):
        return settings.OTB_SIGNIN_FREE_FAILURES_PER_ADDRESS
    return settings.OTB_SIGNIN_FREE_FAILURES


def pause_after(failures: int, *, free: int) -> datetime.timedelta | None:
    """How long a key waits after its ``failures``-th failure in a row, when the first
    ``free`` are free; None: not at all."""
    if failures <= free:
        return None
    doublings = min(failures - free - 1, 32)  # 2**32 pauses are past any maximum
    seconds = min(settings.OTB_SIGNIN_FIRST_PAUSE * 2**doublings, settings.OTB_SIGNIN_MAX_PAUSE)
    return datetime.timedelta(seconds=seconds)


# --- Keys ----------------------------------------------------------------------------------
def scoped_key(scope: str, value: str) -> str:
    return f"{scope}:{value.strip().lower()}"[:KEY_MAX_LENGTH]


def account_key(username: str) -> str:
    return scoped_key(ACCOUNT, username)


def address_key(request: HttpRequest) -> str:
    return scoped_key(ADDRESS, client_address(request) or "unknown")


def reset_key(email: str) -> str:
    return scoped_key(RESET, email)


def sign_in_keys(request: HttpRequest, username: str) -> list[str]:
    return [account_key(username), address_key(request)]


# --- The rule ------------------------------------------------------------------------------
def locked_until(keys: Iterable[str], *, now: datetime.datetime | None = None):
    """The latest time any of ``keys`` is locked until, or None if none is locked now."""
    now = now or timezone.now()
    latest = (
        SignInThrottle.objects.filter(key__in=list(keys), locked_until__gt=now)
        .order_by("-locked_until")
        .values_list("locked_until", flat=True)
        .first()
    )
    return latest


def ensure_not_locked(keys: Sequence[str], *, what: str) -> None:
    """Refuse with ``SignInLocked`` (the message says when to try again) while any key is
    locked; the refusal of ``what`` is recorded in the audit trail."""
    now = timezone.now()
    until = locked_until(keys, now=now)
    if until is not None:
        refused_while_locked(keys=keys, what=what)
        raise SignInLocked(until, now=now)


def fail(keys: Sequence[str], *, what: str) -> None:
    """Count a failure of ``what`` against ``keys``; refuse with ``SignInLocked`` when it
    locked one of them."""
    until = record_failure(keys=keys, what=what)
    if until is not None:
        raise SignInLocked(until)


@operation
def refused_while_locked(*, keys: Sequence[str], what: str) -> None:
    """An attempt refused unchecked, because a key was locked: it does not count."""
    audit.event(
        "sign-in refused: locked",
        subject=keys[0],
        object_type="accounts.signin",
        details={"with": what},
    )


@operation
def record_failure(*, keys: Sequence[str], what: str) -> datetime.datetime | None:
    """Count one failure of ``what`` ("password", "code", "API token", "reset request")
    against each key and lock those past their free failures; the latest lock it set, or
    None. Its own transaction: the failure counts even though the request that made it is
    refused. The audit trail records it, and the lock if it set one."""
    now = timezone.now()
    latest = None
    for key in sorted(set(keys)):  # one order for every writer: no deadlock between them
        row = SignInThrottle.objects.select_for_update().filter(key=key).first()
        if row is None:
            try:
                with transaction.atomic():
                    row = SignInThrottle.objects.create(key=key, last_failure_at=now)
            except IntegrityError:  # another request counted this key's first failure
                row = SignInThrottle.objects.select_for_update().get(key=key)
        if now - row.last_failure_at > FORGET_AFTER:
            row.failures = 0
        row.failures += 1
        row.last_failure_at = now
        pause = pause_after(row.failures, free=free_failures(key))
        if pause is not None:
            row.locked_until = now + pause
            latest = max(latest, row.locked_until) if latest else row.locked_until
        row.save(update_fields=["failures", "last_failure_at", "locked_until"])
    audit.event(
        FAILURE_EVENTS.get(what, "sign-in failed"),
        subject=keys[0],
        object_type="accounts.signin",
        details={"with": what, "keys": sorted(set(keys)), "locked_until": latest},
    )
    return latest


@operation
def record_success(*, keys: Sequence[str], what: str) -> None:
    """Forget the failures of ``keys`` (an account that just signed in, or set a new
    password); the audit trail records the sign-in."""
    SignInThrottle.objects.filter(key__in=list(keys)).delete()
    audit.event(
        "signed in" if what != NEW_PASSWORD else "password reset",
        subject=keys[0],
        object_type="accounts.signin",
        details={"with": what},
    )


def attempt(keys: Sequence[str], check, *, what: str) -> bool:
    """Run ``check()`` (a password, a code: ``what``) unless a key is locked: True when it
    passed. A failure counts against every key, a success clears the first one (the
    account's). A refusal while locked is recorded in the audit trail too."""
    ensure_not_locked(keys, what=what)
    if check():
        record_success(keys=keys[:1], what=what)
        return True
    fail(keys, what=what)
    return False


def look_up(keys: Sequence[str], find: Callable[[], Found | None], *, what: str) -> Found | None:
    """``find()`` (a document link by the token in its address: ``what``) unless a key is
    locked: what it found, or None. Finding nothing counts a failure against every key;
    finding something never counts nor clears one. While a key is locked nothing is
    looked up and the answer is None, right token or wrong, so a guesser learns nothing
    from the answers until the lock ends (the refusal is in the audit trail)."""
    if locked_until(keys) is not None:
        refused_while_locked(keys=keys, what=what)
        return None
    found = find()
    if found is None:
        record_failure(keys=keys, what=what)
    return found
