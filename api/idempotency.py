"""``Idempotency-Key``: a client that did not get the answer to a create (a timeout, a
dropped connection) sends it again with the same key and gets the first answer, instead of
a second invoice or payment."""

from __future__ import annotations

import functools
import hashlib
import json

from django.db import IntegrityError
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from otb.operations import operation

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


def _replay(record: IdempotentRequest, fingerprint: str) -> Response:
    if record.fingerprint != fingerprint:
        raise ApiError(
            _("This Idempotency-Key was already used for a different request."),
            code="idempotency_key_reused",
            status_code=status.HTTP_409_CONFLICT,
        )
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


def idempotent(view_method):
    """Decorate a view's create method to honour the Idempotency-Key header."""

    @functools.wraps(view_method)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view_method(view, request, *args, **kwargs)
        key = key.strip()
        if not key or len(key) > MAX_KEY_LENGTH:
            raise ApiError(
                _("Idempotency-Key: give 1 to %(n)d characters.") % {"n": MAX_KEY_LENGTH},
                code="invalid",
                status_code=status.HTTP_400_BAD_REQUEST,
                field=HEADER,
            )
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
