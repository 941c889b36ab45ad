"""A client entered by mistake can be deleted; one with history only deactivated (issue 16,
items 16 and 24)."""

import html

import pytest
from django.urls import reverse

from audit.models import AuditRecord
from billing import services
from billing.models import Client
from otb.operations import DomainError
from tests.factories import ClientFactory, draft, issued

pytestmark = pytest.mark.django_db
WAY_OUT = "Deactivate it instead"


def test_a_client_without_history_is_deleted_and_the_audit_keeps_it(business, bookkeeper):
    client = ClientFactory(code="OOPS", name="Typo Ltd")
    services.delete_client(client=client, acting_user=bookkeeper)
    assert not Client.objects.filter(code="OOPS").exists()
    record = AuditRecord.objects.get(action="deleted", object_type__endswith="client")
    assert record.before["name"] == "Typo Ltd"


@pytest.mark.parametrize(
    ("history", "said"),
    [
        (lambda c: draft(client=c), "has invoices"),
        (lambda c: issued(client=c), "has invoices"),
        (
            lambda c: services.post_manual_credit(client=c, amount="5", memo="x", acting_user=None),
            "has ledger entries",
        ),
    ],
)
def test_a_client_with_history_is_refused_with_the_way_out(business, history, said):
    client = ClientFactory(code="ACME")
    history(client)
    with pytest.raises(DomainError) as refusal:
        services.delete_client(client=client, acting_user=None)
    assert said in refusal.value.message and WAY_OUT in refusal.value.message
    assert Client.objects.filter(code="ACME").exists()


def test_the_office_page_offers_delete_only_without_history(client, bookkeeper, business):
    client.force_login(bookkeeper)
    oops = ClientFactory(code="OOPS")
    acme = ClientFactory(code="ACME")
    issued(client=acme)
    delete_oops = reverse("clients:delete", args=["OOPS"])
    assert delete_oops in client.get(oops.get_absolute_url()).content.decode()
    assert (
        reverse("clients:delete", args=["ACME"])
        not in client.get(acme.get_absolute_url()).content.decode()
    )
    response = client.get(reverse("clients:delete", args=["ACME"]), follow=True)
    assert WAY_OUT in html.unescape(response.content.decode())
    assert client.get(delete_oops).status_code == 200
    response = client.post(delete_oops)
    assert response.status_code == 302
    assert not Client.objects.filter(code="OOPS").exists()


def test_the_back_office_gives_the_real_reason(client, business, django_user_model):
    superuser = django_user_model.objects.create_superuser("root", password="pw-for-tests-1")
    client.force_login(superuser)
    acme = ClientFactory(code="ACME")
    issued(client=acme)
    response = client.get(reverse("admin:billing_client_delete", args=[acme.pk]), follow=True)
    page = html.unescape(response.content.decode())
    assert "doesn't have permission" not in page
    assert "has invoices" in page and WAY_OUT in page
    oops = ClientFactory(code="OOPS")
    response = client.post(reverse("admin:billing_client_delete", args=[oops.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Client.objects.filter(code="OOPS").exists()
