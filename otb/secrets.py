"""Secrets at rest (SPEC: Access): the SMTP password, and a reset link waiting in the outbox,
are stored encrypted (Fernet: AES-128-CBC with an HMAC, from ``cryptography``) with a key
from the environment, so a copy of the database or a backup holds no secret in clear.

``OTB_ENCRYPTION_KEYS``: one or more Fernet keys, comma-separated. The first encrypts; all
are tried to decrypt, so a new key goes first and the old ones stay until
``manage.py reencrypt_secrets`` has written every secret again with the new one. Without
the setting, one key is derived from SECRET_KEY (changing SECRET_KEY then loses the
secrets; SECURITY.md). A value no key opens reads as empty: the settings page then asks for
the SMTP password again.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import logging

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models

from audit import recording as audit

from .operations import operation

log = logging.getLogger(__name__)

PREFIX = "fernet:"


def _derived_key() -> bytes:
    digest = hashlib.sha256(b"otb-billing secrets at rest\0" + settings.SECRET_KEY.encode())
    return base64.urlsafe_b64encode(digest.digest())


@functools.cache
def _fernet(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    try:
        fernets = [Fernet(key.strip().encode()) for key in keys if key.strip()]
    except ValueError:
        raise ImproperlyConfigured(
            "OTB_ENCRYPTION_KEYS: each key must be 32 url-safe base64-encoded bytes; make "
            "one with: manage.py reencrypt_secrets --new-key"
        ) from None
    return MultiFernet(fernets or [Fernet(_derived_key())])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.OTB_ENCRYPTION_KEYS), settings.SECRET_KEY)


def encrypt(value: str) -> str:
    if not value:
        return ""
    return PREFIX + fernet().encrypt(value.encode()).decode()


class UndecryptableSecret(Exception):
    pass


def decrypt(stored: str) -> str:
    """The clear text of ``stored``; "" when no key opens it. A value stored in clear
    (before encryption came) is returned as it is."""
    if not stored:
        return ""
    if not stored.startswith(PREFIX):
        return stored
    try:
        return fernet().decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken:
        log.error("A secret could not be decrypted with OTB_ENCRYPTION_KEYS: it reads as empty.")
        return ""


def rotated(stored: str) -> str:
    """``stored`` encrypted again with the first key (clear text encrypted for the first
    time); raises UndecryptableSecret if no key opens it."""
    if not stored:
        return ""
    if not stored.startswith(PREFIX):
        return encrypt(stored)
    try:
        return PREFIX + fernet().rotate(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken:
        raise UndecryptableSecret from None


class EncryptedTextField(models.TextField):
    """Text stored encrypted; in Python it is the clear text."""

    def from_db_value(self, value, expression, connection):
        return decrypt(value) if value is not None else value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return encrypt(value) if value else (value or "")


def encrypted_fields() -> list[tuple[type[models.Model], EncryptedTextField]]:
    """Every (model, field) stored with EncryptedTextField, in every app."""
    from django.apps import apps

    return [
        (model, field)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedTextField)
    ]


@operation
def reencrypt_all() -> tuple[int, int]:
    """Write every stored secret again with the first key (``manage.py reencrypt_secrets``,
    after a new key was put first in OTB_ENCRYPTION_KEYS): how many were written, and how
    many no key opens (left as they are; they read as empty)."""
    written = unreadable = 0
    for model, field in encrypted_fields():
        column = quote(field.column)
        table = quote(model._meta.db_table)
        pk = quote(model._meta.pk.column)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {pk}, {column} FROM {table}")
            for key, stored in cursor.fetchall():
                if not stored:
                    continue
                try:
                    new = rotated(stored)
                except UndecryptableSecret:
                    unreadable += 1
                    continue
                cursor.execute(f"UPDATE {table} SET {column} = %s WHERE {pk} = %s", [new, key])
                written += 1
    audit.event(
        "secrets re-encrypted",
        subject="OTB_ENCRYPTION_KEYS",
        details={"written": written, "unreadable": unreadable},
    )
    return written, unreadable


def quote(name: str) -> str:
    return connection.ops.quote_name(name)
