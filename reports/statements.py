"""A client's statement as a PDF, downloaded or e-mailed through the outbox (issue 16,
item 23). One rendering for both, so what is sent is what the page offers to download. An
e-mailed statement carries each recipient's own link to the statement of its dates (SPEC:
Client portal and document links)."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.template.loader import render_to_string
from django.utils import formats
from django.utils.translation import gettext as _

from billing.inputs import clean_currency
from billing.models import Client
from billing.money import format_money
from billing.pdf import html_to_pdf
from links.documents import Statement
from otb.operations import ensure_permitted
from outbox.models import Message, MessageKind
from outbox.services import (
    Addresses,
    clean_addresses,
    one_per_person,
    queue_linked_document,
    site_address,
)
from settings_app.selectors import get_business_settings

from . import selectors, spreadsheets

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def statement_pdf(report: selectors.Statement) -> bytes:
    html = render_to_string(
        "reports/statement_pdf.html", {"report": report, "business": get_business_settings()}
    )
    return html_to_pdf(html)


def statement_filename(report: selectors.Statement) -> str:
    """statement-CODE-END.pdf; in another currency than the client's, -CUR before .pdf."""
    if report.currency and report.currency != report.client.default_currency:
        return f"statement-{report.client.code}-{report.end}-{report.currency}.pdf"
    return f"statement-{report.client.code}-{report.end}.pdf"


def statement_csv(report: selectors.Statement) -> bytes:
    """The statement as CSV: the opening balance, each entry with its running balance, the
    closing balance and the invoices open at the end. The office's page and a statement
    link's give the same file."""
    rows: list[list] = [[report.start, "opening_balance", "", "", "", report.opening, ""]]
    rows += [
        [
            entry.date,
            entry.kind,
            entry.invoice.number if entry.invoice_id else "",
            entry.memo,
            entry.amount,
            entry.running,
            entry.credit_note.number if entry.credit_note_id else "",
        ]
        for entry in report.entries
    ]
    rows.append([report.end, "closing_balance", "", "", "", report.closing, ""])
    rows += [
        [
            invoice.due_date,
            "open_invoice",
            invoice.number,
            _("%(days)s days past due") % {"days": invoice.days_past_due},
            -invoice.balance_at,
            "",
            "",
        ]
        for invoice in report.open_invoices
    ]
    return spreadsheets.csv_content(
        ["date", "entry", "invoice", "memo", "amount", "balance", "credit_note"], rows
    )


def statement_csv_filename(report: selectors.Statement) -> str:
    return f"statement-{report.client.code}-{report.start}-{report.end}-{report.currency}.csv"


def send_statement(
    *,
    client: Client,
    start: datetime.date,
    end: datetime.date,
    acting_user: User | None,
    to: Addresses = "",
    cc: Addresses = "",
    currency: str | None = None,
    base_url: str = "",
) -> list[Message]:
    """E-mail the client's statement for ``start``–``end`` in ``currency`` (by default its
    own; one account, and so one statement, per currency), to its own address unless ``to``
    says otherwise, with the PDF attached, through the outbox: one message per address in
    ``to`` and ``cc``, each with that recipient's own link to the statement of those dates
    (``base_url``: the site's address, as for ``outbox.services.send_invoice``)."""
    ensure_permitted(acting_user, "outbox.send_message", _("send e-mail"))
    recipients = one_per_person(
        clean_addresses(to or client.email, field="to", label=_("To"), required=True),
        clean_addresses(cc, field="cc", label=_("CC")),
    )
    base_url = site_address(base_url)
    currency = clean_currency(currency) if currency else client.default_currency
    report = selectors.statement(client, start, end, currency=currency)
    business = get_business_settings()
    values = {
        "business": business.business_name,
        "person": client.contact_person or client.name,
        "start": formats.date_format(start),
        "end": formats.date_format(end),
        "closing": format_money(abs(report.closing), currency),
    }
    if report.closing < 0:
        balance = _("Balance owed on %(end)s: %(closing)s.") % values
    elif report.closing > 0:
        balance = _("Credit in your favour on %(end)s: %(closing)s.") % values
    else:
        balance = _("Nothing is owed on %(end)s.") % values
    greeting = _(
        "Dear %(person)s,\n\nplease find attached your statement of account from %(start)s "
        "to %(end)s."
    )
    read = _("You can read it here, as the books stand when you open it:")
    thanks = _("Thank you,")
    body = (
        f"{greeting % values} {balance}\n\n{read}\n{{link}}\n\n{thanks}\n{business.business_name}\n"
    )
    return queue_linked_document(
        document=Statement(client, start, end),
        page="statement_link:page",
        kind=MessageKind.STATEMENT,
        recipients=recipients,
        subject=_("Statement of account from %(business)s, %(start)s – %(end)s") % values,
        body=body,
        content=statement_pdf(report),  # before the operation's transaction: it takes seconds
        filename=statement_filename(report),
        acting_user=acting_user,
        base_url=base_url,
    )
