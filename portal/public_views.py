"""The pages a document link opens without a login (SPEC: Client portal and document
links): an invoice (with its payment instructions and "I've paid"), a credit note and a
client's statement, each with its PDF (and the statement's CSV).

The token in the address is the only key. Every token that opens nothing (unknown,
malformed, expired, revoked, of another kind of document) gets the same "not found" answer
and counts a failure against the request's address (accounts.throttle); while the address
is locked, nothing is looked up and every link answers "not found" alike, right token or
wrong. Every opening of a page, PDF or CSV is recorded as a view. A quote's pages are the
quotes app's (quotes/public_views.py), under the same rules.

The pages themselves (``invoice_response``, ``credit_note_response``, ``statement_response``
and the PDF and CSV answers) are the signed-in client's portal pages too (views.py)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_safe

from accounts import throttle
from audit.addresses import client_address
from billing import pdf
from billing.errors import NotFound
from billing.models import CreditNote, Invoice, InvoiceStatus, Payment
from billing.selectors import client_currencies
from links.models import DocumentLink, LinkKind
from links.pages import csrf_protect_quietly, not_found, pdf_response, private, with_business
from links.selectors import open_link
from links.services import record_view
from otb.forms import Form, show_refusal
from otb.operations import DomainError
from reports import statements
from reports.selectors import BUCKETS, Statement
from settings_app.selectors import business_today, get_business_settings

from . import selectors, services

logger = logging.getLogger(__name__)

# The invoice states in which something is owed, and "I've paid" is offered.
OWING = (InvoiceStatus.PENDING, InvoiceStatus.PARTIAL, InvoiceStatus.OVERDUE)


class PaymentReportForm(Form):
    """What the client says it paid. What the values may be is for the operation
    (portal.services.report_payment), which names each field it refuses."""

    amount = forms.CharField(
        label=_("Amount paid"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    date = forms.CharField(
        label=_("Date paid"),
        max_length=40,
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    method = forms.CharField(
        label=_("How you paid"),
        max_length=40,
        required=False,
        widget=forms.Select(choices=[("", "—"), *services.REPORTED_METHODS]),
    )
    reference = forms.CharField(
        label=_("Reference (optional)"),
        help_text=_("A transfer or cheque number, so that the payment is found quickly."),
        # Longer than allowed on purpose: the operation says what the limit is.
        max_length=2000,
        required=False,
    )


# --- Opening a link -----------------------------------------------------------------------
def _look_up(request: HttpRequest, find: Callable[[], object | None]) -> object | None:
    """What ``find`` opens, through the throttle of the request's address."""
    return throttle.look_up([throttle.address_key(request)], find, what=throttle.DOCUMENT_LINK)


def _open(request: HttpRequest, token: str, kind: str) -> DocumentLink | None:
    found = _look_up(request, lambda: open_link(token, kind=kind))
    return found if isinstance(found, DocumentLink) else None


def _viewed(request: HttpRequest, link: DocumentLink) -> None:
    if request.method != "GET":  # a HEAD (a mail scanner's check) is no view
        return
    record_view(
        link=link,
        ip_address=client_address(request) or None,
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
    )


def _with_logo(data: dict, logo_url: str) -> dict:
    return {**data, "business": {**data["business"], "logo_url": logo_url}}


@login_not_required
def nothing_here(request: HttpRequest, rest: str = "") -> HttpResponse:
    return not_found()


# --- An invoice ---------------------------------------------------------------------------
def invoice_response(
    request: HttpRequest,
    invoice: Invoice,
    *,
    report: Callable[..., Payment],
    page_url: str,
    pdf_url: str,
    context: dict[str, Any] | None = None,
) -> HttpResponse:
    """An invoice's page for its client, with how to pay and "I've paid": the link's and
    the client portal's alike. A POST reports through ``report`` (the link's operation or
    the portal's) and goes back to ``page_url``, which then thanks; ``context``: what the
    page's layout needs more (the portal's menu)."""
    form = PaymentReportForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if form.is_valid():
            try:
                report(
                    ip_address=client_address(request) or None,
                    user_agent=request.META.get("HTTP_USER_AGENT", ""),
                    base_url=request.build_absolute_uri("/"),
                    **form.cleaned_data,
                )
            except NotFound:  # the link or the portal no longer opens it (page left open)
                return not_found()
            except DomainError as exc:
                show_refusal(form, exc)
            else:
                # After the report, the page (a GET) shows it; reloading reports nothing.
                thanks = page_url + "?reported=1#payment"
                return private(HttpResponseRedirect(thanks, status=303))
        invoice = pdf.load_invoice(pk=invoice.pk, with_payments=False)  # as it stands now
    shown = with_business(context)
    doc = _with_logo(pdf.document_data(invoice, business=shown["business"]), shown["logo_url"])
    page = {
        **shown,
        "invoice": invoice,
        "doc": doc,
        "state": doc["status"],
        "may_report": doc["status"] in OWING and invoice.balance_due > 0,
        "pending": selectors.pending_payments(invoice),
        "reported": request.method == "GET" and request.GET.get("reported") == "1",
        "form": form,
        "pdf_url": pdf_url,
        "pdf_filename": pdf.pdf_filename(invoice),
    }
    return private(render(request, "portal/invoice_page.html", page))


def invoice_pdf_response(request: HttpRequest, invoice: Invoice) -> HttpResponse:
    """The invoice's PDF: the same as the office's (billing.pdf.invoice_pdf)."""
    return pdf_response(
        lambda: pdf.invoice_pdf(invoice, request=request),
        filename=pdf.pdf_filename(invoice),
        what=f"invoice {invoice.number}",
    )


@login_not_required
@csrf_protect_quietly
# HEAD too: mail scanners check links with it, and Django logs a refused method.
@require_http_methods(["GET", "HEAD", "POST"])
def invoice_page(request: HttpRequest, token: str) -> HttpResponse:
    link = _open(request, token, LinkKind.INVOICE)
    invoice = selectors.invoice_of(link) if link is not None else None
    if link is None or invoice is None:
        return not_found()
    if request.method == "GET":
        _viewed(request, link)
    return invoice_response(
        request,
        invoice,
        report=functools.partial(services.report_payment, link=link),
        page_url=reverse("invoice_link:page", args=[token]),
        pdf_url=reverse("invoice_link:pdf", args=[token]),
    )


@login_not_required
@require_safe
def invoice_pdf(request: HttpRequest, token: str) -> HttpResponse:
    link = _open(request, token, LinkKind.INVOICE)
    invoice = selectors.invoice_of(link) if link is not None else None
    if link is None or invoice is None:
        return not_found()
    _viewed(request, link)
    return invoice_pdf_response(request, invoice)


# --- A credit note ------------------------------------------------------------------------
def credit_note_response(
    request: HttpRequest, note: CreditNote, *, pdf_url: str, context: dict[str, Any] | None = None
) -> HttpResponse:
    """A credit note's page for its client, the link's and the portal's alike."""
    shown = with_business(context)
    doc = _with_logo(pdf.credit_note_data(note, business=shown["business"]), shown["logo_url"])
    page = {
        **shown,
        "note": note,
        "doc": doc,
        "pdf_url": pdf_url,
        "pdf_filename": pdf.credit_note_filename(note),
    }
    return private(render(request, "portal/credit_note_page.html", page))


def credit_note_pdf_response(request: HttpRequest, note: CreditNote) -> HttpResponse:
    return pdf_response(
        lambda: pdf.credit_note_pdf(note, request=request),
        filename=pdf.credit_note_filename(note),
        what=f"credit note {note.number}",
    )


@login_not_required
@require_safe
def credit_note_page(request: HttpRequest, token: str) -> HttpResponse:
    link = _open(request, token, LinkKind.CREDIT_NOTE)
    note = selectors.credit_note_of(link) if link is not None else None
    if link is None or note is None:
        return not_found()
    _viewed(request, link)
    return credit_note_response(
        request, note, pdf_url=reverse("credit_note_link:pdf", args=[token])
    )


@login_not_required
@require_safe
def credit_note_pdf(request: HttpRequest, token: str) -> HttpResponse:
    link = _open(request, token, LinkKind.CREDIT_NOTE)
    note = selectors.credit_note_of(link) if link is not None else None
    if link is None or note is None:
        return not_found()
    _viewed(request, link)
    return credit_note_pdf_response(request, note)


# --- A statement --------------------------------------------------------------------------
def statement_response(
    request: HttpRequest,
    report: Statement,
    *,
    pdf_url: str,
    csv_url: str,
    context: dict[str, Any] | None = None,
) -> HttpResponse:
    """A statement's page for its client, with what is open by how late it is: the
    link's and the portal's alike (``context``: the portal's menu and form, or the link's
    other currencies)."""
    aging = selectors.statement_aging(report)
    page = {
        **with_business(context),
        "report": report,
        "aging": aging,
        "aging_cells": [(key, label, aging.buckets[key]) for key, label, _days in BUCKETS]
        if aging is not None
        else [],
        "pdf_url": pdf_url,
        "pdf_filename": statements.statement_filename(report),
        "csv_url": csv_url,
    }
    return private(render(request, "portal/statement_page.html", page))


def statement_pdf_response(report: Statement) -> HttpResponse:
    return pdf_response(
        lambda: statements.statement_pdf(report),
        filename=statements.statement_filename(report),
        what=f"the statement of {report.client.code}",
    )


def statement_csv_response(report: Statement) -> HttpResponse:
    """The statement as CSV: the office's (reports.statements.statement_csv)."""
    response = HttpResponse(
        statements.statement_csv(report), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="{statements.statement_csv_filename(report)}"'
    )
    return private(response)


def _statement(request: HttpRequest, token: str) -> tuple[DocumentLink, Statement] | None:
    """The link and its statement in the currency asked for (the client's own by default),
    or None for a link that opens nothing or a currency the client has no account in."""
    link = _open(request, token, LinkKind.STATEMENT)
    if link is None:
        return None
    business = get_business_settings()
    currency = request.GET.get("currency") or None
    report = selectors.statement(link, today=business_today(business), currency=currency)
    if report is None:
        return None
    return link, report


def _with_currency(url: str, report: Statement) -> str:
    if report.currency == report.client.default_currency:
        return url
    return f"{url}?currency={report.currency}"


@login_not_required
@require_safe
def statement_page(request: HttpRequest, token: str) -> HttpResponse:
    opened = _statement(request, token)
    if opened is None:
        return not_found()
    link, report = opened
    _viewed(request, link)
    page = reverse("statement_link:page", args=[token])
    return statement_response(
        request,
        report,
        pdf_url=_with_currency(reverse("statement_link:pdf", args=[token]), report),
        csv_url=_with_currency(reverse("statement_link:csv", args=[token]), report),
        context={
            "other_currencies": [
                (currency, f"{page}?currency={currency}")
                for currency in client_currencies(report.client)
                if currency != report.currency
            ]
        },
    )


@login_not_required
@require_safe
def statement_pdf(request: HttpRequest, token: str) -> HttpResponse:
    opened = _statement(request, token)
    if opened is None:
        return not_found()
    link, report = opened
    _viewed(request, link)
    return statement_pdf_response(report)


@login_not_required
@require_safe
def statement_csv(request: HttpRequest, token: str) -> HttpResponse:
    opened = _statement(request, token)
    if opened is None:
        return not_found()
    link, report = opened
    _viewed(request, link)
    return statement_csv_response(report)
