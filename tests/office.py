"""The office with one of everything in it, and every page of it, for the tests that walk
all office pages (the phone width in a browser, the one style of dates and numbers)."""

import datetime
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.contrib.auth import get_user_model
from django.urls import reverse

from accounts.roles import ADMINISTRATOR
from billing import services
from billing.models import Client, CreditNote, Invoice, Payment, Refund
from imports.models import PendingImport
from imports.services import keep_upload
from outbox.models import Message, MessageKind
from rates.models import ExchangeRate
from rates.services import record_rate
from recurring import services as recurring
from recurring.models import Schedule
from recurring.run import run_recurring
from tests.factories import ClientFactory, ServiceFactory, draft, issued, line, pay


@dataclass
class Office:
    acme: Client
    draft_invoice: Invoice
    invoice: Invoice
    payment: Payment
    message: Message
    credit_note: CreditNote
    draft_credit_note: CreditNote
    refund: Refund
    rate: ExchangeRate
    schedule: Schedule
    pending_import: PendingImport | None = None


def fill_office() -> Office:
    """A client with long names, a service, a draft and an issued invoice with long lines, a
    confirmed and a pending payment, a manual credit and a sent message; an invoice with an
    issued credit note for some lines and a draft one, a refund, and an exchange rate."""
    ServiceFactory(code="PAINT", name="Interior painting", unit_price=Decimal("65"))
    retainer = ServiceFactory(code="RETAINER", name="Monthly retainer", unit_price=Decimal("6400"))
    retainer.prices.create(currency="USD", unit_price=Decimal("4700"))
    kwh = ServiceFactory(code="KWH", name="Metered power", unit="kWh", unit_price=Decimal("0.6125"))
    kwh.prices.create(currency="EUR", unit_price=Decimal("0.45"))
    acme = ClientFactory(
        code="ACMERENOVATIONS",
        name="Acme Renovations and Property Maintenance Ltd.",
        email="accounts.payable@acme-renovations.example.com",
    )
    long_line = line(
        description="Interior painting of the main hall, two coats, ceilings included",
        quantity="12.5",
        unit_price="1234.5678",
    )
    lines = [long_line, line(description="Materials", quantity="5", unit_price="6400")]
    draft_invoice = draft(client=acme, lines=lines)
    invoice = issued(client=acme, lines=lines)
    pay(invoice, "100.00")
    payment = pay(invoice, "50.00", confirmed=False)
    services.post_manual_credit(client=acme, amount="25.00", memo="Goodwill", acting_user=None)
    message = Message.objects.create(
        kind=MessageKind.TEST,
        from_address="office@example.com",
        to_addresses="accounts.payable@acme-renovations.example.com",
        subject="Invoice INV-0001 from My Business for 15,000.00 CAD",
        body="Hello",
        message_id="<t@example.com>",
        sent_at=datetime.datetime(2026, 12, 3, 18, 35, tzinfo=datetime.UTC),
        status="sent",
    )
    credited = issued(client=acme, lines=lines)
    credit_note = services.issue_credit_note(
        credit_note=services.create_credit_note(
            invoice=credited,
            acting_user=None,
            kind="lines",
            lines=[
                services.CreditLineData(invoice_line=credited.lines.get(position=1), quantity="2.5")
            ],
            reason="Two and a half hours of the hall were not painted: the tenant stayed.",
        ),
        acting_user=None,
    )
    draft_credit_note = services.create_credit_note(
        invoice=credited, acting_user=None, kind="amount", amount="1250.00"
    )
    refund = services.record_refund(
        client=acme,
        amount="10.00",
        date=datetime.date(2026, 12, 3),
        method="cheque",
        reference="CHQ 2210",
        acting_user=None,
    )
    rate = record_rate(
        acting_user=None, currency="USD", date=datetime.date(2026, 12, 1), rate="1.3625"
    )
    # A monthly schedule that has made its first invoice and is paused from a later date.
    schedule = recurring.create_schedule(
        client=acme,
        acting_user=None,
        name="Monthly retainer and maintenance of the main hall, two coats, ceilings included",
        start_date=datetime.date(2026, 11, 30),
        lines=[line(description="Retainer for {period}", quantity="1", unit_price="6400")],
    )
    run_recurring(today=datetime.date(2026, 11, 30))
    recurring.pause_schedule(
        schedule=schedule, acting_user=None, starts_on=datetime.date(2027, 2, 1)
    )
    # A file waiting for its import, of the administrator the tests sign in as: its preview
    # is theirs alone.
    owner = get_user_model().objects.filter(groups__name=ADMINISTRATOR).order_by("pk").first()
    sample = Path(__file__).resolve().parents[1] / "docs/imports-samples/crater-customers.csv"
    pending = (
        keep_upload(
            kind="clients",
            file_name=sample.name,
            data=sample.read_bytes(),
            cut_over=None,
            acting_user=owner,
        )
        if owner
        else None
    )
    return Office(
        acme,
        draft_invoice,
        invoice,
        payment,
        message,
        credit_note,
        draft_credit_note,
        refund,
        rate,
        schedule,
        pending,
    )


def office_pages(office: Office) -> list[str]:
    acme, draft_invoice, invoice = office.acme, office.draft_invoice, office.invoice
    payment, message = office.payment, office.message
    note, draft_note = office.credit_note, office.draft_credit_note
    """Every page of the office (the url confs' pages that answer a GET), with data."""
    return [
        "/",
        reverse("clients:list"),
        reverse("clients:create"),
        reverse("clients:detail", args=[acme.code]),
        reverse("clients:edit", args=[acme.code]),
        reverse("clients:ledger", args=[acme.code]),
        reverse("services:list"),
        reverse("services:create"),
        reverse("services:edit", args=["PAINT"]),
        reverse("invoices:list"),
        reverse("invoices:create"),
        reverse("invoices:draft_detail", args=[draft_invoice.pk]),
        reverse("invoices:edit", args=[draft_invoice.pk]),
        reverse("invoices:issue", args=[draft_invoice.pk]),
        reverse("invoices:delete", args=[draft_invoice.pk]),
        reverse("invoices:detail", args=[invoice.number]),
        reverse("invoices:edit", args=[invoice.pk]),
        reverse("invoices:cancel", args=[invoice.pk]),
        reverse("invoices:send", args=[invoice.pk]),
        reverse("invoices:credit", args=[note.invoice_id]),
        reverse("credit_notes:list"),
        reverse("credit_notes:detail", args=[note.pk]),
        reverse("credit_notes:send", args=[note.pk]),
        reverse("credit_notes:detail", args=[draft_note.pk]),
        reverse("credit_notes:edit", args=[draft_note.pk]),
        reverse("credit_notes:issue", args=[draft_note.pk]),
        reverse("credit_notes:delete", args=[draft_note.pk]),
        reverse("clients:refund", args=[acme.code]),
        reverse("refunds:reverse", args=[office.refund.pk]),
        reverse("payments:list"),
        reverse("payments:create"),
        reverse("payments:edit", args=[payment.pk]),
        reverse("payments:reverse", args=[payment.pk]),
        reverse("outbox:list"),
        reverse("outbox:detail", args=[message.pk]),
        reverse("reports:index"),
        reverse("reports:revenue") + "?start=2026-01-01&end=2026-12-31",
        reverse("reports:outstanding"),
        reverse("reports:tax"),
        reverse("reports:statement") + f"?client={acme.code}&start=2026-01-01",
        reverse("reports:exchange_gains") + "?start=2026-01-01&end=2026-12-31",
        reverse("reports:quotes") + "?start=2026-01-01&end=2026-12-31",
        reverse("exports:index"),
        reverse("imports:index"),
        *(
            [reverse("imports:preview", args=[office.pending_import.pk])]
            if office.pending_import
            else []
        ),
        reverse("recurring:list"),
        reverse("recurring:create"),
        reverse("recurring:detail", args=[office.schedule.pk]),
        reverse("recurring:edit", args=[office.schedule.pk]),
        reverse("recurring:resume", args=[office.schedule.pk]),
        reverse("recurring:end", args=[office.schedule.pk]),
        reverse("rates:list"),
        reverse("rates:create"),
        reverse("rates:edit", args=[office.rate.pk]),
        reverse("rates:delete", args=[office.rate.pk]),
        reverse("search") + "?q=acme",
        reverse("settings"),
        reverse("audit"),
        reverse("second_factor"),
    ]
