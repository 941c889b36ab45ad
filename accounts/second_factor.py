"""A second factor (SPEC: Access): a TOTP app, with one-time backup codes.

The devices are django-otp's: one confirmed ``TOTPDevice`` (the app) and one ``StaticDevice``
(the backup codes) per user. Backup codes are kept as a hash, never as typed: a copy of the
database gives none away. Every code typed, at sign-in or when the app is set up, goes
through ``throttle.attempt`` under the same keys as the password, so guessing codes is as
slow as guessing passwords; django-otp's own per-device back-off adds to that.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit import recording as audit
from otb.operations import DomainError, InvalidInput, ensure_permitted, operation

from . import throttle
from .roles import role_of

BACKUP_CODES = 10
BACKUP_DEVICE_NAME = "backup codes"
APP_DEVICE_NAME = "authenticator app"


class NoSecondFactor(DomainError):
    code = "no_second_factor"


class NotAllowedOff(DomainError):
    code = "second_factor_required"


def required(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Must this user sign in with a second factor before any page?"""
    return (
        settings.REQUIRE_SECOND_FACTOR_FOR_ADMINS
        and user.is_authenticated
        and role_of(user) == "administrator"
    )


def has_second_factor(user: AbstractBaseUser) -> bool:
    """One query, made on every page for a session not verified yet: the app is what
    counts (backup codes exist only beside it)."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def _normalized(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").lower()


def _hashed(code: str) -> str:
    """What is stored of a backup code: 64 bits of its SHA-256 (StaticToken holds 16
    characters). A code has 50 random bits, so the hash is no shortcut to it."""
    return hashlib.sha256(_normalized(code).encode()).hexdigest()[:16]


def _new_code() -> str:
    letters = base64.b32encode(secrets.token_bytes(10)).decode().lower()[:10]
    return f"{letters[:5]}-{letters[5:]}"


def _app_device(user: AbstractBaseUser, *, confirmed: bool) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=confirmed).order_by("-id").first()


def backup_codes_left(user: AbstractBaseUser) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


# --- Setting it up -------------------------------------------------------------------------
@operation
def begin_setup(*, user: AbstractBaseUser) -> TOTPDevice:
    """The unconfirmed app device whose key the setup page shows (the same one until it is
    confirmed, so reloading the page does not change the QR code)."""
    device = _app_device(user, confirmed=False)
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=APP_DEVICE_NAME, confirmed=False)
        audit.created(device)
    return device


def _check_code(request: HttpRequest, user: AbstractBaseUser, check) -> bool:
    keys = throttle.sign_in_keys(request, user.get_username())
    return throttle.attempt(keys, check, what=throttle.CODE)


def confirm_setup(*, request: HttpRequest, user: AbstractBaseUser, code: str) -> list[str]:
    """Turn the app on once ``code`` from it is right: the backup codes, shown this once.
    The session counts as verified from now on."""
    device = _app_device(user, confirmed=False)
    if device is None:
        raise NoSecondFactor(_("Start again: the set-up page has a new code to scan."))
    if not _check_code(request, user, lambda: device.verify_token(_normalized(code))):
        raise InvalidInput.single(
            "code", _("Code: that is not the code your app shows now. Type the 6 digits again.")
        )
    codes = _activate(user=user, device=device)
    otp_login(request, device)
    return codes


@operation
def _activate(*, user: AbstractBaseUser, device: TOTPDevice) -> list[str]:
    before = audit.snapshot(device)
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    TOTPDevice.objects.filter(pk=device.pk).update(confirmed=True)
    audit.changed(device, before)
    return _replace_backup_codes(user)


def _replace_backup_codes(user: AbstractBaseUser) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    backup = StaticDevice.objects.create(user=user, name=BACKUP_DEVICE_NAME, confirmed=True)
    codes = [_new_code() for _ in range(BACKUP_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=backup, token=_hashed(c)) for c in codes)
    _event("backup codes made", user, count=len(codes))
    return codes


def _event(name: str, user: AbstractBaseUser, **details: object) -> None:
    audit.event(name, subject=str(user.pk), object_type="auth.user", details=details)


@operation
def new_backup_codes(*, user: AbstractBaseUser) -> list[str]:
    """A fresh set of backup codes; the old ones stop working."""
    if _app_device(user, confirmed=True) is None:
        raise NoSecondFactor(_("Set up the authenticator app first."))
    return _replace_backup_codes(user)


@operation
def turn_off(*, user: AbstractBaseUser) -> None:
    """Remove the user's second factor (refused where it is required)."""
    if required(user):
        raise NotAllowedOff(_("Administrators must sign in with a second factor here."))
    _remove_devices(user)


def _remove_devices(user: AbstractBaseUser) -> None:
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    _event("second factor removed", user, username=user.get_username())


@operation
def reset_second_factor(*, username: str, acting_user: AbstractBaseUser | None) -> AbstractBaseUser:
    """Recovery (manage.py reset_second_factor, the back office): the user signs in with the
    password alone and, where a second factor is required, sets a new one up at once."""
    ensure_permitted(acting_user, "auth.change_user", _("change users"))
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise InvalidInput.single(
            "username", _("User: there is no user %(name)s.") % {"name": username}
        )
    _remove_devices(user)
    return user


# --- Signing in ----------------------------------------------------------------------------
def verify(*, request: HttpRequest, user: AbstractBaseUser, code: str) -> None:
    """Mark the session verified if ``code`` is the app's current code or an unused backup
    code (which is then used up). Throttled like the password."""
    code = _normalized(code)
    if not code:
        raise InvalidInput.single("code", _("Code: this field is required."))
    matched = []

    def check() -> bool:
        if code.isdigit():
            device = _app_device(user, confirmed=True)
            if device is not None and device.verify_token(code):
                matched.append(device)
        else:
            for device in StaticDevice.objects.filter(user=user, confirmed=True):
                if device.verify_token(_hashed(code)):
                    matched.append(device)
                    break
        return bool(matched)

    if not _check_code(request, user, check):
        raise InvalidInput.single(
            "code",
            _("Code: that is neither the code your app shows now nor an unused backup code."),
        )
    request.session.cycle_key()
    otp_login(request, matched[0])
