"""``Cache-Control: no-store`` on every answer that is not for everyone: pages for a signed-in
user, PDFs, CSVs and the API. A shared cache, or the browser's disk, must not keep invoices,
clients or keys (issue 15)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control

# Answers that are the same for everyone: static files (served by WhiteNoise before this)
# and the health check.
PUBLIC_PREFIXES = ("/static/", "/healthz")


class PrivateCacheMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith(PUBLIC_PREFIXES):
            return response
        private = (
            getattr(request, "user", None) is not None and request.user.is_authenticated
        ) or request.path.startswith("/api/")
        if private or response.get("Content-Type", "").startswith(("application/pdf", "text/csv")):
            patch_cache_control(response, no_store=True, private=True)
        return response
