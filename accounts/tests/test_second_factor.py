"""A second factor (SPEC: Access): a TOTP app with one-time backup codes; required for
administrators where the setting says so."""

import datetime
import re
import time
import urllib.parse

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-1"
SETUP = reverse("second_factor")
VERIFY = reverse("second_factor_verify")


def code_for(device: TOTPDevice, *, offset: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits)
    totp.time = time.time() + offset * device.step
    return f"{totp.token():06d}"


def set_up(client) -> list[str]:
    """Turn the app on through the page, as a person does: the backup codes shown."""
    page = client.get(SETUP)
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user__username=page.wsgi_request.user.username)
    response = client.post(SETUP, {"code": code_for(device)})
    assert "The second factor is on." in response.text
    return re.findall(r"<li class=\"col\">([a-z2-7]{5}-[a-z2-7]{5})</li>", response.text)


def sign_in(client, username="admin1"):
    return client.post(reverse("login"), {"username": username, "password": PASSWORD})


@pytest.fixture
def with_second_factor(client, administrator):
    """admin1 with the app on, signed out; its backup codes."""
    client.force_login(administrator)
    codes = set_up(client)
    client.logout()
    return codes


def test_the_setup_page_draws_the_qr_code_itself(client, administrator):
    client.force_login(administrator)

    response = client.get(SETUP)

    image = re.search(r'<img src="([^"]+)"[^>]*id="totp-qr"', response.text).group(1)
    assert image.startswith("data:image/svg+xml")
    svg = urllib.parse.unquote(image)
    assert "http" not in svg.split("xmlns", 1)[0] and "href" not in svg
    device = TOTPDevice.objects.get(user=administrator, confirmed=False)
    # The key to type in by hand, as the app's QR code carries it.
    assert re.search(r'id="totp-secret">([A-Z2-7]+)<', response.text).group(1) in device.config_url
    # Reloading shows the same key until it is confirmed.
    client.get(SETUP)
    assert TOTPDevice.objects.filter(user=administrator).count() == 1


def test_setting_up_gives_ten_backup_codes_kept_only_as_hashes(client, administrator):
    client.force_login(administrator)

    codes = set_up(client)

    assert len(codes) == 10 and len(set(codes)) == 10
    stored = set(StaticToken.objects.values_list("token", flat=True))
    assert len(stored) == 10
    assert not stored & {code.replace("-", "") for code in codes}
    assert TOTPDevice.objects.get(user=administrator).confirmed


def test_a_wrong_code_does_not_turn_it_on(client, administrator):
    client.force_login(administrator)
    client.get(SETUP)

    response = client.post(SETUP, {"code": "000000"})

    assert "Code: that is not the code your app shows now" in response.text
    assert not TOTPDevice.objects.filter(user=administrator, confirmed=True).exists()


def test_signing_in_asks_for_the_code_before_any_page(client, with_second_factor):
    response = sign_in(client)
    assert response.status_code == 302

    for path in ("/", "/invoices/", "/admin/", "/api/docs/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.url.startswith(VERIFY)

    response = client.get("/invoices/")
    assert response.url == VERIFY + "?next=%2Finvoices%2F"
    device = TOTPDevice.objects.get(user__username="admin1")
    response = client.post(
        VERIFY + "?next=%2Finvoices%2F", {"code": code_for(device, offset=1), "next": "/invoices/"}
    )
    assert response.status_code == 302
    assert response.url == "/invoices/"
    assert client.get("/invoices/").status_code == 200


def test_a_wrong_code_is_refused_naming_the_field(client, with_second_factor):
    sign_in(client)

    response = client.post(VERIFY, {"code": "123456"})

    assert response.status_code == 200
    assert "Code: that is neither the code your app shows now nor an unused backup code" in (
        response.text
    )
    assert client.get("/").status_code == 302


def test_a_code_is_good_once(client, with_second_factor):
    device = TOTPDevice.objects.get(user__username="admin1")
    code = code_for(device, offset=1)  # not the one the set-up used
    sign_in(client)
    assert client.post(VERIFY, {"code": code}).status_code == 302
    client.logout()

    sign_in(client)
    response = client.post(VERIFY, {"code": code})

    assert response.status_code == 200


def test_a_backup_code_works_once(client, with_second_factor):
    code = with_second_factor[0]
    sign_in(client)
    assert client.post(VERIFY, {"code": code.upper()}).status_code == 302
    assert client.get("/").status_code == 200
    client.logout()

    sign_in(client)
    response = client.post(VERIFY, {"code": code})

    assert "nor an unused backup code" in response.text
    assert StaticToken.objects.count() == 9


def test_backup_codes_are_throttled_like_passwords(client, with_second_factor):
    sign_in(client)
    for attempt in range(6):
        response = client.post(VERIFY, {"code": f"wrong-{attempt:05d}"})

    response = client.post(VERIFY, {"code": with_second_factor[1]})

    assert "Too many failed attempts. Try again in 1 minute." in response.text
    assert client.get("/").status_code == 302


def test_new_backup_codes_replace_the_old_ones(client, administrator):
    client.force_login(administrator)
    old = set_up(client)

    response = client.post(SETUP, {"action": "backup-codes"})
    new = re.findall(r"<li class=\"col\">([a-z2-7]{5}-[a-z2-7]{5})</li>", response.text)

    assert len(new) == 10 and not set(new) & set(old)
    client.logout()
    sign_in(client)
    assert client.post(VERIFY, {"code": old[0]}).status_code == 200
    # django-otp's own back-off: after a wrong code, the next waits a second.
    with time_machine.travel(datetime.timedelta(seconds=2)):
        assert client.post(VERIFY, {"code": new[0]}).status_code == 302


def test_turning_it_off_signs_in_with_the_password_alone(client, with_second_factor):
    sign_in(client)
    client.post(VERIFY, {"code": with_second_factor[0]})

    client.post(SETUP, {"action": "turn-off"})
    client.logout()
    sign_in(client)

    assert client.get("/").status_code == 200
    assert not TOTPDevice.objects.exists() and not StaticToken.objects.exists()


def test_administrators_must_set_it_up_where_required(client, administrator, bookkeeper, settings):
    settings.REQUIRE_SECOND_FACTOR_FOR_ADMINS = True

    sign_in(client)
    response = client.get("/invoices/")
    assert response.status_code == 302
    assert response.url == SETUP + "?next=%2Finvoices%2F"
    assert "Administrators sign in with a second factor here" in client.get(SETUP).text
    set_up(client)
    assert client.get("/invoices/").status_code == 200
    # ... and cannot turn it off.
    client.post(SETUP, {"action": "turn-off"})
    assert TOTPDevice.objects.filter(user=administrator).exists()
    client.logout()

    # A bookkeeper is not asked.
    sign_in(client, "books1")
    assert client.get("/invoices/").status_code == 200


def test_reset_second_factor_lets_a_user_who_lost_it_in(client, with_second_factor):
    call_command("reset_second_factor", "admin1")

    sign_in(client)

    assert client.get("/").status_code == 200
    assert not TOTPDevice.objects.exists()


def test_reset_second_factor_refuses_an_unknown_user(db):
    with pytest.raises(CommandError, match="there is no user nobody"):
        call_command("reset_second_factor", "nobody")


def test_the_back_office_resets_a_second_factor(client, with_second_factor, administrator):
    sign_in(client)
    client.post(VERIFY, {"code": with_second_factor[0]})

    client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "reset_second_factor", "_selected_action": [administrator.pk]},
    )

    assert not TOTPDevice.objects.exists()


def test_api_tokens_are_not_sessions_and_need_no_second_factor(client, with_second_factor):
    from api.models import ApiToken

    _token, key = ApiToken.objects.create_token(user=with_second_factor and _admin())

    response = client.get("/api/v1/clients/", HTTP_AUTHORIZATION=f"Token {key}")

    assert response.status_code == 200


def _admin():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="admin1")
