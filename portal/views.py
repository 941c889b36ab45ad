"""The signed-in client's pages of the portal (SPEC: Client portal and document links): an
overview, its issued invoices (with "I've paid"), credit notes, quotes (to accept or
decline), payments and available credit, and a statement for any dates, with the PDFs and
the CSV.

Every page is the client's of the portal session (``request.portal.client``,
portal.access) and every document is looked up within it: a number of another client's,
a draft's or nobody's answers the portal's one "not found"
(portal.access.portal_not_found). A document's page is its link's page (public_views.py,
quotes/public_views.py) in the portal's layout, answering through the portal's
operations."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from billing.models import Client, CreditNote, Invoice
from billing.selectors import client_currencies
from quotes import services as quote_services
from quotes.models import Quote
from quotes.public_views import answer_page, quote_pdf_response
from reports import selectors as reports
from settings_app.selectors import business_today

from . import public_views, selectors, services
from .access import Access, portal_not_found, portal_view
from .context import page_context
from .forms import StatementForm

PAGE_SIZE = 25
Document = TypeVar("Document", Invoice, CreditNote, Quote)
# The overview lists this many open invoices; the invoices page has them all.
OPEN_ON_OVERVIEW = 10


def _access(request: HttpRequest) -> Access:
    return request.portal  # type: ignore[attr-defined]


def _client(request: HttpRequest) -> Client:
    client = _access(request).client
    assert client is not None  # portal_view() lets no request without one through
    return client


def _layout(request: HttpRequest, section: str, **more: Any) -> dict[str, Any]:
    """What a page in the portal's layout is given: the business, the menu (``section``
    is the entry shown as the current one) and the page's own values."""
    return page_context(request, base_template="portal/base.html", section=section, **more)


def _page_of(request: HttpRequest, rows: Any) -> Any:
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


# --- The overview -------------------------------------------------------------------------
@portal_view()
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    client = _client(request)
    today = business_today()
    open_invoices = selectors.open_invoices(client, today=today)
    context = _layout(
        request,
        "home",
        accounts=selectors.accounts(client),
        open_invoices=open_invoices[:OPEN_ON_OVERVIEW],
        more_open=open_invoices.count() > OPEN_ON_OVERVIEW,
        quotes=selectors.quotes_to_answer(client, today=today),
    )
    return render(request, "portal/home.html", context)


# --- A document of the client's ----------------------------------------------------------
SAFE = ("GET", "HEAD")
WITH_FORM = ("GET", "HEAD", "POST")


def _document_view(
    find: Callable[[Client, str], Document | None], *, methods: tuple[str, ...] = SAFE
) -> Callable[[Callable[[HttpRequest, Document], HttpResponse]], Callable[..., HttpResponse]]:
    """A page of one of the client's documents, named by its number, given the document
    ``find`` finds among the client's. Anything else (another client's, a draft, no such
    number) answers "not found" first, whatever the method, so no answer tells that it
    exists; then a method not in ``methods`` is refused."""

    def decorate(
        view: Callable[[HttpRequest, Document], HttpResponse],
    ) -> Callable[..., HttpResponse]:
        @portal_view()
        @functools.wraps(view)
        def wrapped(request: HttpRequest, number: str) -> HttpResponse:
            found = find(_client(request), number)
            if found is None:
                return portal_not_found(request)
            if request.method not in methods:
                return HttpResponseNotAllowed(methods)
            return view(request, found)

        return wrapped

    return decorate


# --- Invoices -----------------------------------------------------------------------------
@portal_view()
@require_safe
def invoices(request: HttpRequest) -> HttpResponse:
    rows = selectors.issued_invoices(_client(request), today=business_today())
    context = _layout(request, "invoices", page=_page_of(request, rows))
    return render(request, "portal/invoices.html", context)


@_document_view(selectors.client_invoice, methods=WITH_FORM)
def invoice(request: HttpRequest, found: Invoice) -> HttpResponse:
    """The invoice, how to pay it and "I've paid", as its link's page has them."""
    return public_views.invoice_response(
        request,
        found,
        report=functools.partial(
            services.report_payment_in_portal, session=_access(request).session, invoice=found
        ),
        page_url=reverse("portal:invoice", args=[found.number]),
        pdf_url=reverse("portal:invoice_pdf", args=[found.number]),
        context=_layout(
            request, "invoices", back_url=reverse("portal:invoices"), back_label=_("All invoices")
        ),
    )


@_document_view(selectors.client_invoice)
def invoice_pdf(request: HttpRequest, found: Invoice) -> HttpResponse:
    return public_views.invoice_pdf_response(request, found)


# --- Credit notes -------------------------------------------------------------------------
@portal_view()
@require_safe
def credit_notes(request: HttpRequest) -> HttpResponse:
    rows = selectors.issued_credit_notes(_client(request))
    context = _layout(request, "credit_notes", page=_page_of(request, rows))
    return render(request, "portal/credit_notes.html", context)


@_document_view(selectors.client_credit_note)
def credit_note(request: HttpRequest, found: CreditNote) -> HttpResponse:
    return public_views.credit_note_response(
        request,
        found,
        pdf_url=reverse("portal:credit_note_pdf", args=[found.number]),
        context=_layout(
            request,
            "credit_notes",
            back_url=reverse("portal:credit_notes"),
            back_label=_("All credit notes"),
        ),
    )


@_document_view(selectors.client_credit_note)
def credit_note_pdf(request: HttpRequest, found: CreditNote) -> HttpResponse:
    return public_views.credit_note_pdf_response(request, found)


# --- Quotes -------------------------------------------------------------------------------
@portal_view()
@require_safe
def quotes(request: HttpRequest) -> HttpResponse:
    rows = selectors.sent_quotes(_client(request), today=business_today())
    context = _layout(request, "quotes", page=_page_of(request, rows))
    return render(request, "portal/quotes.html", context)


@_document_view(selectors.client_quote, methods=WITH_FORM)
def quote(request: HttpRequest, found: Quote) -> HttpResponse:
    """The quote, with "accept" (a name and a ticked box) and "decline" (a reason) as its
    link's page has them, answered as the address signed in."""
    email = _access(request).email
    return answer_page(
        request,
        found,
        accept=functools.partial(quote_services.accept_in_portal, email=email),
        decline=functools.partial(quote_services.decline_in_portal, email=email),
        page_url=reverse("portal:quote", args=[found.number]),
        pdf_url=reverse("portal:quote_pdf", args=[found.number]),
        context=_layout(
            request, "quotes", back_url=reverse("portal:quotes"), back_label=_("All quotes")
        ),
    )


@_document_view(selectors.client_quote)
def quote_pdf(request: HttpRequest, found: Quote) -> HttpResponse:
    return quote_pdf_response(request, found)


# --- Payments -----------------------------------------------------------------------------
@portal_view()
@require_safe
def payments(request: HttpRequest) -> HttpResponse:
    client = _client(request)
    context = _layout(
        request,
        "payments",
        page=_page_of(request, selectors.client_payments(client)),
        accounts=selectors.accounts(client),
    )
    return render(request, "portal/payments.html", context)


# --- The statement ------------------------------------------------------------------------
def _statement_form(request: HttpRequest) -> StatementForm:
    client = _client(request)
    return StatementForm(request.GET, today=business_today(), currencies=client_currencies(client))


def _statement(form: StatementForm, client: Client) -> reports.Statement:
    """The office's statement (reports.selectors.statement) for the form's dates and
    currency: the same figures as the office's page, PDF and CSV."""
    values = form.cleaned_data
    return reports.statement(client, values["start"], values["end"], currency=values["currency"])


def _with_query(name: str, form: StatementForm) -> str:
    values = form.cleaned_data
    query = {"start": values["start"], "end": values["end"], "currency": values["currency"]}
    return f"{reverse(name)}?{urlencode(query)}"


def _refused(form: StatementForm) -> HttpResponse:
    """A PDF or CSV asked for with bad dates: what is wrong, by field, as plain text."""
    lines = [str(message) for messages in form.errors.values() for message in messages]
    return HttpResponse("\n".join(lines), status=400, content_type="text/plain; charset=utf-8")


def _entry_urls(report: reports.Statement) -> None:
    """Each entry's document in the portal (``document_url``, which the statement shows
    as a link): the entries are the client's own, of issued documents only."""
    for entry in report.entries:
        if entry.credit_note_id:
            entry.document_url = reverse("portal:credit_note", args=[entry.credit_note.number])
        elif entry.invoice_id:
            entry.document_url = reverse("portal:invoice", args=[entry.invoice.number])


@portal_view()
@require_safe
def statement(request: HttpRequest) -> HttpResponse:
    """The statement for the dates and currency asked for (a year to today by default);
    dates that are no dates, or an end before the start, are shown on the form, which
    names the field, with a 400."""
    form = _statement_form(request)
    context = _layout(request, "statement", form=form)
    if not form.is_valid():
        return render(request, "portal/statement_page.html", context, status=400)
    report = _statement(form, _client(request))
    _entry_urls(report)
    return public_views.statement_response(
        request,
        report,
        pdf_url=_with_query("portal:statement_pdf", form),
        csv_url=_with_query("portal:statement_csv", form),
        context=context,
    )


@portal_view()
@require_safe
def statement_pdf(request: HttpRequest) -> HttpResponse:
    form = _statement_form(request)
    if not form.is_valid():
        return _refused(form)
    return public_views.statement_pdf_response(_statement(form, _client(request)))


@portal_view()
@require_safe
def statement_csv(request: HttpRequest) -> HttpResponse:
    form = _statement_form(request)
    if not form.is_valid():
        return _refused(form)
    return public_views.statement_csv_response(_statement(form, _client(request)))
