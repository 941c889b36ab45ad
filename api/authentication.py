"""``Authorization: Token <key>``: the key is looked up by its SHA-256 hash. Wrong keys are
throttled per address like wrong passwords (accounts/throttle.py): a few, then a pause that
grows, answered 429 with Retry-After."""

from __future__ import annotations

import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions

from accounts import throttle

from .models import ApiToken, hash_key

# last_used_at is written at most this often per token, not on every request.
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                _("Send the header as “Authorization: Token <key>”.")
            )
        keys = [throttle.address_key(request)]
        try:
            throttle.ensure_not_locked(keys)
        except throttle.SignInLocked as exc:
            throttle.refused_while_locked(keys=keys, what=throttle.API_TOKEN)
            raise exceptions.Throttled(wait=exc.retry_after, detail=exc.message) from None
        try:
            key = parts[1].decode()
        except UnicodeError:
            key = None
        token = None
        if key is not None:
            token = ApiToken.objects.select_related("user").filter(key_hash=hash_key(key)).first()
        if token is None:
            until = throttle.record_failure(keys=keys, what=throttle.API_TOKEN)
            if until is not None:
                locked = throttle.SignInLocked(until)
                raise exceptions.Throttled(wait=locked.retry_after, detail=locked.message)
            raise exceptions.AuthenticationFailed(_("The token is not valid."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("The token's user is inactive."))
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request) -> str:
        return self.keyword
