"""Every error of the API as JSON: ``{"code": ..., "detail": ..., "errors": {field: [...]}}``.

Refusals of the operations (``DomainError``) map to 400 (bad input), 403 (not permitted),
404 (not found) or 409 (refused by a rule: locked, invalid transition, credit insufficient).
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, InterfaceError, OperationalError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response

from otb.operations import DomainError, InvalidInput, NotPermitted, is_retryable

log = logging.getLogger(__name__)

NON_FIELD = "__all__"
INVALID_INPUT = _("Some fields are not valid; see “errors”.")


class ApiError(exceptions.APIException):
    """A refusal of the API itself (not of an operation), with its own code."""

    def __init__(self, detail: str, *, code: str, status_code: int, field: str | None = None):
        super().__init__(detail, code)
        self.status_code = status_code
        self.error_code = code
        self.field = field


def flatten(errors, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested errors as dotted keys, as the operations name them ("lines.0.quantity")."""
    flat: dict[str, list[str]] = {}
    if isinstance(errors, dict):
        for key, value in errors.items():
            name = NON_FIELD if key == "non_field_errors" else str(key)
            flat.update(flatten(value, f"{prefix}.{name}" if prefix else name))
    elif isinstance(errors, list) and errors and all(isinstance(e, str) for e in errors):
        flat[prefix or NON_FIELD] = [str(e) for e in errors]
    elif isinstance(errors, list):
        for index, value in enumerate(errors):
            if value:
                flat.update(flatten(value, f"{prefix}.{index}" if prefix else str(index)))
    else:
        flat[prefix or NON_FIELD] = [str(errors)]
    return flat


def error_body(code: str, detail: str, errors: dict[str, list[str]] | None = None) -> dict:
    return {"code": code, "detail": detail, "errors": errors or {}}


def _domain_status(exc: DomainError) -> int:
    if isinstance(exc, InvalidInput):
        return status.HTTP_400_BAD_REQUEST
    if isinstance(exc, NotPermitted):
        return status.HTTP_403_FORBIDDEN
    if exc.code == "not_found":
        return status.HTTP_404_NOT_FOUND
    return status.HTTP_409_CONFLICT


def exception_handler(exc, context):
    if isinstance(exc, InvalidInput):
        return Response(
            error_body(exc.code, exc.message, exc.errors), status=status.HTTP_400_BAD_REQUEST
        )
    if isinstance(exc, DomainError):
        errors = {exc.field or NON_FIELD: [exc.message]}
        return Response(error_body(exc.code, exc.message, errors), status=_domain_status(exc))
    if isinstance(exc, ApiError):
        errors = {exc.field: [str(exc.detail)]} if exc.field else {}
        return Response(error_body(exc.error_code, str(exc.detail), errors), status=exc.status_code)
    if isinstance(exc, exceptions.ValidationError):
        return Response(
            error_body("invalid", INVALID_INPUT, flatten(exc.detail)),
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.APIException):
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
        code = exc.get_codes()
        return Response(
            error_body(code if isinstance(code, str) else exc.default_code, str(exc.detail)),
            status=exc.status_code,
            headers=headers,
        )
    if isinstance(exc, IntegrityError):
        # A concurrent request wrote the same unique value between our check and our write.
        log.warning("API write refused by a constraint: %s", exc)
        return Response(
            error_body("conflict", _("Another change got there first; try again.")),
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, OperationalError) and is_retryable(exc):
        # Still deadlocked after the retries of @operation: the server is busy.
        log.warning("API write failed: %s", exc)
        return Response(
            error_body("busy", _("The server is busy; try again in a moment.")),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "1"},
        )
    if isinstance(exc, OperationalError | InterfaceError):
        # The connection to the database broke (a cluster node went away) or the node is
        # not ready: whatever this request wrote was committed whole or not at all, so the
        # client may send it again (with its Idempotency-Key, a create happens once).
        log.warning("API request failed, database unavailable: %s", exc)
        return Response(
            error_body(
                "unavailable", _("The database could not be reached; try again in a moment.")
            ),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "1"},
        )
    return None
