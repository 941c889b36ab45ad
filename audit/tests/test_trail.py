"""The audit trail (SPEC: Audit): who, when, from where, what object, before and after, for
writes through the pages, the back office, the API and commands, and sign-ins; read by
administrators on a page and in the API; changed or deleted by nobody."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from audit.models import AuditRecord, ImmutableRecord
from tests.api import token_client
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-1"


def latest(**filters) -> AuditRecord:
    return AuditRecord.objects.filter(**filters).latest("id")


def test_a_page_write_records_the_user_and_the_address(client, business, bookkeeper):
    acme = ClientFactory(code="ACME", name="Acme")
    client.force_login(bookkeeper)

    client.post(
        reverse("clients:edit", args=["ACME"]),
        {
            "code": "ACME",
            "name": "Acme Renamed",
            "country": "CA",
            "default_currency": "CAD",
            "is_active": "on",
        },
        REMOTE_ADDR="203.0.113.7",
    )

    record = latest(object_type="billing.client", object_id=str(acme.pk))
    assert (record.actor_name, record.source, record.address) == ("books1", "web", "203.0.113.7")
    assert record.before["name"] == "Acme" and record.after["name"] == "Acme Renamed"


def test_an_api_write_records_the_tokens_user_and_source(business, bookkeeper):
    api = token_client(bookkeeper)

    response = api.post(
        "/api/v1/clients/",
        {"code": "NEWCO", "name": "New Co", "country": "CA"},
        format="json",
        REMOTE_ADDR="198.51.100.3",
    )

    assert response.status_code == 201
    record = latest(object_type="billing.client", action="created")
    assert (record.actor_name, record.source, record.address) == ("books1", "api", "198.51.100.3")
    assert record.after["code"] == "NEWCO"


def test_a_command_records_itself(db, migration_rows):
    call_command("create_user", "maria", "--role", "viewer", "--random-password")

    record = latest(object_type="auth.user")
    assert record.source == "command" and record.command == "create_user"
    assert record.actor_name == "manage.py create_user"
    assert record.after["username"] == "maria" and record.after["password"] == "(hidden)"


def test_sign_ins_and_failed_ones_are_recorded(client, administrator):
    client.post(reverse("login"), {"username": "admin1", "password": "wrong"})
    client.post(reverse("login"), {"username": "admin1", "password": PASSWORD})

    failed, signed_in = AuditRecord.objects.filter(action="event").order_by("id")
    assert failed.after["event"] == "sign-in failed" and failed.object_id == "account:admin1"
    assert failed.address == "127.0.0.1"
    assert signed_in.after == {"event": "signed in", "with": "password"}


def test_a_back_office_user_change_records_the_groups(client, administrator, viewer):
    from django.contrib.auth.models import Group

    client.force_login(administrator)
    bookkeepers = Group.objects.get(name="Bookkeeper")
    response = client.post(
        reverse("admin:auth_user_change", args=[viewer.pk]),
        {
            "username": "viewer1",
            "is_active": "on",
            "is_staff": "on",
            "groups": [bookkeepers.pk],
            "last_login_0": "",
            "last_login_1": "",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )

    assert response.status_code == 302, response.content[:2000]
    record = latest(object_type="auth.user", object_id=str(viewer.pk))
    assert record.source == "admin" and record.actor_name == "admin1"
    assert record.after["groups"] == [bookkeepers.pk]


# --- Reading it ---------------------------------------------------------------------------
def test_administrators_read_it_on_a_page_with_filters(client, business, administrator):
    from billing.services import update_client

    acme = ClientFactory(code="ACME", name="Acme")
    update_client(client=acme, acting_user=administrator, name="Acme Two")
    ClientFactory(code="OTHER")
    client.force_login(administrator)

    page = client.get(reverse("audit"), {"object_type": "billing.client", "user": "admin1"})

    assert page.status_code == 200
    assert "Acme Two" in page.text and "billing.services.clients.update_client" in page.text
    assert client.get(reverse("audit"), {"user": "nobody"}).text.count("<tr>") == 2


def test_a_bad_filter_is_named(client, administrator):
    client.force_login(administrator)

    response = client.get(reverse("audit"), {"date_from": "yesterday"})

    assert response.status_code == 200
    assert "From: Enter a valid date." in response.text


def test_bookkeepers_cannot_read_it(client, bookkeeper):
    client.force_login(bookkeeper)
    assert client.get(reverse("audit")).status_code == 403
    assert token_client(bookkeeper).get("/api/v1/audit/").status_code == 403


def test_the_api_lists_and_filters_it(business, administrator):
    from billing.services import update_client

    update_client(client=ClientFactory(code="ACME"), acting_user=administrator, name="Acme Two")
    api = token_client(administrator)

    body = api.get("/api/v1/audit/", {"operation": "update_client"}).json()

    assert body["count"] == 1
    [record] = body["results"]
    assert record["user"] == "admin1" and record["after"]["name"] == "Acme Two"
    response = api.get("/api/v1/audit/", {"date_to": "2026-13-01"})
    assert response.status_code == 400
    assert response.json()["errors"] == {"date_to": ["Until: Enter a valid date."]}


# --- Nobody changes it --------------------------------------------------------------------
@pytest.fixture
def record(business, administrator):
    from billing.services import update_client

    update_client(client=ClientFactory(), acting_user=administrator, name="Changed")
    return AuditRecord.objects.latest("id")


def test_the_orm_refuses_to_change_or_delete_a_record(record):
    record.actor_name = "someone else"
    with pytest.raises(ImmutableRecord):
        record.save()
    with pytest.raises(ImmutableRecord):
        record.delete()
    with pytest.raises(ImmutableRecord):
        AuditRecord.objects.filter(pk=record.pk).update(actor_name="x")
    with pytest.raises(ImmutableRecord):
        AuditRecord.objects.all().delete()
    assert AuditRecord.objects.get(pk=record.pk).actor_name == "admin1"


def test_the_back_office_has_no_page_to_change_or_delete_it(client, administrator, record):
    client.force_login(administrator)
    change = reverse("admin:audit_auditrecord_change", args=[record.pk])
    delete = reverse("admin:audit_auditrecord_delete", args=[record.pk])
    changelist = reverse("admin:audit_auditrecord_changelist")

    assert client.get(changelist).status_code == 200
    assert "delete_selected" not in client.get(changelist).text
    client.post(change, {"actor_name": "x"})
    assert client.post(delete, {"post": "yes"}).status_code == 403
    client.post(changelist, {"action": "delete_selected", "_selected_action": [record.pk]})
    assert AuditRecord.objects.get(pk=record.pk).actor_name == "admin1"


def test_the_api_has_no_way_to_change_it(administrator, record):
    api = token_client(administrator)
    url = f"/api/v1/audit/{record.pk}/"

    assert api.get(url).status_code == 200
    for method in (api.put, api.patch, api.delete):
        assert method(url, {}, format="json").status_code == 405
    assert api.post("/api/v1/audit/", {}, format="json").status_code == 405
    assert AuditRecord.objects.filter(pk=record.pk).exists()


def test_deleting_a_user_leaves_their_records(django_user_model, business):
    from billing.services import update_client

    user = django_user_model.objects.create_user("temp", password="pw-temp-123456")
    user.is_superuser = True
    update_client(client=ClientFactory(), acting_user=user, name="By temp")
    user.delete()

    assert AuditRecord.objects.filter(actor_name="temp").count() == 1
