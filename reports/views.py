"""The report pages. Each reads its filters from the query string, asks selectors.py for the
figures and renders them as a page, or as CSV (``?format=csv``), or for the statement as PDF
(``?format=pdf``). A bad filter is shown on the page, next to its field (never a 500)."""

from __future__ import annotations

import datetime
import logging
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from billing.money import plain_decimal
from billing.selectors import client_currencies
from otb.operations import DomainError
from settings_app.selectors import business_today, get_business_settings

from . import charts, selectors, spreadsheets, statements
from .forms import AsOfForm, PeriodRangeForm, RangeForm, StatementForm

logger = logging.getLogger(__name__)

READ = "billing.view_invoice"
OUTSTANDING_PAGE_SIZE = 100
GAINS_PAGE_SIZE = 100


def _csv_response(filename: str, header: list[str], rows) -> HttpResponse:
    """CSV (spreadsheets.csv_content) as a download."""
    return _csv_download(filename, spreadsheets.csv_content(header, rows))


def _csv_download(filename: str, content: bytes) -> HttpResponse:
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
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


def _ledger_balances(report, rows) -> None:
    """Each row's ledger balance (in its currency) on the report's date."""
    balances = selectors.ledger_balances(report.as_of, {(r.client_id, r.currency) for r in rows})
    for row in rows:
        row.ledger_balance = balances[(row.client_id, row.currency)]


@permission_required(READ, raise_exception=True)
def outstanding(request):
    business = get_business_settings()
    today = business_today(business)
    form = AsOfForm(request.GET, defaults={"as_of": today})
    report = None
    if form.is_valid():
        report = selectors.aging(
            form.cleaned_data["as_of"], base_currency=business.default_currency
        )
        if _wants(request) == "csv":
            _ledger_balances(report, report.rows)
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
                    # Added last, so the columns before keep their places.
                    "base_currency",
                    "total_in_base",
                    "without_rate",
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
                        report.base_currency,
                        row.total_in_base,
                        row.without_rate,
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
        _ledger_balances(report, page.object_list)
    return render(
        request,
        "reports/outstanding.html",
        {
            "form": form,
            "report": report,
            "page": page,
            "buckets": selectors.BUCKETS,
            "total_rows": total_rows,
            # The base currency's line: when another currency is open, or one lacks a rate.
            "show_base": report is not None
            and (set(report.totals) - {report.base_currency} or report.without_rate),
            "base_amounts": [report.in_base[key] for key in selectors.BUCKET_KEYS]
            if report
            else [],
        },
    )


@permission_required(READ, raise_exception=True)
def revenue(request):
    business = get_business_settings()
    base = business.default_currency
    today = business_today(business)
    form = PeriodRangeForm(
        request.GET,
        defaults={"start": datetime.date(today.year, 1, 1), "end": today, "period": "month"},
    )
    context = {"form": form}
    if form.is_valid():
        start, end, period = (form.cleaned_data[key] for key in ("start", "end", "period"))
        periods = selectors.revenue(start, end, period=period, today=today, base_currency=base)
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
                    # The same in the base currency, from the stored base figures; added
                    # last, so the columns before keep their places.
                    "base_currency",
                    "invoiced_in_base",
                    "tax_in_base",
                    "collected_in_base",
                    "outstanding_at_end_in_base",
                    "credited_in_base",
                    "without_rate",
                    "refunds_without_base",
                    # Added last likewise: the invoices cancelled in the period (already in
                    # invoiced and tax, as a negative), and income, net of tax.
                    "cancelled",
                    "cancellations",
                    "cancelled_in_base",
                    "income",
                    "income_in_base",
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
                        base,
                        p.invoiced_in_base,
                        p.tax_in_base,
                        p.collected_in_base,
                        p.outstanding_in_base,
                        p.credited_in_base,
                        p.without_rate,
                        p.refunds_without_base,
                        p.cancelled,
                        p.cancellation_count,
                        p.cancelled_in_base,
                        p.income,
                        p.income_in_base,
                    ]
                    for p in periods
                ],
            )
        by_currency: dict[str, list] = {}
        for found in periods:
            found.label = charts.period_name(found.start, period)
            by_currency.setdefault(found.currency, []).append(found)
        in_base = selectors.revenue_in_base(periods, base_currency=base)
        for found in in_base:
            found.label = charts.period_name(found.start, period)
        top_clients = selectors.top_clients(start, end)
        by_service = selectors.by_service(start, end)
        context.update(
            start=start,
            end=end,
            base_currency=base,
            # What the clients owe at the end, net of their credit: the accounting
            # exports' receivables are checked against it.
            receivables=selectors.receivables(end),
            # Every currency in the base currency: when another currency is in the range,
            # or a figure lacks its base.
            base_section=(
                {
                    "periods": in_base,
                    "chart": charts.invoiced_collected_svg(
                        in_base,
                        currency=base,
                        labels=charts.period_labels([row.start for row in in_base], period),
                    ),
                    "totals": _totals(
                        in_base, "invoiced", "credited", "cancelled", "tax", "income", "collected"
                    ),
                    "without_rate": any(row.without_rate for row in in_base),
                    "refunds_without_base": sum(row.refunds_without_base for row in in_base),
                }
                if set(by_currency) - {base}
                or any(row.without_rate or row.refunds_without_base for row in in_base)
                else None
            ),
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
                    "totals": _totals(
                        rows, "invoiced", "credited", "cancelled", "tax", "income", "collected"
                    ),
                }
                for currency, rows in by_currency.items()
            ],
        )
    elif _wants(request) == "csv":
        return _bad_filter(form)
    return render(request, "reports/revenue.html", context)


def _totals(rows, *names: str) -> dict:
    """The sum of each of ``names`` over ``rows``: a table's last line."""
    return {name: sum((getattr(row, name) for row in rows), Decimal("0.00")) for name in names}


@permission_required(READ, raise_exception=True)
def tax(request):
    business = get_business_settings()
    base = business.default_currency
    today = business_today(business)
    form = PeriodRangeForm(
        request.GET,
        defaults={"start": datetime.date(today.year, 1, 1), "end": today, "period": "quarter"},
    )
    rows = untaxed = None
    context: dict = {}
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
                    # In the base currency, from the stored base figures; added last, so
                    # the columns before keep their places. A tax's base in the base
                    # currency is not kept: its cells are empty.
                    "base_currency",
                    "taxable_base_in_base",
                    "tax_charged_in_base",
                    "credited_base_in_base",
                    "credited_tax_in_base",
                    "without_rate",
                    # Added last likewise: the invoices cancelled in the period, their part
                    # of the figures above, negative.
                    "cancelled_base",
                    "cancelled_tax",
                    "cancellations",
                    "cancelled_base_in_base",
                    "cancelled_tax_in_base",
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
                            base,
                            "",
                            row["amount_in_base"],
                            "",
                            row["credited_in_base"],
                            row["without_rate"],
                            row["cancelled_base"],
                            row["cancelled"],
                            row["cancellations"],
                            "",
                            row["cancelled_in_base"],
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
                            base,
                            row["amount_in_base"],
                            "0.00",
                            row["credited_in_base"],
                            "0.00",
                            row["without_rate"],
                            row["cancelled"],
                            "0.00",
                            row["cancellations"],
                            row["cancelled_in_base"],
                            "0.00",
                        ]
                        for row in untaxed
                    ),
                ],
            )
        for row in [*rows, *untaxed]:
            row["period_label"] = charts.period_name(row["start"], period)
        currencies = {row["currency"] for row in [*rows, *untaxed]}
        lacking = any(row["without_rate"] for row in [*rows, *untaxed])
        if currencies - {base} or lacking:
            base_rows = selectors.tax_in_base(rows, base_currency=base)
            base_untaxed = selectors.tax_in_base(untaxed, base_currency=base)
            for row in [*base_rows, *base_untaxed]:
                row["period_label"] = charts.period_name(row["start"], period)
            context.update(
                base_currency=base,
                base_rows=base_rows,
                base_untaxed=base_untaxed,
                without_rate=lacking,
            )
    elif _wants(request) == "csv":
        return _bad_filter(form)
    return render(
        request, "reports/tax.html", {"form": form, "rows": rows, "untaxed": untaxed, **context}
    )


# The outcome columns of the quotes report, in selectors.QUOTE_OUTCOMES' order: the CSV's
# names and the page's headings.
QUOTE_COLUMNS = (
    ("accepted", gettext_lazy("Accepted")),
    ("declined", gettext_lazy("Declined")),
    ("expired", gettext_lazy("Expired")),
    ("withdrawn", gettext_lazy("Withdrawn")),
    # Sent, not yet answered, still valid.
    ("awaiting", gettext_lazy("Awaiting an answer")),
)


@permission_required("quotes.view_quote", raise_exception=True)
def quotes(request):
    """The quotes sent in a range, by period of their quote date and currency: how many
    and their value, what became of them as of today, and the share accepted."""
    today = business_today()
    form = PeriodRangeForm(
        request.GET,
        defaults={"start": datetime.date(today.year, 1, 1), "end": today, "period": "month"},
    )
    context: dict = {"form": form, "today": today, "columns": QUOTE_COLUMNS}
    if form.is_valid():
        start, end, period = (form.cleaned_data[key] for key in ("start", "end", "period"))
        rows = selectors.quotes_report(start, end, period=period, today=today)
        if _wants(request) == "csv":
            return _csv_response(
                f"quotes-{start}-{end}.csv",
                [
                    "period_start",
                    "period_end",
                    "currency",
                    "sent",
                    "sent_value",
                    *(
                        column
                        for name, _label in QUOTE_COLUMNS
                        for column in (name, f"{name}_value")
                    ),
                    "accepted_percent",
                    "as_of",
                ],
                [
                    [
                        row.start,
                        row.end,
                        row.currency,
                        row.sent.count,
                        row.sent.value,
                        *(figure for o in row.in_order for figure in (o.count, o.value)),
                        "" if row.accepted_percent is None else row.accepted_percent,
                        today,
                    ]
                    for row in rows
                ],
            )
        by_currency: dict[str, list] = {}
        for row in rows:
            row.label = charts.period_name(row.start, period)
            by_currency.setdefault(row.currency, []).append(row)
        context.update(
            start=start,
            end=end,
            sections=[
                {
                    "currency": currency,
                    "periods": periods,
                    "total": selectors.add_quote_periods(periods, currency=currency),
                }
                for currency, periods in by_currency.items()
            ],
        )
    elif _wants(request) == "csv":
        return _bad_filter(form)
    return render(request, "reports/quotes.html", context)


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
            report = selectors.statement(
                cleaned["client"], cleaned["start"], cleaned["end"], currency=cleaned["currency"]
            )
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
        {
            "form": form,
            "report": report,
            "business": get_business_settings(),
            # The client's other accounts, one statement each.
            "other_currencies": [
                currency
                for currency in client_currencies(report.client)
                if currency != report.currency
            ]
            if report
            else [],
        },
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
    return _csv_download(
        statements.statement_csv_filename(report), statements.statement_csv(report)
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
        + urlencode({k: request.POST.get(k, "") for k in ("client", "start", "end", "currency")})
    )
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return HttpResponseRedirect(back)
    data = form.cleaned_data
    try:
        sent = statements.send_statement(
            client=data["client"],
            start=data["start"],
            end=data["end"],
            currency=data["currency"],
            to=request.POST.get("to", ""),
            acting_user=request.user,
            base_url=request.build_absolute_uri("/"),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return HttpResponseRedirect(back)
    for message in sent:
        messages.success(request, _("Statement queued for %(to)s.") % {"to": message.to_addresses})
    # One recipient: its message's page; several: the outbox lists them.
    if len(sent) == 1:
        return HttpResponseRedirect(sent[0].get_absolute_url())
    return HttpResponseRedirect(reverse("outbox:list"))


@permission_required(READ, raise_exception=True)
def exchange_gains(request):
    """The realised exchange gains and losses of a range: a page of payments at a time, the
    totals of all of them; the CSV has every payment."""
    business = get_business_settings()
    today = business_today(business)
    form = RangeForm(request.GET, defaults={"start": datetime.date(today.year, 1, 1), "end": today})
    report = page = None
    if form.is_valid():
        report = selectors.exchange_gains(
            form.cleaned_data["start"],
            form.cleaned_data["end"],
            base_currency=business.default_currency,
        )
        if _wants(request) == "csv":
            return _csv_response(
                f"exchange-gains-{report.start}-{report.end}.csv",
                [
                    "date",
                    "client",
                    "name",
                    "invoice",
                    "currency",
                    "amount",
                    "payment_rate",
                    "invoice_rate",
                    "base_currency",
                    "amount_in_base",
                    "settled_in_base",
                    "exchange_difference",
                ],
                [
                    [
                        payment.date,
                        payment.client.code,
                        payment.client.name,
                        payment.invoice.number if payment.invoice_id else "",
                        payment.currency,
                        payment.amount,
                        plain_decimal(payment.exchange_rate),
                        plain_decimal(payment.invoice.exchange_rate) if payment.invoice_id else "",
                        report.base_currency,
                        payment.amount_in_base,
                        payment.settled_in_base,
                        payment.exchange_difference,
                    ]
                    for payment in report.payments.iterator(chunk_size=2000)
                ],
            )
        page = Paginator(report.payments, GAINS_PAGE_SIZE).get_page(request.GET.get("page"))
    elif _wants(request) == "csv":
        return _bad_filter(form)
    return render(
        request, "reports/exchange_gains.html", {"form": form, "report": report, "page": page}
    )
