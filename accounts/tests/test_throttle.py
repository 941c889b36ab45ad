"""Throttled sign-in (SPEC: Access): a few failures, then a pause that grows."""

import datetime

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from accounts import throttle
from accounts.models import SignInThrottle
from api.models import ApiToken
from audit.addresses import client_address

pytestmark = pytest.mark.django_db

RIGHT = "pw-for-tests-1"
LOCKED = "Too many failed attempts. Try again in"


def sign_in(client, password, username="admin1", url=None, **extra):
    return client.post(
        url or reverse("login"), {"username": username, "password": password}, **extra
    )


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_dozens_of_wrong_passwords_then_the_right_one_waits(client, administrator):
    for attempt in range(36):
        response = sign_in(client, f"wrong-{attempt}")
        assert response.status_code == 200
        assert not signed_in(client)

    response = sign_in(client, RIGHT)

    assert not signed_in(client)
    assert f"{LOCKED} 1 minute." in response.text
    # Only the failures before the lock count: trying during a lock does not lengthen it.
    assert SignInThrottle.objects.get(key="account:admin1").failures == 6


def test_the_first_failures_are_free_and_the_wrong_password_message_stays(client, administrator):
    for attempt in range(5):
        response = sign_in(client, f"wrong-{attempt}")
        assert "Please enter a correct username and password" in response.text
        assert LOCKED not in response.text

    response = sign_in(client, RIGHT)

    assert response.status_code == 302
    assert signed_in(client)
    # The account's failures are forgotten; its address's are not.
    assert not SignInThrottle.objects.filter(key="account:admin1").exists()
    assert SignInThrottle.objects.get(key="address:127.0.0.1").failures == 5


def test_each_further_failure_doubles_the_wait(client, administrator):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        for attempt in range(5):
            sign_in(client, f"wrong-{attempt}")
        waits = []
        for attempt in range(4):
            response = sign_in(client, f"still-wrong-{attempt}")
            assert LOCKED in response.text
            row = SignInThrottle.objects.get(key="account:admin1")
            waits.append(row.locked_until - timezone.now())
            traveller.shift(row.locked_until - timezone.now() + datetime.timedelta(seconds=1))

        assert waits == [datetime.timedelta(minutes=m) for m in (1, 2, 4, 8)]
        # The lock has passed: the right password works again.
        sign_in(client, RIGHT)
        assert signed_in(client)


def test_the_wait_never_passes_the_longest_pause(settings):
    settings.OTB_SIGNIN_MAX_PAUSE = 3600
    assert throttle.pause_after(5, free=5) is None
    assert throttle.pause_after(6, free=5) == datetime.timedelta(minutes=1)
    assert throttle.pause_after(200, free=5) == datetime.timedelta(hours=1)


def test_a_day_without_failure_starts_again_from_nothing(client, administrator):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        for attempt in range(5):
            sign_in(client, f"wrong-{attempt}")
        traveller.shift(datetime.timedelta(days=1, seconds=1))
        response = sign_in(client, "wrong-again")

    assert LOCKED not in response.text
    assert SignInThrottle.objects.get(key="account:admin1").failures == 1


def test_an_address_guessing_many_accounts_is_locked_for_all_of_them(
    client, administrator, settings
):
    settings.OTB_SIGNIN_FREE_FAILURES_PER_ADDRESS = 8
    for attempt in range(9):
        sign_in(client, "wrong", username=f"someone-{attempt}", REMOTE_ADDR="203.0.113.9")

    response = sign_in(client, RIGHT, REMOTE_ADDR="203.0.113.9")
    assert LOCKED in response.text
    assert not signed_in(client)

    sign_in(client, RIGHT, REMOTE_ADDR="198.51.100.4")
    assert signed_in(client)


def test_unknown_and_known_accounts_are_locked_alike(client, administrator):
    """The lock says nothing about whether an account exists."""
    for username in ("admin1", "nobody-here"):
        for _attempt in range(6):
            response = sign_in(client, "wrong", username=username)
        assert f"{LOCKED} 1 minute." in response.text


def test_the_back_office_sign_in_is_throttled_too(client, administrator):
    url = reverse("admin:login")
    for attempt in range(6):
        sign_in(client, f"wrong-{attempt}", url=url)

    response = sign_in(client, RIGHT, url=url)

    assert LOCKED in response.text
    assert not signed_in(client)


def test_unlock_user_lifts_the_lock(client, administrator):
    for attempt in range(8):
        sign_in(client, f"wrong-{attempt}")

    call_command("unlock_user", "admin1")

    sign_in(client, RIGHT)
    assert signed_in(client)


def test_unlock_user_refuses_an_unknown_user(administrator):
    with pytest.raises(CommandError, match="there is no user nobody"):
        call_command("unlock_user", "nobody")


def test_unlock_user_lifts_an_address_lock_when_asked(client, administrator, settings):
    settings.OTB_SIGNIN_FREE_FAILURES_PER_ADDRESS = 2
    for attempt in range(3):
        sign_in(client, "wrong", username=f"someone-{attempt}")
    assert LOCKED in sign_in(client, RIGHT).text

    call_command("unlock_user", "admin1", "--address", "127.0.0.1")

    sign_in(client, RIGHT)
    assert signed_in(client)


def test_the_back_office_lifts_a_lock(client, administrator, django_user_model):
    other = django_user_model.objects.create_user("locked1", password="pw-other-1")
    for _attempt in range(6):
        sign_in(client, "wrong", username="locked1")
    client.force_login(administrator)

    changelist = reverse("admin:accounts_signinthrottle_changelist")
    assert "account:locked1" in client.get(changelist).text
    row = SignInThrottle.objects.get(key="account:locked1")
    response = client.post(
        changelist, {"action": "lift", "_selected_action": [row.pk]}, follow=True
    )

    assert "lock(s) lifted" in response.text
    assert not SignInThrottle.objects.filter(key="account:locked1").exists()
    assert other.check_password("pw-other-1")


def test_the_user_admin_lifts_a_lock(client, administrator):
    for _attempt in range(6):
        sign_in(client, "wrong")
    client.force_login(administrator)

    client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "unlock", "_selected_action": [administrator.pk]},
    )

    assert not SignInThrottle.objects.filter(key="account:admin1").exists()


def test_a_bookkeeper_cannot_lift_locks(client, bookkeeper):
    SignInThrottle.objects.create(key="account:x", failures=9, last_failure_at=timezone.now())
    client.force_login(bookkeeper)

    response = client.get(reverse("admin:accounts_signinthrottle_changelist"))

    assert response.status_code == 403


# --- The API's tokens ------------------------------------------------------------------------
def test_wrong_api_tokens_are_throttled_per_address(client, administrator, settings):
    settings.OTB_SIGNIN_FREE_FAILURES_PER_ADDRESS = 5
    _token, key = ApiToken.objects.create_token(user=administrator)
    url = "/api/v1/clients/"
    for attempt in range(5):
        response = client.get(url, HTTP_AUTHORIZATION=f"Token wrong-{attempt}")
        assert response.status_code == 401

    response = client.get(url, HTTP_AUTHORIZATION="Token wrong-again")
    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    assert LOCKED in response.json()["detail"]
    # While locked, even the right key waits; another address does not.
    assert client.get(url, HTTP_AUTHORIZATION=f"Token {key}").status_code == 429
    response = client.get(url, HTTP_AUTHORIZATION=f"Token {key}", REMOTE_ADDR="198.51.100.4")
    assert response.status_code == 200


# --- Where a request comes from ----------------------------------------------------------
@pytest.mark.parametrize(
    ("remote", "forwarded", "expected"),
    [
        ("203.0.113.9", "", "203.0.113.9"),
        # A client far away cannot claim another address by sending the header itself.
        ("203.0.113.9", "10.0.0.1", "203.0.113.9"),
        # Behind nginx on this machine: the address nginx saw, the last one it appended.
        ("127.0.0.1", "198.51.100.7", "198.51.100.7"),
        ("127.0.0.1", "10.9.9.9, 198.51.100.7", "198.51.100.7"),
        ("127.0.0.1", "not-an-address", "127.0.0.1"),
        ("127.0.0.1", "", "127.0.0.1"),
    ],
)
def test_client_address(remote, forwarded, expected):
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == expected
