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
        try:
            token = self._token(request, parts[1])
        except throttle.SignInLocked as exc:
            raise exceptions.Throttled(wait=exc.retry_after, detail=exc.message) from None
        if token is None:
            raise exceptions.AuthenticationFailed(_("The token is not valid."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("The token's user is inactive."))
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def _token(self, request, raw: bytes) -> ApiToken | None:
        """The token of ``raw``, or None after counting the failure against the address;
        SignInLocked while the address is locked, or when this failure locked it."""
        keys = [throttle.address_key(request)]
        throttle.ensure_not_locked(keys, what=throttle.API_TOKEN)
        try:
            key = raw.decode()
        except UnicodeError:
            key = None
        token = None
        if key is not None:
            token = ApiToken.objects.select_related("user").filter(key_hash=hash_key(key)).first()
        if token is None:
            throttle.fail(keys, what=throttle.API_TOKEN)
        return token

    def authenticate_header(self, request) -> str:
        return self.keyword
