"""Sending a draft with "issue it first": the invoice number is taken in a transaction of its
own, so other issuers never wait for the PDF (WeasyPrint takes seconds); a failure after the
issue leaves a complete, issued invoice and says so."""

import threading

import pytest
from django.db import connection

from billing import pdf
from billing import services as billing_services
from billing.models import Invoice, InvoiceStatus
from otb.operations import DomainError
from outbox import services
from outbox.models import Message, MessageStatus
from tests.factories import ClientFactory, draft

# Real commits: the other issuer runs in a thread of its own, on a connection of its own.
pytestmark = pytest.mark.django_db(transaction=True)

# Upper bounds only, for a broken run; a passing run waits for the events, not for these.
HELD_AT_MOST = 60
ISSUED_WITHIN = 30


@pytest.fixture(autouse=True)
def _rows(migration_rows):
    pass


def in_thread(work) -> tuple[threading.Thread, dict]:
    """Run ``work()`` in a thread with its own database connection; its result or error
    lands in the dict."""
    outcome = {}

    def run():
        try:
            outcome["result"] = work()
        except Exception as exc:  # reported by the test, not lost in the thread
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


@pytest.fixture
def held_render(monkeypatch):
    """The PDF render waits (with "rendering" set) until the test sets "release"."""
    rendering, release = threading.Event(), threading.Event()
    real_html_to_pdf = pdf.html_to_pdf

    def html_to_pdf(html: str) -> bytes:
        rendering.set()
        release.wait(HELD_AT_MOST)
        return real_html_to_pdf(html)

    monkeypatch.setattr(pdf, "html_to_pdf", html_to_pdf)
    yield rendering, release
    release.set()  # never leave a thread waiting, whatever the test did


def send_draft(invoice, user):
    defaults = services.invoice_message_defaults(invoice)
    return services.send_invoice(
        invoice=invoice,
        acting_user=user,
        issue_draft=True,
        base_url="http://testserver/",
        **defaults,
    )


def test_issuing_another_draft_does_not_wait_for_the_pdf_of_a_draft_being_sent(
    smtp, bookkeeper, held_render
):
    rendering, release = held_render
    sent_draft = draft(client=ClientFactory(email="first@example.com"))
    other_draft = draft(client=ClientFactory(email="second@example.com"))

    sender, sent = in_thread(lambda: send_draft(sent_draft, bookkeeper))
    assert rendering.wait(HELD_AT_MOST), sent.get("error")
    issuer, issued = in_thread(
        lambda: billing_services.issue_invoice(invoice=other_draft, acting_user=bookkeeper)
    )
    issuer.join(ISSUED_WITHIN)
    finished_while_rendering = not issuer.is_alive()
    still_rendering = sender.is_alive()
    release.set()
    sender.join(HELD_AT_MOST)
    issuer.join(HELD_AT_MOST)

    assert finished_while_rendering and still_rendering, "the issuer waited for the PDF"
    assert "error" not in issued and "error" not in sent, (issued, sent)
    first, second = (Invoice.objects.get(pk=d.pk) for d in (sent_draft, other_draft))
    assert (first.sequence, second.sequence) == (1, 2)
    assert (first.number, second.number) == ("INV-0001", "INV-0002")
    message = Message.objects.get()
    assert message.invoice_id == first.pk and message.status == MessageStatus.SENT
    [received] = smtp.received
    assert received.attachments()[0][0] == "INV-0001.pdf"


def test_a_draft_whose_pdf_fails_stays_issued_and_the_error_says_to_send_it_again(
    smtp, bookkeeper, monkeypatch
):
    def broken_render(html: str) -> bytes:
        raise OSError("out of memory")

    monkeypatch.setattr(pdf, "html_to_pdf", broken_render)
    invoice = draft(client=ClientFactory(email="a@example.com"))

    with pytest.raises(DomainError) as refused:
        send_draft(invoice, bookkeeper)

    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PENDING and invoice.number == "INV-0001"
    assert refused.value.message == services.ISSUED_NOT_SENT % {"number": "INV-0001"}
    assert Message.objects.count() == 0 and smtp.received == []


def test_a_draft_is_not_issued_when_the_message_is_refused(smtp, bookkeeper):
    invoice = draft(client=ClientFactory(email="a@example.com"))
    defaults = services.invoice_message_defaults(invoice)

    with pytest.raises(DomainError):
        services.send_invoice(
            invoice=invoice,
            acting_user=bookkeeper,
            issue_draft=True,
            base_url="http://testserver/",
            **{**defaults, "subject": "Invoice {invoce_number}"},
        )

    invoice.refresh_from_db()
    assert invoice.is_draft and invoice.number is None
    assert Message.objects.count() == 0
