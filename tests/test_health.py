"""/healthz answers the installer and monitors without a login."""

import re
from pathlib import Path

import pytest
from django.db import DatabaseError

from otb import version
from otb.version import app_version


@pytest.mark.django_db
def test_health_answers_ok_with_the_version_without_a_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "version": app_version()}
    assert "no-cache" in response["Cache-Control"]


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
