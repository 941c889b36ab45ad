"""``Idempotency-Key``: a client that did not get the answer to a create (a timeout, a
dropped connection) sends it again with the same key and gets the first answer, instead of
a second invoice or payment.

Two kinds: ``idempotent`` keeps the first answer itself and gives it back as it was;
``idempotent_resource`` keeps which row the first request made and answers with that row as
it is now (an e-mail, whose delivery goes on after the request).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from otb.operations import DomainError, operation

from .errors import ApiError
from .models import IdempotentRequest

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
REPLAYED_HEADER = "Idempotent-Replayed"


class _Replay(Exception):
    def __init__(self, record: IdempotentRequest):
        self.record = record


def _fingerprint(request) -> str:
    body = json.dumps(request.data, sort_keys=True, cls=JSONEncoder)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _check_same_request(record: IdempotentRequest, fingerprint: str) -> None:
    if record.fingerprint != fingerprint:
        raise ApiError(
            _("This Idempotency-Key was already used for a different request."),
            code="idempotency_key_reused",
            status_code=status.HTTP_409_CONFLICT,
        )


def _replay(record: IdempotentRequest, fingerprint: str) -> Response:
    _check_same_request(record, fingerprint)
    return Response(
        record.response_body, status=record.response_status, headers={REPLAYED_HEADER: "true"}
    )


@operation
def _run_once(*, user, key: str, fingerprint: str, create) -> Response:
    """Claim the key, create, keep the answer: one transaction, so a failed create keeps
    nothing and the key can be sent again. The key is claimed first: a concurrent request
    with the same key waits on the unique index until this one commits, then fails with
    IntegrityError and replays this answer (instead of being refused by the invoice this
    one paid)."""
    record = IdempotentRequest.objects.select_for_update().filter(user=user, key=key).first()
    if record is not None:
        raise _Replay(record)
    record = IdempotentRequest.objects.create(
        user=user, key=key, fingerprint=fingerprint, response_status=0, response_body={}
    )
    response = create()
    # Through the JSON encoder: what is stored is exactly what was sent.
    record.response_body = json.loads(json.dumps(response.data, cls=JSONEncoder))
    record.response_status = response.status_code
    record.save(update_fields=["response_body", "response_status"])
    return response


def _key(request) -> str | None:
    """The request's Idempotency-Key, checked; None when it has none."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ApiError(
            _("Idempotency-Key: give 1 to %(n)d characters.") % {"n": MAX_KEY_LENGTH},
            code="invalid",
            status_code=status.HTTP_400_BAD_REQUEST,
            field=HEADER,
        )
    return key


def idempotent(view_method):
    """Decorate a view's create method to honour the Idempotency-Key header."""

    @functools.wraps(view_method)
    def wrapper(view, request, *args, **kwargs):
        key = _key(request)
        if key is None:
            return view_method(view, request, *args, **kwargs)
        fingerprint = _fingerprint(request)
        try:
            return _run_once(
                user=request.user,
                key=key,
                fingerprint=fingerprint,
                create=lambda: view_method(view, request, *args, **kwargs),
            )
        except _Replay as replay:
            return _replay(replay.record, fingerprint)
        except IntegrityError:
            record = IdempotentRequest.objects.filter(user=request.user, key=key).first()
            if record is None:
                raise
            return _replay(record, fingerprint)

    return wrapper


def _ids(made: Any) -> int | list[int]:
    """The id of the row made, or the ids of the rows made."""
    return [row.pk for row in made] if isinstance(made, list) else made.pk


def idempotent_resource(*, render: Callable[[Any], Any], status_code: int):
    """Decorate a view's write whose answer is the state *now* of the row it made: an e-mail
    is delivered after the write commits, retried later or by a person, so a first answer
    kept as it was would soon be wrong.

    The view method gets ``remember``: None without a key, else a function to call with the
    new row (or list of rows) inside the transaction that writes it, which keeps the key
    with the row's id (the rows' ids) (committed with the rows or not at all). It returns the
    row (the rows). The answer, first and replayed, is ``render(id)`` (``render(ids)``), read
    once everything has committed."""

    def decorator(view_method):
        @functools.wraps(view_method)
        def wrapper(view, request, *args, **kwargs):
            key = _key(request)
            if key is None:
                row = view_method(view, request, *args, remember=None, **kwargs)
                return Response(render(_ids(row)), status=status_code)
            fingerprint = _fingerprint(request)
            record = IdempotentRequest.objects.filter(user=request.user, key=key).first()
            if record is None:

                def remember(row) -> None:
                    IdempotentRequest.objects.create(
                        user=request.user,
                        key=key,
                        fingerprint=fingerprint,
                        response_status=status_code,
                        response_body={"id": _ids(row)},
                    )

                try:
                    row = view_method(view, request, *args, remember=remember, **kwargs)
                except (IntegrityError, DomainError):
                    # Refused, or the same key at the same moment: the other request's row
                    # is the answer when it got there first.
                    record = IdempotentRequest.objects.filter(user=request.user, key=key).first()
                    if record is None:
                        raise
                else:
                    return Response(render(_ids(row)), status=status_code)
            _check_same_request(record, fingerprint)
            return Response(
                render(record.response_body["id"]),
                status=record.response_status,
                headers={REPLAYED_HEADER: "true"},
            )

        return wrapper

    return decorator
