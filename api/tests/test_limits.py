"""The API keeps Django's limit on a request body (DATA_UPLOAD_MAX_MEMORY_SIZE): a larger
JSON body is refused with 413 before it is parsed."""

import json

import pytest

pytestmark = pytest.mark.django_db


def big_body(size: int) -> str:
    return json.dumps({"code": "BIG", "name": "x", "notes": "n" * size})


@pytest.mark.parametrize("idempotent", [False, True])
def test_a_body_over_the_limit_is_refused_with_413(api, settings, idempotent):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    headers = {"HTTP_IDEMPOTENCY_KEY": "big-1"} if idempotent else {}

    response = api.post(
        "/api/v1/clients/", big_body(20_000), content_type="application/json", **headers
    )

    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert "larger than 10000 bytes" in response.json()["detail"]


def test_a_body_without_a_length_is_cut_at_the_limit(settings):
    from io import BytesIO

    from api.parsers import LimitedStream, TooLarge

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    assert LimitedStream(BytesIO(b"x" * 100)).read() == b"x" * 100
    with pytest.raises(TooLarge):
        LimitedStream(BytesIO(b"x" * 101)).read()


def test_a_body_within_the_limit_is_taken(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = api.post(
        "/api/v1/clients/",
        {"code": "SMALL", "name": "Small", "country": "CA"},
        format="json",
    )
    assert response.status_code == 201


def test_a_new_tokens_key_is_shown_once_on_a_page_never_in_a_cookie(client, administrator):
    from django.urls import reverse

    from api.models import ApiToken, hash_key

    client.force_login(administrator)

    response = client.post(
        reverse("admin:api_apitoken_add"), {"user": administrator.pk, "name": "script"}
    )

    assert response.status_code == 200
    key = response.context["key"]
    assert ApiToken.objects.get(name="script").key_hash == hash_key(key)
    assert key in response.text and "no-store" in response["Cache-Control"]
    assert all(key not in morsel.value for morsel in response.cookies.values())
    assert key not in client.get(reverse("admin:api_apitoken_changelist")).text
