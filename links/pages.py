"""What every page a document link opens shares: the one "not found" answer, the headers
that keep a link's address out of other sites, search engines and caches, and the logo."""

from __future__ import annotations

import base64
import logging
import mimetypes
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.decorators import decorator_from_middleware
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from settings_app.selectors import get_business_settings

logger = logging.getLogger(__name__)

NOT_FOUND_TEMPLATE = "links/not_found.html"
# The settings page refuses a larger logo; a bigger file is not inlined.
LOGO_MAX_BYTES = 1024 * 1024
# No Referer at all: the page's address holds the token. With it, browsers send "Origin:
# null" with the page's own forms; the CSRF check below takes that from the page's own site
# (Sec-Fetch-Site), and the CSRF token is checked as always.
REFERRER_POLICY = "no-referrer"


def private(response: HttpResponse) -> HttpResponse:
    """A page or PDF of a link: no Referer to other sites (the address holds the token),
    not indexed, never stored by a cache or the browser's disk."""
    response["Referrer-Policy"] = REFERRER_POLICY
    response["X-Robots-Tag"] = "noindex, nofollow"
    patch_cache_control(response, no_store=True, private=True)
    return response


def not_found() -> HttpResponse:
    """The answer to every token that opens nothing (unknown, malformed, expired, revoked, of
    another kind of document): the same status and the same bytes, rendered without the
    request, so nothing in it can tell one case from another."""
    # In the business's language, whoever asks (the portal's pages speak it too).
    with translation.override(settings.LANGUAGE_CODE):
        response = HttpResponse(render_to_string(NOT_FOUND_TEMPLATE), status=404)
    # Django logs every 404 with its path, and this path holds a token someone was given.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return private(response)


class _QuietCsrfMiddleware(CsrfViewMiddleware):
    """Django's CSRF check, whose refusal is logged without the path: a link's path holds
    its token, and logs are read by more people than the client it was sent to.

    A page sent with "Referrer-Policy: no-referrer" makes the browser send "Origin: null"
    with its forms, which Django's origin check refuses. Such a request is taken as the
    site's own when the browser says so in Sec-Fetch-Site (a header no page can set);
    the CSRF token (cookie and form) is checked as for every other request."""

    def _origin_verified(self, request: HttpRequest) -> bool:
        if (
            request.META.get("HTTP_ORIGIN") == "null"
            and request.META.get("HTTP_SEC_FETCH_SITE") == "same-origin"
        ):
            return True
        return super()._origin_verified(request)  # type: ignore[misc]

    def _reject(self, request: HttpRequest, reason: str) -> HttpResponse:
        response = import_string(settings.CSRF_FAILURE_VIEW)(request, reason=reason)
        logger.warning("Forbidden (%s): a document link's page", reason)
        response._has_been_logged = True  # the request's path is not logged either
        return response


def csrf_protect_quietly(view: Callable[..., HttpResponse]) -> Callable[..., Any]:
    """CSRF protection for a link's form, exactly Django's, but refused without logging the
    token: the view is exempt from the site-wide middleware and checked by this one."""
    return csrf_exempt(decorator_from_middleware(_QuietCsrfMiddleware)(view))


def logo_data_uri(logo: Any) -> str:
    """The business's logo as a data: URI, for a page without a login: the uploads are
    served to signed-in users only (otb/media.py). Empty without a logo or when it cannot
    be read."""
    if not logo:
        return ""
    try:
        with logo.open("rb") as file:
            content = file.read(LOGO_MAX_BYTES + 1)
    except OSError:
        return ""
    if len(content) > LOGO_MAX_BYTES:
        return ""
    content_type = mimetypes.guess_type(logo.name)[0] or "application/octet-stream"
    return f"data:{content_type};base64,{base64.b64encode(content).decode()}"


def with_business(context: dict[str, Any] | None = None) -> dict[str, Any]:
    """``context`` with what every client's page shows: the business and its logo (a
    data: URI, read from storage), unless it holds them already (the portal's page context
    does), so that a page reads the logo once."""
    context = context or {}
    if "logo_url" in context:
        return context
    business = get_business_settings()
    return {"business": business, "logo_url": logo_data_uri(business.logo), **context}


def pdf_response(content: Callable[[], bytes], *, filename: str, what: str) -> HttpResponse:
    """A link's PDF, made by ``content``, shown inline; when it cannot be made (WeasyPrint
    and Pango raise many kinds), a plain 503 saying to try again, never a 500."""
    try:
        body = content()
    except Exception:
        logger.exception("Could not render the PDF of %s for its link", what)
        return private(
            HttpResponse(
                _("The PDF could not be made just now; try again later."),
                status=503,
                content_type="text/plain; charset=utf-8",
            )
        )
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return private(response)
