"""Payment reminders: each active stage goes once per unpaid invoice, on its day or the first
run after it, never twice, however often or concurrently ``send_reminders`` runs."""

import datetime
import importlib
import io

import pytest
import time_machine
from django.core.management import call_command

from billing import services as billing_services
from outbox.models import Message, MessageKind, MessageStatus
from settings_app.models import ReminderStage
from tests.factories import ClientFactory, draft, issued, pay
from tests.mail import point_settings_at
from tests.processes import run_in_processes

# Transactional: each reminder is queued in its own transaction and delivered as that
# commits, as in production, so the run's report can say how each delivery went.
pytestmark = pytest.mark.django_db(transaction=True)

SITE = "https://billing.northwind.example.com"
ISSUED = datetime.date(2026, 3, 1)
DUE = datetime.date(2026, 3, 31)


def at_noon(day: datetime.date) -> datetime.datetime:
    """Noon in Toronto (the business's time zone), so "today" is ``day``."""
    return datetime.datetime.combine(day, datetime.time(17, 0), tzinfo=datetime.UTC)


@pytest.fixture
def default_stages(migration_rows):
    """The stages the migration creates (a transactional test's flush removes them)."""
    migration = importlib.import_module("settings_app.migrations.0004_default_reminder_stages")
    for name, days, subject, body in migration.STAGES:
        ReminderStage.objects.update_or_create(
            days_from_due=days,
            defaults={"name": name, "subject": subject, "body": body, "is_active": True},
        )


@pytest.fixture
def reminders_on(default_stages, smtp, settings):
    point_settings_at(smtp.port, send_reminders=True)
    settings.OTB_BASE_URL = SITE
    return smtp


def run_reminders() -> str:
    """``manage.py send_reminders`` as the daily timer runs it; what it printed."""
    out = io.StringIO()
    call_command("send_reminders", stdout=out)
    return out.getvalue()


def unpaid(email="ap@oak.example.com", **kwargs):
    return issued(client=ClientFactory(email=email, **kwargs), issue_date=ISSUED, due_date=DUE)


def subjects(server) -> list[str]:
    return [received.message["Subject"] for received in server.received]


@pytest.mark.django_db
def test_the_migration_creates_stages_three_days_before_and_a_week_and_a_month_after():
    assert list(ReminderStage.objects.values_list("days_from_due", flat=True)) == [-3, 7, 30]


def test_each_stage_goes_out_once_on_its_day_however_often_the_run_repeats(reminders_on):
    invoice = unpaid()
    sent_on = {}
    day = ISSUED
    while day <= DUE + datetime.timedelta(days=45):
        with time_machine.travel(at_noon(day), tick=False):
            before = len(reminders_on.received)
            run_reminders()
            run_reminders()  # the same day again: nothing more
            for received in reminders_on.received[before:]:
                sent_on[received.message["Subject"]] = day
        day += datetime.timedelta(days=1)

    number = invoice.number
    assert sent_on == {
        f"Invoice {number} is due in 3 days": DUE - datetime.timedelta(days=3),
        f"Reminder: invoice {number} is overdue": DUE + datetime.timedelta(days=7),
        f"Second reminder: invoice {number} is 30 days overdue": DUE + datetime.timedelta(days=30),
    }
    assert len(reminders_on.received) == 3
    assert Message.objects.filter(invoice=invoice, kind=MessageKind.REMINDER).count() == 3


def test_a_reminder_carries_the_balance_due_and_the_invoice_pdf(reminders_on):
    invoice = unpaid(name="Oak Ridge")
    pay(invoice, "13.00", when=ISSUED)

    with time_machine.travel(at_noon(DUE + datetime.timedelta(days=7)), tick=False):
        output = run_reminders()

    [received] = reminders_on.received
    assert received.rcpt_tos == ["ap@oak.example.com"]
    text = received.text()
    assert "Dear Oak Ridge," in text
    assert f"invoice {invoice.number} was due on Mar 31, 2026 and 100.00 CAD is still open" in text
    [(name, content)] = received.attachments()
    assert name.endswith(".pdf") and content.startswith(b"%PDF")
    assert f"Sent: {invoice.number} to ap@oak.example.com" in output
    assert output.strip().endswith("1 sent, 0 to retry later, 0 failed.")


def test_a_missed_day_is_caught_up_but_an_earlier_stage_never_follows_a_later_one(reminders_on):
    invoice = unpaid()

    # The server was off from before the first stage until after the second one's day.
    with time_machine.travel(at_noon(DUE + datetime.timedelta(days=9)), tick=False):
        run_reminders()

    assert subjects(reminders_on) == [f"Reminder: invoice {invoice.number} is overdue"]


def test_paid_cancelled_and_draft_invoices_get_no_reminder(reminders_on):
    paid = unpaid()
    pay(paid, "113.00", when=ISSUED)
    cancelled = unpaid()
    billing_services.cancel_invoice(invoice=cancelled, acting_user=None, reason="Wrong client")
    draft(client=ClientFactory(email="draft@example.com"))
    owing = unpaid(email="owing@example.com")

    with time_machine.travel(at_noon(DUE + datetime.timedelta(days=7)), tick=False):
        run_reminders()

    assert [received.rcpt_tos for received in reminders_on.received] == [["owing@example.com"]]
    assert set(Message.objects.values_list("invoice", flat=True)) == {owing.pk}


def test_a_client_without_an_address_and_an_inactive_stage_are_skipped(reminders_on):
    unpaid(email="")
    unpaid(email="owing@example.com")
    ReminderStage.objects.filter(days_from_due=-3).update(is_active=False)

    with time_machine.travel(at_noon(DUE - datetime.timedelta(days=3)), tick=False):
        before_due = run_reminders()
    with time_machine.travel(at_noon(DUE + datetime.timedelta(days=7)), tick=False):
        overdue = run_reminders()

    assert before_due.strip().endswith("0 sent, 0 to retry later, 0 failed.")
    assert [received.rcpt_tos for received in reminders_on.received] == [["owing@example.com"]]
    assert "1 sent" in overdue


def test_a_due_soon_reminder_missed_until_the_due_date_passed_is_not_sent_late(reminders_on):
    invoice = unpaid()
    ReminderStage.objects.filter(days_from_due=7).update(is_active=False)

    with time_machine.travel(at_noon(DUE), tick=False):
        run_reminders()  # due today: "due soon" is still true
    later = unpaid(email="late@example.com")
    with time_machine.travel(at_noon(DUE + datetime.timedelta(days=1)), tick=False):
        run_reminders()  # overdue now: "due soon" would be false

    assert subjects(reminders_on) == [f"Invoice {invoice.number} is due in 0 days"]
    assert not Message.objects.filter(invoice=later).exists()


def test_nothing_is_sent_while_reminders_are_off(default_stages, smtp):
    unpaid()

    with time_machine.travel(at_noon(DUE + datetime.timedelta(days=7)), tick=False):
        output = run_reminders()

    assert "Reminders are off in the settings; nothing sent." in output
    assert smtp.received == [] and Message.objects.count() == 0


def test_nothing_is_sent_while_email_is_not_set_up(default_stages, business):
    business.send_reminders = True
    business.save()
    unpaid()

    with time_machine.travel(at_noon(DUE + datetime.timedelta(days=7)), tick=False):
        output = run_reminders()

    assert "E-mail is not set up" in output and Message.objects.count() == 0


def test_a_reminder_that_fails_is_reported_and_not_queued_again(reminders_on):
    unpaid(email="nobody@example.com")  # the test server refuses this address for good

    with time_machine.travel(at_noon(DUE + datetime.timedelta(days=7)), tick=False):
        first = run_reminders()
        second = run_reminders()

    assert "FAILED" in first and "nobody@example.com" in first and "0 sent" in first
    assert second.strip().endswith("0 sent, 0 to retry later, 0 failed.")
    [message] = Message.objects.all()
    assert message.status == MessageStatus.FAILED and message.needs_attention


def _run_reminders_in_a_process(_share):
    return run_reminders()


@pytest.mark.concurrency
def test_concurrent_runs_send_each_stage_once(reminders_on):
    invoices = [unpaid(email=f"client{n}@example.com") for n in range(10)]

    with time_machine.travel(at_noon(DUE + datetime.timedelta(days=7)), tick=False):
        outputs = run_in_processes(_run_reminders_in_a_process, [None] * 4)

    assert len(reminders_on.received) == 10
    assert sorted(received.rcpt_tos[0] for received in reminders_on.received) == sorted(
        f"client{n}@example.com" for n in range(10)
    )
    assert Message.objects.count() == 10
    assert set(Message.objects.values_list("attempt_count", flat=True)) == {1}
    assert {message.invoice_id for message in Message.objects.all()} == {i.pk for i in invoices}
    # Between them the runs report every reminder once.
    assert sum(output.count("Sent: ") for output in outputs) == 10
