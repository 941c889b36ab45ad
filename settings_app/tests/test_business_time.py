"""Times a person reads are in the business's time zone, with the zone shown (issue 16,
item 4): pages, the back office, the change history and commands; the API keeps UTC."""

import datetime
import io

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from audit.models import AuditRecord
from billing.services import create_client
from outbox.models import Message, MessageKind
from tests.api import token_client

pytestmark = pytest.mark.django_db

# 18:35 UTC on 3 December is 13:35 in Toronto (EST, UTC-5).
SENT = datetime.datetime(2026, 12, 3, 18, 35, tzinfo=datetime.UTC)
IN_TORONTO = "Dec 3, 2026, 13:35 EST"


@pytest.fixture
def message(business):
    with time_machine.travel(SENT, tick=False):
        return Message.objects.create(
            kind=MessageKind.TEST,
            from_address="office@example.com",
            to_addresses="client@example.com",
            subject="Test",
            body="Hello",
            message_id="<t@example.com>",
            sent_at=SENT,
            status="sent",
        )


def test_the_outbox_shows_the_business_time_with_its_zone(client, administrator, message):
    client.force_login(administrator)
    for url in (reverse("outbox:list"), message.get_absolute_url()):
        page = client.get(url).content.decode()
        assert IN_TORONTO in page, url
        assert "18:35" not in page, url


def test_the_back_office_shows_the_business_time(client, administrator, message):
    client.force_login(administrator)
    page = client.get(reverse("admin:outbox_message_changelist")).content.decode()
    assert IN_TORONTO in page
    assert "18:35" not in page


def test_the_change_history_shows_the_business_time(client, administrator, business):
    with time_machine.travel(SENT, tick=False):
        create_client(acting_user=administrator, code="ACME", name="Acme", country="CA")
    assert AuditRecord.objects.filter(at=SENT).exists()
    client.force_login(administrator)
    page = client.get(reverse("audit")).content.decode()
    assert IN_TORONTO in page
    # A time kept inside a record's values (stored as UTC ISO text) is shown in the zone.
    from otb.display import shown
    from settings_app.zone import business_time

    with business_time():
        assert shown("2026-12-03T18:35:00+00:00") == IN_TORONTO
    assert shown("2026-12-03") == "Dec 3, 2026"


def test_a_command_runs_in_the_business_time_zone(business, capsys):
    call_command(
        "shell",
        command="from django.utils import timezone; print(timezone.get_current_timezone_name())",
        stdout=io.StringIO(),
    )
    assert capsys.readouterr().out.strip().splitlines()[-1] == "America/Toronto"


def test_the_zone_follows_the_setting(client, administrator, message, business):
    business.time_zone = "Europe/Berlin"
    business.save()
    client.force_login(administrator)
    page = client.get(reverse("outbox:list")).content.decode()
    assert "Dec 3, 2026, 19:35 CET" in page


def test_the_api_answers_in_utc(administrator, message):
    api = token_client(administrator)
    body = api.get(f"/api/v1/messages/{message.pk}/").json()
    assert body["sent_at"] in ("2026-12-03T18:35:00Z", "2026-12-03T18:35:00+00:00"), body


@pytest.mark.django_db
def test_settings_read_once_answers_one_row_inside_a_transaction(business):
    from django.db import transaction

    from settings_app.selectors import get_business_settings, settings_read_once

    with transaction.atomic(), settings_read_once() as shared:
        assert get_business_settings() is shared
    assert get_business_settings() is not shared
