"""Invoices a schedule issues go out through the outbox when it says so, to a real SMTP
server on localhost: once, never again on the next run; a failed send shows like any other
and never makes a second invoice; an invoice a stopped run left unsent goes with the next."""

import re

import pytest

from billing.models import Invoice
from outbox.models import Message, MessageKind, MessageStatus
from recurring.models import Occurrence
from recurring.run import run_recurring
from tests.factories import ClientFactory
from tests.mail import free_port, point_settings_at

from .conftest import day, schedule_for

pytestmark = pytest.mark.django_db(transaction=True)


SITE = "https://billing.northwind.example.com"


@pytest.fixture(autouse=True)
def counters(migration_rows):
    """The number counters' rows, which a transactional test's flush removes."""


@pytest.fixture(autouse=True)
def site(settings):
    """A run has no request: the links in its e-mails start with OTB_BASE_URL."""
    settings.OTB_BASE_URL = SITE


def test_each_issued_invoice_is_e_mailed_once_with_its_pdf(maple, smtp):
    schedule_for(maple, "2027-01-31", email_invoices=True)

    report = run_recurring(today=day("2027-02-28"))

    assert [m.rcpt_tos for m in smtp.received] == [[maple.email], [maple.email]]
    attachments = [m.attachments()[0] for m in smtp.received]
    assert [name for name, _content in attachments] == ["INV-0001.pdf", "INV-0002.pdf"]
    assert all(content.startswith(b"%PDF") for _name, content in attachments)
    assert len(report.emailed) == 2
    assert set(Message.objects.values_list("kind", "status")) == {
        (MessageKind.INVOICE, MessageStatus.SENT)
    }
    assert not Occurrence.objects.filter(email_pending=True).exists()

    run_recurring(today=day("2027-03-01"))
    assert len(smtp.received) == 2 and Message.objects.count() == 2


def test_a_failed_send_shows_in_the_outbox_and_makes_no_second_invoice(maple, settings):
    settings.OTB_SMTP_TIMEOUT = 2
    point_settings_at(free_port())  # nothing listens there
    schedule_for(maple, "2027-01-31", email_invoices=True)

    run_recurring(today=day("2027-01-31"))
    run_recurring(today=day("2027-02-01"))

    assert Invoice.objects.count() == 1
    message = Message.objects.get()
    assert message.status != MessageStatus.SENT and message.attempts.exists()
    assert not Occurrence.objects.filter(email_pending=True).exists()


def test_a_client_without_an_address_is_not_e_mailed_and_the_schedule_says_why(smtp):
    client = ClientFactory(email="")
    schedule_for(client, "2027-01-31", email_invoices=True)

    report = run_recurring(today=day("2027-01-31"))

    occurrence = Occurrence.objects.get()
    assert "has no e-mail address" in occurrence.note and not occurrence.email_pending
    assert report.warnings and not smtp.received
    assert Invoice.objects.get().number == "INV-0001"


def test_an_invoice_a_stopped_run_left_unsent_goes_with_the_next_run(maple, smtp, monkeypatch):
    from recurring import run

    schedule_for(maple, "2027-01-31", email_invoices=True)
    # The run stops between the invoice's commit and its e-mail.
    monkeypatch.setattr(run, "_email", lambda occurrence, report: None)
    run_recurring(today=day("2027-01-31"))
    assert Occurrence.objects.get().email_pending and not smtp.received
    monkeypatch.undo()

    run_recurring(today=day("2027-02-01"))

    assert len(smtp.received) == 1 and Invoice.objects.count() == 1
    assert not Occurrence.objects.get().email_pending


def test_an_address_the_outbox_refuses_is_noted_once_not_tried_every_day(smtp):
    client = ClientFactory(email="ann@")
    schedule_for(client, "2027-01-31", email_invoices=True)

    report = run_recurring(today=day("2027-01-31"))

    occurrence = Occurrence.objects.get()
    assert not occurrence.email_pending and "Not e-mailed" in occurrence.note
    assert report.warnings and not report.problems and not smtp.received
    assert not run_recurring(today=day("2027-02-01")).problems


def test_the_e_mail_of_a_run_carries_the_clients_link_to_its_invoice(maple, smtp):
    from links.models import LinkKind
    from links.selectors import open_link

    schedule_for(maple, "2027-01-31", email_invoices=True)

    run_recurring(today=day("2027-01-31"))
    run_recurring(today=day("2027-01-31"))  # again: nothing more

    [received] = smtp.received
    token = re.search(SITE + r"/i/([A-Za-z0-9_-]{43})/", received.text()).group(1)
    link = open_link(token, kind=LinkKind.INVOICE)
    assert link.invoice_id == Invoice.objects.get().pk and link.recipient == maple.email
    assert Message.objects.count() == 1
    assert not Occurrence.objects.filter(email_pending=True).exists()


def test_without_the_sites_address_the_invoice_waits_for_the_run_after_it_is_set(
    maple, smtp, settings
):
    """The e-mail carries the client's link, which starts with OTB_BASE_URL: an instance
    without it (one upgraded from before 0.18.0) is told so, and the invoice is e-mailed by
    the first run once the setting is there."""
    settings.OTB_BASE_URL = ""
    schedule_for(maple, "2027-01-31", email_invoices=True)

    report = run_recurring(today=day("2027-01-31"))

    occurrence = Occurrence.objects.get()
    assert occurrence.email_pending and not occurrence.note
    assert any("set OTB_BASE_URL" in problem for problem in report.problems)
    assert not smtp.received and not Message.objects.exists()

    settings.OTB_BASE_URL = SITE
    report = run_recurring(today=day("2027-01-31"))
    assert len(report.emailed) == 1 and not Occurrence.objects.get().email_pending
    assert len(smtp.received) == 1
