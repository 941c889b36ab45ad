"""The report pages. Each reads its filters from the query string, asks selectors.py for the
figures and renders them as a page, or as CSV (``?format=csv``), or for the statement as PDF
(``?format=pdf``). A bad filter is shown on the page, next to its field (never a 500)."""

from __future__ import annotations

import csv
import datetime
import io
import logging

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from otb.operations import DomainError
from settings_app.selectors import business_today, get_business_settings

from . import charts, selectors, statements
from .forms import AsOfForm, PeriodRangeForm, StatementForm

logger = logging.getLogger(__name__)

READ = "billing.view_invoice"
OUTSTANDING_PAGE_SIZE = 100


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value):
    """Text a person typed (a name, a memo) that a spreadsheet would run as a formula is
    kept as text; amounts and dates are written as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _csv_response(filename: str, header: list[str], rows) -> HttpResponse:
    """CSV with a BOM (spreadsheets then read it as UTF-8), amounts as plain decimals."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows([_cell(value) for value in row] for row in rows)
    response = HttpResponse(
        ("\ufeff" + buffer.getvalue()).encode(), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _bad_filter(form) -> HttpResponse:
    """A CSV or PDF asked for with a bad filter: the errors as plain text."""
    lines = [f"{message}" for errors in form.errors.values() for message in errors]
    return HttpResponse("\n".join(lines), status=400, content_type="text/plain; charset=utf-8")


def _wants(request) -> str:
    return request.GET.get("format", "html")


@permission_required(READ, raise_exception=True)
def index(request):
    return render(request, "reports/index.html")


@permission_required(READ, raise_exception=True)
def outstanding(request):
    today = business_today()
    form = AsOfForm(request.GET, defaults={"as_of": today})
    report = None
    if form.is_valid():
        report = selectors.aging(form.cleaned_data["as_of"])
        if _wants(request) == "csv":
            balances = selectors.ledger_balances(
                report.as_of, {row.client_id for row in report.rows}
            )
            for row in report.rows:
                row.ledger_balance = balances[row.client_id]
            return _csv_response(
                f"outstanding-{report.as_of}.csv",
                [
                    "client",
                    "name",
                    "currency",
                    *selectors.BUCKET_KEYS,
                    "total",
                    "invoices",
                    "ledger_balance",
                ],
                [
                    [
                        row.code,
                        row.name,
                        row.currency,
                        *[row.buckets[key] for key in selectors.BUCKET_KEYS],
                        row.total,
                        row.count,
                        row.ledger_balance,
                    ]
                    for row in report.rows
                ],
            )
    elif _wants(request) == "csv":
        return _bad_filter(form)
    total_rows = [
        (currency, [totals[key] for key in selectors.BUCKET_KEYS], totals["total"])
        for currency, totals in (report.totals.items() if report else ())
    ]
    # A page of clients at a time (the totals are of all of them; the CSV has every row).
    page = Paginator(report.rows if report else [], OUTSTANDING_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    if report:
        shown = page.object_list
        balances = selectors.ledger_balances(report.as_of, {row.client_id for row in shown})
        for row in shown:
            row.ledger_balance = balances[row.client_id]
    return render(
        request,
        "reports/outstanding.html",
        {
            "form": form,
            "report": report,
            "page": page,
            "buckets": selectors.BUCKETS,
            "total_rows": total_rows,
        },
    )


@permission_required(READ, raise_exception=True)
def revenue(request):
    today = business_today()
    form = PeriodRangeForm(
        request.GET,
        defaults={"start": datetime.date(today.year, 1, 1), "end": today, "period": "month"},
    )
    context = {"form": form}
    if form.is_valid():
        start, end, period = (form.cleaned_data[key] for key in ("start", "end", "period"))
        periods = selectors.revenue(start, end, period=period, today=today)
        if _wants(request) == "csv":
            return _csv_response(
                f"revenue-{start}-{end}.csv",
                [
                    "period_start",
                    "period_end",
                    "currency",
                    "invoiced",
                    "tax",
                    "invoices",
                    "collected",
                    "outstanding_at_end",
                    # Already in invoiced and tax, which are net of credit notes.
                    "credited",
                    "credit_notes",
                ],
                [
                    [
                        p.start,
                        p.end,
                        p.currency,
                        p.invoiced,
                        p.tax,
                        p.invoice_count,
                        p.collected,
                        p.outstanding,
                        p.credited,
                        p.credit_note_count,
                    ]
                    for p in periods
                ],
            )
        by_currency: dict[str, list] = {}
        for found in periods:
            found.label = charts.period_name(found.start, period)
            by_currency.setdefault(found.currency, []).append(found)
        top_clients = selectors.top_clients(start, end)
        by_service = selectors.by_service(start, end)
        context.update(
            start=start,
            end=end,
            sections=[
                {
                    "currency": currency,
                    "periods": rows,
                    "chart": charts.invoiced_collected_svg(
                        rows,
                        currency=currency,
                        labels=charts.period_labels([row.start for row in rows], period),
                    ),
                    "top_clients": top_clients.get(currency, []),
                    "services": by_service.get(currency, []),
                    "totals": {
                        "invoiced": sum(row.invoiced for row in rows),
                        "credited": sum(row.credited for row in rows),
                        "tax": sum(row.tax for row in rows),
                        "collected": sum(row.collected for row in rows),
                        "invoice_count": sum(row.invoice_count for row in rows),
                        "credit_note_count": sum(row.credit_note_count for row in rows),
                    },
                }
                for currency, rows in by_currency.items()
            ],
        )
    elif _wants(request) == "csv":
        return _bad_filter(form)
    return render(request, "reports/revenue.html", context)


@permission_required(READ, raise_exception=True)
def tax(request):
    today = business_today()
    form = PeriodRangeForm(
        request.GET,
        defaults={"start": datetime.date(today.year, 1, 1), "end": today, "period": "quarter"},
    )
    rows = untaxed = None
    if form.is_valid():
        start, end, period = (form.cleaned_data[key] for key in ("start", "end", "period"))
        rows = selectors.tax_report(start, end, period=period)
        untaxed = selectors.untaxed_sales(start, end, period=period)
        if _wants(request) == "csv":
            return _csv_response(
                f"tax-{start}-{end}.csv",
                [
                    "period_start",
                    "period_end",
                    "tax",
                    "rate",
                    "registration_number",
                    "currency",
                    # Net of the credit notes issued in the period: the figures to file.
                    "taxable_base",
                    "tax_charged",
                    "invoices",
                    # The credit notes' part of the two above, negative.
                    "credited_base",
                    "credited_tax",
                    "credit_notes",
                ],
                [
                    *(
                        [
                            row["start"],
                            row["end"],
                            row["label"],
                            row["rate"],
                            row["number"],
                            row["currency"],
                            row["base"],
                            row["amount"],
                            row["invoices"],
                            row["credited_base"],
                            row["credited"],
                            row["credit_notes"],
                        ]
                        for row in rows
                    ),
                    # Exempt and foreign sales: their net amount, no tax charged.
                    *(
                        [
                            row["start"],
                            row["end"],
                            row["label"],
                            "",
                            "",
                            row["currency"],
                            row["amount"],
                            "0.00",
                            row["invoices"],
                            row["credited"],
                            "0.00",
                            row["credit_notes"],
                        ]
                        for row in untaxed
                    ),
                ],
            )
        for row in [*rows, *untaxed]:
            row["period_label"] = charts.period_name(row["start"], period)
    elif _wants(request) == "csv":
        return _bad_filter(form)
    return render(request, "reports/tax.html", {"form": form, "rows": rows, "untaxed": untaxed})


@permission_required(READ, raise_exception=True)
def statement(request):
    today = business_today()
    first_of_last_month = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    defaults = {"start": first_of_last_month, "end": today}
    wanted = _wants(request)
    report = None
    if "client" in request.GET or wanted != "html":
        form = StatementForm(request.GET, defaults=defaults)
        if form.is_valid():
            cleaned = form.cleaned_data
            report = selectors.statement(cleaned["client"], cleaned["start"], cleaned["end"])
            if wanted == "csv":
                return _statement_csv(report)
            if wanted == "pdf":
                return _statement_pdf(request, report)
            for entry in report.entries:
                entry.document_url = _document_url(entry)
        elif wanted != "html":
            return _bad_filter(form)
    else:  # opened from the navigation: the form only
        form = StatementForm(None, defaults=defaults)
    return render(
        request,
        "reports/statement.html",
        {"form": form, "report": report, "business": get_business_settings()},
    )


def _document_url(entry) -> str:
    """The page of the credit note or invoice a statement entry is about ("" for none). A
    credit note's own page may not be there (its pages come with their own slice): then
    the page of the invoice it credits."""
    if entry.credit_note_id:
        try:
            return entry.credit_note.get_absolute_url()
        except NoReverseMatch:
            pass
    return entry.invoice.get_absolute_url() if entry.invoice_id else ""


def _statement_csv(report) -> HttpResponse:
    currency = report.client.default_currency
    rows = [[report.start, "opening_balance", "", "", "", report.opening, ""]]
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
    return _csv_response(
        f"statement-{report.client.code}-{report.start}-{report.end}-{currency}.csv",
        ["date", "entry", "invoice", "memo", "amount", "balance", "credit_note"],
        rows,
    )


def _statement_pdf(request, report) -> HttpResponse:
    try:
        content = statements.statement_pdf(report)
    except Exception:  # WeasyPrint and Pango raise many kinds; the user gets a message
        logger.exception("Could not render the statement of %s", report.client.code)
        return HttpResponse(
            _("The PDF could not be made just now; try again later."),
            status=503,
            content_type="text/plain; charset=utf-8",
        )
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="{statements.statement_filename(report)}"'
    )
    return response


@permission_required("outbox.send_message", raise_exception=True)
@require_POST
def statement_send(request):
    """E-mail the statement shown on the page (its client and range) through the outbox."""
    form = StatementForm(request.POST, defaults={})
    back = (
        reverse("reports:statement")
        + "?"
        + urlencode({k: request.POST.get(k, "") for k in ("client", "start", "end")})
    )
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return HttpResponseRedirect(back)
    data = form.cleaned_data
    try:
        message = statements.send_statement(
            client=data["client"],
            start=data["start"],
            end=data["end"],
            to=request.POST.get("to", ""),
            acting_user=request.user,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return HttpResponseRedirect(back)
    messages.success(request, _("Statement queued for %(to)s.") % {"to": message.to_addresses})
    return HttpResponseRedirect(message.get_absolute_url())
