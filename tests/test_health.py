"""/healthz answers the installer and monitors without a login."""

import pytest
from django.db import DatabaseError

from otb.version import app_version


@pytest.mark.django_db
def test_health_answers_ok_with_the_version_without_a_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "version": app_version()}
    assert "no-cache" in response["Cache-Control"]


def test_the_version_is_the_one_in_pyproject():
    import tomllib

    from otb.version import PYPROJECT

    with open(PYPROJECT, "rb") as fh:
        assert app_version() == tomllib.load(fh)["project"]["version"]


@pytest.mark.django_db
def test_health_says_503_when_the_database_does_not_answer(client, monkeypatch):
    from django.db.backends.utils import CursorWrapper

    def refuse(self, sql, params=None):
        raise DatabaseError("gone")

    monkeypatch.setattr(CursorWrapper, "execute", refuse)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"


@pytest.mark.django_db
def test_health_only_answers_get(client):
    assert client.post("/healthz").status_code == 405
