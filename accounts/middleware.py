"""The second factor, before any page (SPEC: Access)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from .second_factor import has_second_factor, required

# The pages a signed-in user reaches before the second factor: the ones that ask for it, the
# one that sets it up, and signing out.
OPEN_BEFORE_VERIFYING = ("second_factor_verify", "logout")
OPEN_BEFORE_SETUP = ("second_factor", "logout")


class SecondFactorMiddleware:
    """A signed-in user who has a second factor and has not given it in this session is sent
    to give it; an administrator who must have one and has none is sent to set it up. Every
    other page, the back office and the API docs included, waits until then. (API tokens are
    their own credentials, checked by the API, not sessions.)"""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not user.is_verified():
            if has_second_factor(user):
                return self._send_to(request, "second_factor_verify", OPEN_BEFORE_VERIFYING)
            if required(user):
                return self._send_to(request, "second_factor", OPEN_BEFORE_SETUP)
        return self.get_response(request)

    def _send_to(self, request: HttpRequest, name: str, open_names) -> HttpResponse:
        if request.path in {reverse(open_name) for open_name in open_names}:
            return self.get_response(request)
        url = reverse(name)
        if request.method == "GET" and request.path != "/":
            url += "?" + urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(url)
