"""A client's statement as a PDF, downloaded or e-mailed through the outbox (issue 16,
item 23). One rendering for both, so what is sent is what the page offers to download."""

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
from outbox.models import Message, MessageKind
from outbox.services import Addresses, queue_document
from settings_app.selectors import get_business_settings

from . import selectors

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


def send_statement(
    *,
    client: Client,
    start: datetime.date,
    end: datetime.date,
    acting_user: User | None,
    to: Addresses = "",
    cc: Addresses = "",
    currency: str | None = None,
) -> Message:
    """E-mail the client's statement for ``start``–``end`` in ``currency`` (by default its
    own; one account, and so one statement, per currency), to its own address unless ``to``
    says otherwise, with the PDF attached, through the outbox."""
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
    thanks = _("Thank you,")
    body = f"{greeting % values} {balance}\n\n{thanks}\n{business.business_name}\n"
    return queue_document(
        kind=MessageKind.STATEMENT,
        to=to or client.email,
        cc=cc,
        subject=_("Statement of account from %(business)s, %(start)s – %(end)s") % values,
        body=body,
        content=statement_pdf(report),  # before the operation's transaction: it takes seconds
        filename=statement_filename(report),
        acting_user=acting_user,
    )
