"""manage.py create_user and the create_user operation behind it."""

import re
from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.roles import ROLES
from accounts.services import create_user
from otb.operations import NotPermitted

pytestmark = pytest.mark.django_db
User = get_user_model()
STRONG = "Hedgehog-Copper-Lantern-42"


def run(*args, **kwargs) -> str:
    out = StringIO()
    call_command("create_user", *args, stdout=out, **kwargs)
    return out.getvalue()


def group_names(username) -> set[str]:
    return set(User.objects.get(username=username).groups.values_list("name", flat=True))


@pytest.mark.parametrize("role", sorted(ROLES))
def test_each_role_gets_exactly_its_group_and_staff_status(role):
    run("carla", "--role", role, "--password", STRONG, "--email", "carla@example.com")
    user = User.objects.get(username="carla")
    assert group_names("carla") == {ROLES[role]}
    assert user.is_staff
    assert user.is_active
    assert not user.is_superuser
    assert user.email == "carla@example.com"
    assert user.check_password(STRONG)


def test_random_password_is_printed_and_logs_in():
    output = run("dana", "--role", "bookkeeper", "--random-password")
    match = re.search(r"^Password for dana: (\S+)$", output, re.MULTILINE)
    assert match, output
    password = match.group(1)
    assert len(password) >= 20
    assert authenticate(username="dana", password=password) is not None


def test_weak_password_is_refused_with_the_reason_and_no_user_is_created():
    with pytest.raises(CommandError, match="too short"):
        run("erin", "--role", "viewer", "--password", "abc")
    assert not User.objects.filter(username="erin").exists()


def test_common_password_is_refused():
    with pytest.raises(CommandError, match="too common"):
        run("erin", "--role", "viewer", "--password", "password123")


def test_missing_password_source_is_refused_with_what_to_do(monkeypatch):
    monkeypatch.delenv("OTB_ADMIN_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="--password or --random-password"):
        run("fred", "--role", "viewer")
    assert not User.objects.filter(username="fred").exists()


def test_password_may_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("OTB_ADMIN_PASSWORD", STRONG)
    run("gina", "--role", "administrator")
    assert User.objects.get(username="gina").check_password(STRONG)


def test_existing_user_without_reset_is_refused_and_unchanged():
    run("hank", "--role", "viewer", "--password", STRONG)
    with pytest.raises(CommandError, match="User hank already exists; use --reset"):
        run("hank", "--role", "administrator", "--password", "Another-Strong-Pass-77")
    user = User.objects.get(username="hank")
    assert user.check_password(STRONG)
    assert group_names("hank") == {ROLES["viewer"]}


def test_reset_sets_new_password_and_replaces_the_role():
    run("ivan", "--role", "administrator", "--password", STRONG)
    run("ivan", "--role", "viewer", "--password", "Another-Strong-Pass-77", "--reset")
    user = User.objects.get(username="ivan")
    assert user.check_password("Another-Strong-Pass-77")
    assert group_names("ivan") == {ROLES["viewer"]}


def test_reset_of_a_superuser_to_a_lesser_role_takes_away_superuser():
    User.objects.create_superuser("root2", password=STRONG)
    run("root2", "--role", "bookkeeper", "--password", STRONG, "--reset")
    user = User.objects.get(username="root2")
    assert not user.is_superuser
    assert not user.has_perm("settings_app.change_businesssettings")


def test_unknown_role_is_refused():
    with pytest.raises(CommandError, match="invalid choice"):
        run("jill", "--role", "owner", "--password", STRONG)
    assert not User.objects.filter(username="jill").exists()


def test_unknown_role_given_as_keyword_is_refused():
    with pytest.raises(CommandError, match="invalid choice"):
        run("jill", role="owner", password=STRONG)


def test_invalid_username_is_refused_with_the_field():
    with pytest.raises(CommandError, match="Username"):
        run("bad name!", "--role", "viewer", "--password", STRONG)


def test_bookkeeper_may_not_create_users(bookkeeper):
    with pytest.raises(NotPermitted):
        create_user(username="kim", role="viewer", password=STRONG, acting_user=bookkeeper)
    assert not User.objects.filter(username="kim").exists()


def test_administrator_may_create_users(administrator):
    user = create_user(
        username="kim", role="bookkeeper", password=STRONG, acting_user=administrator
    )
    assert group_names(user.username) == {ROLES["bookkeeper"]}
