"""make release (scripts/release.sh): a zip of the tagged tree, refused when the project's
own documents do not name the version."""

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from otb.version import app_version

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "release.sh"

PYPROJECT = '[project]\nname = "otb-billing"\nversion = "{v}"\n'
STATE = "# OTB Billing – Project State\n\n- Version: {v}\n- Status: fine\n"
README = "# OTB Billing\n\n## Changelog\n\n### {v} — 2026-11-25\n\n- Things.\n"


def git(repo, *args):
    subprocess.run(
        ["git", "-c", "user.name=CI", "-c", "user.email=ci@example.com", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def repo(tmp_path):
    """A small repository with the release script, its documents at version 1.2.3."""
    (tmp_path / "scripts").mkdir()
    shutil.copy(SCRIPT, tmp_path / "scripts" / "release.sh")
    git(tmp_path, "init", "-q", "-b", "main")
    return tmp_path


def commit(repo, version="1.2.3", state=None, readme=None, tag="v1.2.3"):
    (repo / "pyproject.toml").write_text(PYPROJECT.format(v=version))
    (repo / "PROJECT_STATE.md").write_text(state or STATE.format(v=version))
    (repo / "README.md").write_text(readme or README.format(v=version))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "release")
    if tag:
        git(repo, "tag", "-a", tag, "-m", tag)


def release(repo, *args):
    return subprocess.run(
        ["bash", "scripts/release.sh", *args], cwd=repo, capture_output=True, text=True
    )


def test_the_zip_holds_the_tagged_tree_under_one_folder(repo):
    commit(repo)
    (repo / "untracked.txt").write_text("not released")
    result = release(repo)
    assert result.returncode == 0, result.stderr
    archive = repo / "dist" / "otb_billing-v1.2.3.zip"
    with zipfile.ZipFile(archive) as zf:
        names = set(zf.namelist())
        assert "otb_billing-v1.2.3/PROJECT_STATE.md" in names
        assert "otb_billing-v1.2.3/scripts/release.sh" in names
        assert not any("untracked" in n for n in names)
    digest = (repo / "dist" / "otb_billing-v1.2.3.zip.sha256").read_text()
    assert re.match(r"^[0-9a-f]{64}  dist/otb_billing-v1.2.3.zip$", digest.strip())


@pytest.mark.parametrize(
    ("state", "readme", "message"),
    [
        (STATE.format(v="1.2.2"), None, "PROJECT_STATE.md at v1.2.3 does not name the version"),
        (None, README.format(v="1.2.2"), "README changelog at v1.2.3 has no entry"),
        (None, "# OTB Billing\n\nMentions 1.2.3 only in passing.\n", "has no entry"),
    ],
)
def test_a_document_without_the_version_refuses_the_release(repo, state, readme, message):
    commit(repo, state=state, readme=readme)
    result = release(repo)
    assert result.returncode == 1
    assert message in result.stderr
    assert not (repo / "dist").exists()


def test_without_the_tag_there_is_no_release(repo):
    commit(repo, tag=None)
    result = release(repo)
    assert result.returncode == 1
    assert "there is no tag v1.2.3" in result.stderr
    assert not (repo / "dist").exists()


def test_the_tag_decides_not_the_working_tree(repo):
    commit(repo, state=STATE.format(v="1.2.2"))
    # Fixed after tagging but not tagged again: still refused, the zip would hold the old file.
    (repo / "PROJECT_STATE.md").write_text(STATE.format(v="1.2.3"))
    result = release(repo)
    assert result.returncode == 1
    assert "PROJECT_STATE.md at v1.2.3" in result.stderr


def test_a_version_that_is_not_x_y_z_is_refused(repo):
    commit(repo)
    result = release(repo, "1.2")
    assert result.returncode == 1
    assert "“1.2” is not a version X.Y.Z" in result.stderr


def test_this_projects_documents_name_its_version():
    """What make release checks, on the working tree: PROJECT_STATE.md and the changelog
    are updated with every version change."""
    version = app_version()
    state = (ROOT / "PROJECT_STATE.md").read_text()
    readme = (ROOT / "README.md").read_text()
    assert re.search(rf"^- Version: {re.escape(version)}\b", state, re.M)
    assert re.search(rf"^### {re.escape(version)}( |$)", readme, re.M)


def test_long_documents_that_name_the_version_early_are_accepted(repo):
    """The version's line near the top of a long README or PROJECT_STATE (as the real ones
    are: hundreds of kilobytes behind it): the check reads the whole file, where a grep that
    quit at its first match cut the pipe and failed the release under pipefail."""
    filler = "".join(
        f"- an older line {n} of text that goes on for a while\n" for n in range(20000)
    )
    commit(
        repo,
        state=STATE.format(v="1.2.3") + filler,
        readme=README.format(v="1.2.3") + filler,
    )
    result = release(repo)
    assert result.returncode == 0, result.stderr
