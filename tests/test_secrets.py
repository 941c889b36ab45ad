"""Secrets at rest (SPEC: Access): the SMTP password is stored encrypted with a key from
the environment; the key can change (reencrypt_secrets); backups carry no live session, no
second-factor secret and no secret in clear."""

import sqlite3
import tarfile

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from otb import secrets
from settings_app.models import BusinessSettings
from settings_app.selectors import get_business_settings
from settings_app.services import update_business_settings

pytestmark = pytest.mark.django_db

PASSWORD = "smtp-Secret-2026"


def stored_password() -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT smtp_password FROM {BusinessSettings._meta.db_table} WHERE id = %s",
            [BusinessSettings.SINGLETON_PK],
        )
        return cursor.fetchone()[0]


@pytest.fixture
def keys(settings):
    """Two keys of its own for the test, the first encrypting."""
    first, second = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.OTB_ENCRYPTION_KEYS = [first]
    return first, second


def test_the_smtp_password_is_stored_encrypted(business, keys):
    update_business_settings(acting_user=None, smtp_password=PASSWORD)

    raw = stored_password()
    assert raw.startswith("fernet:") and PASSWORD not in raw
    assert get_business_settings().smtp_password == PASSWORD


def test_a_new_key_first_and_reencrypt_secrets_moves_every_secret_to_it(business, keys, settings):
    first, second = keys
    update_business_settings(acting_user=None, smtp_password=PASSWORD)
    settings.OTB_ENCRYPTION_KEYS = [second, first]

    call_command("reencrypt_secrets")

    settings.OTB_ENCRYPTION_KEYS = [second]  # the old key removed
    assert get_business_settings().smtp_password == PASSWORD


def test_without_the_key_the_password_reads_as_empty_and_the_command_says_so(
    business, keys, settings
):
    update_business_settings(acting_user=None, smtp_password=PASSWORD)
    settings.OTB_ENCRYPTION_KEYS = [keys[1]]

    assert get_business_settings().smtp_password == ""
    with pytest.raises(CommandError, match="1 secret.s. could not be opened"):
        call_command("reencrypt_secrets")


def test_a_password_stored_in_clear_by_an_earlier_version_is_read_and_then_encrypted(
    business, keys
):
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {BusinessSettings._meta.db_table} SET smtp_password = %s", ["old-clear"]
        )
    assert get_business_settings().smtp_password == "old-clear"

    call_command("reencrypt_secrets")

    assert stored_password().startswith("fernet:")
    assert get_business_settings().smtp_password == "old-clear"


def test_a_bad_key_is_a_clear_configuration_error(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.OTB_ENCRYPTION_KEYS = ["not-a-key"]
    with pytest.raises(ImproperlyConfigured, match="OTB_ENCRYPTION_KEYS"):
        secrets.encrypt("x")


def test_new_key_prints_a_usable_key(capsys):
    call_command("reencrypt_secrets", "--new-key")
    Fernet(capsys.readouterr().out.strip().encode())


@pytest.mark.skipif(connection.vendor != "sqlite", reason="reads the SQLite copy in the archive")
@pytest.mark.django_db(transaction=True)
def test_a_backup_holds_no_session_no_second_factor_and_no_clear_secret(
    migration_rows, business, administrator, client, tmp_path, settings
):
    from accounts import second_factor
    from maintenance.archive import write_backup

    settings.MEDIA_ROOT = tmp_path / "media"
    update_business_settings(acting_user=None, smtp_password=PASSWORD)
    client.force_login(administrator)  # a live session
    second_factor.begin_setup(user=administrator)

    archive = write_backup(tmp_path / "backups")

    with tarfile.open(archive) as tar:
        (tmp_path / "copy.sqlite3").write_bytes(tar.extractfile("database.sqlite3").read())
    copy = sqlite3.connect(tmp_path / "copy.sqlite3")
    try:
        for table in ("django_session", "otp_totp_totpdevice", "otp_static_statictoken"):
            assert copy.execute(f"SELECT COUNT(*) FROM {table}").fetchone() == (0,), table
        assert copy.execute("SELECT COUNT(*) FROM auth_user").fetchone() == (1,)
    finally:
        copy.close()
    assert PASSWORD.encode() not in (tmp_path / "copy.sqlite3").read_bytes()


@pytest.mark.skipif(connection.vendor != "mysql", reason="reads the MariaDB dump in the archive")
@pytest.mark.django_db(transaction=True)
def test_a_mariadb_backup_holds_no_session_no_second_factor_and_no_clear_secret(
    migration_rows, business, administrator, client, tmp_path, settings
):
    from accounts import second_factor
    from maintenance.archive import write_backup

    settings.MEDIA_ROOT = tmp_path / "media"
    update_business_settings(acting_user=None, smtp_password=PASSWORD)
    client.force_login(administrator)
    second_factor.begin_setup(user=administrator)

    archive = write_backup(tmp_path / "backups")

    with tarfile.open(archive) as tar:
        dump = tar.extractfile("database.sql").read().decode()
    assert "CREATE TABLE `django_session`" in dump  # a restore has the table, empty
    for table in ("django_session", "otp_totp_totpdevice", "otp_static_statictoken"):
        assert f"INSERT INTO `{table}`" not in dump, table
    assert "INSERT INTO `auth_user`" in dump
    assert PASSWORD not in dump
