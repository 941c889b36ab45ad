"""/healthz answers the installer and monitors without a login."""

import re
from pathlib import Path

import pytest
from django.db import DatabaseError

from otb import version
from otb.version import app_version


@pytest.mark.django_db
def test_health_answers_ok_with_the_version_on_this_machine_without_a_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "version": app_version()}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "where",
    [
        {"REMOTE_ADDR": "203.0.113.9"},
        # Through nginx on this machine: the caller is the address nginx saw.
        {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9"},
    ],
)
def test_health_gives_no_version_to_an_anonymous_caller_from_elsewhere(client, where):
    response = client.get("/healthz", **where)
    assert response.json() == {"status": "ok", "database": "ok"}


@pytest.mark.django_db
def test_health_gives_the_version_to_a_signed_in_user(client, administrator):
    client.force_login(administrator)
    response = client.get("/healthz", REMOTE_ADDR="203.0.113.9")
    assert response.json()["version"] == app_version()


def test_the_version_is_the_one_written_in_this_projects_pyproject():
    text = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text()
    project_table = text.split("[project]\n", 1)[1].split("\n[", 1)[0]
    [written] = re.findall(r'^version = "([^"]+)"$', project_table, re.M)
    assert app_version() == written


def test_the_version_is_whatever_the_pyproject_file_says(tmp_path, monkeypatch):
    project = tmp_path / "pyproject.toml"
    project.write_text('[project]\nname = "otb-billing"\nversion = "7.8.9"\n')
    monkeypatch.setattr(version, "PYPROJECT", project)
    app_version.cache_clear()
    try:
        assert app_version() == "7.8.9"
    finally:
        app_version.cache_clear()


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
