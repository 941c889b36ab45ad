"""The back office's object actions (issue, cancel, confirm, reverse, pay from credit) check
the user's permission before they show their form (issue 15)."""

import pytest
from django.urls import reverse

from tests.factories import draft, issued, pay

pytestmark = pytest.mark.django_db


@pytest.fixture
def objects(business):
    invoice = issued()
    return {
        "invoice_issue": draft(),
        "invoice_cancel": invoice,
        "invoice_apply_credit": invoice,
        "payment_confirm": pay(issued(), "10", confirmed=False),
        "payment_reverse": pay(issued(), "10"),
    }


@pytest.mark.parametrize(
    "name",
    [
        "invoice_issue",
        "invoice_cancel",
        "invoice_apply_credit",
        "payment_confirm",
        "payment_reverse",
    ],
)
def test_a_viewer_does_not_see_the_form(client, viewer, objects, name):
    client.force_login(viewer)
    url = reverse(f"admin:billing_{name}", args=[objects[name].pk])

    assert client.get(url).status_code == 403
    assert client.post(url, {"reason": "x"}).status_code == 403


def test_a_bookkeeper_sees_it(client, bookkeeper, objects):
    client.force_login(bookkeeper)
    url = reverse("admin:billing_payment_reverse", args=[objects["payment_reverse"].pk])

    assert client.get(url).status_code == 200
