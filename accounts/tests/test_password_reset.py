"""A forgotten password (SPEC: Access): a single-use, expiring link by e-mail, through the
business's SMTP server and the outbox; the same answer whether or not the address exists."""

import datetime
import re

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from outbox.models import MASKED_LINK, Message, MessageKind, MessageStatus

pytestmark = pytest.mark.django_db(transaction=True)

FORGOT = reverse("password_reset")
NEW_PASSWORD = "a-New-passw0rd-2026"


@pytest.fixture(autouse=True)
def _rows(migration_rows):
    pass


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user(
        "alice", email="alice@example.com", password="old-passw0rd-2026", is_staff=True
    )


def ask(client, email, **extra):
    return client.post(FORGOT, {"email": email}, follow=True, **extra)


def link_in(received) -> str:
    return re.search(r"https?://\S+", received.text()).group(0)


def test_the_login_page_offers_it(client):
    response = client.get(reverse("login"))
    assert f'href="{FORGOT}"' in response.text
    assert "Forgot your password?" in response.text


def test_the_link_goes_out_through_the_outbox_and_sets_a_new_password_once(client, alice, smtp):
    response = ask(client, "alice@example.com")

    assert "If an account has that address" in response.text
    [received] = smtp.received
    assert received.rcpt_tos == ["alice@example.com"]
    link = link_in(received)
    assert link.startswith("http://testserver/login/reset/")
    # The outbox keeps the message, without a link anyone could use.
    message = Message.objects.get()
    assert message.kind == MessageKind.PASSWORD_RESET
    assert message.status == MessageStatus.SENT
    assert MASKED_LINK in message.body and link not in message.body
    assert message.secret_link == ""

    form = client.get(link, follow=True)
    assert 'name="new_password1"' in form.text
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )
    assert "Your new password is set" in done.text
    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)

    again = client.get(link, follow=True)
    assert "This link does not work any more" in again.text


def test_the_answer_is_the_same_for_an_unknown_address(client, alice, smtp):
    known = ask(client, "alice@example.com")
    unknown = ask(client, "nobody@example.org")

    assert known.status_code == unknown.status_code == 200
    assert known.redirect_chain == unknown.redirect_chain
    assert known.text == unknown.text
    assert len(smtp.received) == 1
    assert Message.objects.count() == 1


def test_the_link_expires_after_an_hour(client, alice, smtp):
    ask(client, "alice@example.com")
    link = link_in(smtp.received[0])

    with time_machine.travel(timezone.now() + datetime.timedelta(hours=1, minutes=1)):
        response = client.get(link, follow=True)

    assert "This link does not work any more" in response.text


def test_requests_are_throttled_per_address_asked_about(client, alice, smtp):
    for _attempt in range(5):
        ask(client, "alice@example.com")

    response = ask(client, "alice@example.com")
    assert len(smtp.received) == 6
    response = ask(client, "alice@example.com")

    assert "Too many failed attempts. Try again in" in response.text
    assert len(smtp.received) == 6


def test_a_bad_address_is_named(client, smtp):
    response = ask(client, "not-an-address")

    assert response.status_code == 200
    assert "Enter a valid email address." in response.text
    assert Message.objects.count() == 0


def test_without_e_mail_set_up_the_page_answers_the_same(client, alice, business):
    response = ask(client, "alice@example.com")

    assert response.status_code == 200
    assert "If an account has that address" in response.text
    assert Message.objects.count() == 0


def test_a_new_password_lifts_the_accounts_lock(client, alice, smtp):
    for attempt in range(6):
        client.post(reverse("login"), {"username": "alice", "password": f"wrong-{attempt}"})
    ask(client, "alice@example.com")
    form = client.get(link_in(smtp.received[0]), follow=True)
    client.post(
        form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )

    client.post(reverse("login"), {"username": "alice", "password": NEW_PASSWORD})

    assert "_auth_user_id" in client.session
