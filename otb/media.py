"""Uploaded files (the logo) served by the app, never from a public folder (SPEC: Access):
to logged-in users now; portal sessions and valid document links join them through
``may_read_upload``. Neither gunicorn nor the nginx example serves MEDIA_ROOT itself."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest

# An uploaded SVG is a document: opened on its own it must run nothing.
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def may_read_upload(request: HttpRequest, name: str) -> bool:
    """Who may read an uploaded file: the one access rule for uploads. (Every URL already
    needs a logged-in user, LoginRequiredMiddleware; this is where the portal's sessions
    and document links will be let in.)"""
    return request.user.is_authenticated


def uploaded_file(request: HttpRequest, path: str) -> FileResponse:
    root = Path(settings.MEDIA_ROOT).resolve()
    try:
        target = (root / path).resolve(strict=True)
    except (OSError, RuntimeError, ValueError):
        raise Http404 from None
    # Inside MEDIA_ROOT only: "..", absolute paths and symlinks out of it are not files here.
    if root not in target.parents or not target.is_file():
        raise Http404
    name = target.relative_to(root).as_posix()
    if not may_read_upload(request, name):
        raise Http404
    content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    response = FileResponse(target.open("rb"), content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    if content_type == "image/svg+xml":
        response["Content-Security-Policy"] = SVG_POLICY
    return response
