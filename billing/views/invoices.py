"""Invoice pages: list, the draft form with live totals, and the lifecycle buttons.

Views validate the shape of the input, call one operation, and show its refusal on the form.
"""

from __future__ import annotations

from typing import cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from billing import rules, services
from billing.forms.filters import InvoiceFilterForm
from billing.forms.invoices import (
    BaseLineFormSet,
    ForeignIssueForm,
    InvoiceForm,
    IssueForm,
    LineFormSet,
    OptionalReasonForm,
    initial_lines,
)
from billing.lists import filter_invoices
from billing.models import Client, Invoice, InvoiceStatus, Service
from billing.money import format_money, plain_decimal
from billing.selectors import with_viewed_at
from otb.forms import show_refusal
from otb.operations import DomainError
from otb.paging import keyset_page
from settings_app.models import Tax
from settings_app.selectors import business_today, get_business_settings

from . import object_or_none, refused

PAGE_SIZE = 50


@permission_required("billing.view_invoice", raise_exception=True)
def invoice_list(request):
    today = business_today()
    # Clients by prefetch, not a join: joined, MariaDB would start the ordered, limited
    # query from the client table and sort a million invoices (bench/RESULTS.md).
    invoices = with_viewed_at(
        Invoice.objects.prefetch_related("client").with_shown_status(today=today)
    )
    filters = InvoiceFilterForm(request.GET or None)
    selection = filters.selection()
    if selection is None:
        invoices = invoices.none()
    else:
        invoices = filter_invoices(invoices, today=today, **selection)
    # Newest first, a page at a time from where the last one ended (otb.paging).
    page = keyset_page(
        invoices,
        keys=("created_at", "id"),
        size=PAGE_SIZE,
        older=request.GET.get("older"),
        newer=request.GET.get("newer"),
    )
    return render(
        request,
        "billing/invoice_list.html",
        {
            "page": page,
            "filters": filters,
            "statuses": InvoiceStatus,
        },
    )


def services_data() -> dict:
    """What the line form (of invoices, and of quotes) prefills from each active service,
    keyed by code: its default price (in the base currency) and its prices in other
    currencies, so that a line takes the price in the document's currency
    (``rules.price_from_service``) as it changes."""
    return {
        service.code: {
            "description": service.name,
            "unit": service.unit,
            "unit_price": plain_decimal(service.unit_price),
            "prices": {
                price.currency: plain_decimal(price.unit_price) for price in service.prices.all()
            },
            "taxable": service.taxable,
        }
        for service in Service.objects.filter(is_active=True).prefetch_related("prices")
    }


def shown_currency(form, invoice) -> str:
    """The currency the form's lines are priced in as the page is shown: the one chosen,
    else the invoice's, else its client's ("" before a client is chosen). The page's
    script follows it from there as the currency or the client changes."""
    chosen = form["currency"].value()
    if chosen:
        return str(chosen)
    if invoice is not None:
        return invoice.currency
    try:
        client = form.fields["client"].clean(form["client"].value())
    except forms.ValidationError:
        return ""
    return client.default_currency if client is not None else ""


def line_form_page(request, template: str, *, form, formset, document=None, **context):
    """The page of a document's form with lines and live totals (an invoice's, a quote's,
    a schedule's): ``template`` extends billing/invoice_form.html; ``document`` is the one
    edited (None: a new one); ``context`` adds what the template needs besides."""
    return render(
        request,
        template,
        {
            "form": form,
            "formset": formset,
            "currency": shown_currency(form, document),
            "services_data": services_data(),
            # A line may name the taxes it carries once there is more than one to choose.
            "several_taxes": Tax.objects.filter(is_active=True).count() > 1,
            **context,
        },
    )


def create_with_lines(request, *, form_class, create, success: str, page, initial: dict):
    """The "new" page of a document with lines: GET shows the form (the client named by
    ``?client=`` chosen, ``initial`` filled in); POST calls the operation ``create`` with
    the form's fields and lines and goes to the document, or shows its refusal beside the
    field it names. ``page(request, form=, formset=)`` renders the form."""
    if request.method == "POST":
        form = form_class(request.POST)
        formset = cast(BaseLineFormSet, LineFormSet(request.POST, prefix="lines"))
        if form.is_valid() and formset.is_valid():
            try:
                document = create(
                    acting_user=request.user,
                    lines=formset.line_data(),
                    **form.operation_fields(),
                )
            except DomainError as exc:
                show_refusal(form, exc, formset)
            else:
                messages.success(request, success)
                return HttpResponseRedirect(document.get_absolute_url())
    else:
        client = Client.objects.filter(code=request.GET.get("client", "").upper()).first()
        form = form_class(initial={"client": client.code if client else None, **initial})
        formset = cast(BaseLineFormSet, LineFormSet(prefix="lines"))
    return page(request, form=form, formset=formset)


def _form_page(request, *, form, formset, invoice=None, lock_reason=None):
    return line_form_page(
        request,
        "billing/invoice_form.html",
        form=form,
        formset=formset,
        document=invoice,
        invoice=invoice,
        lock_reason=lock_reason,
    )


@permission_required("billing.add_invoice", raise_exception=True)
def invoice_create(request):
    return create_with_lines(
        request,
        form_class=InvoiceForm,
        create=services.create_draft,
        success=_("Draft saved."),
        page=_form_page,
        initial={"terms": get_business_settings().payment_terms_text},
    )


@permission_required("billing.change_invoice", raise_exception=True)
def invoice_edit(request, pk):
    invoice = get_object_or_404(Invoice.objects.select_related("client"), pk=pk)
    lock_reason = services.invoice_lock_reason(invoice)
    initial = {
        "client": invoice.client.code,
        "currency": invoice.currency,
        "discount_kind": invoice.discount_kind,
        "discount_value": invoice.discount_value,
        "issue_date": invoice.issue_date,
        "due_date": invoice.due_date,
        "notes": invoice.notes,
        "terms": invoice.terms,
    }
    if request.method == "POST":
        form = InvoiceForm(
            request.POST,
            initial=initial,
            locked=bool(lock_reason),
            issued=not invoice.is_draft,
            current_client=invoice.client,
        )
        formset = None if lock_reason else LineFormSet(request.POST, prefix="lines")
        if form.is_valid() and (formset is None or formset.is_valid()):
            fields = form.operation_fields()
            if formset is not None:
                fields["lines"] = formset.line_data()
            try:
                services.update_invoice(invoice=invoice, acting_user=request.user, **fields)
            except DomainError as exc:
                show_refusal(form, exc, formset)
            else:
                messages.success(request, _("Invoice saved."))
                invoice.refresh_from_db()
                return HttpResponseRedirect(invoice.get_absolute_url())
    else:
        form = InvoiceForm(
            initial=initial,
            locked=bool(lock_reason),
            issued=not invoice.is_draft,
            current_client=invoice.client,
        )
        formset = (
            None if lock_reason else LineFormSet(prefix="lines", initial=initial_lines(invoice))
        )
    return _form_page(request, form=form, formset=formset, invoice=invoice, lock_reason=lock_reason)


@permission_required("billing.view_invoice", raise_exception=True)
@require_POST
def invoice_preview(request):
    """Live totals for the invoice form, computed by billing.money like a save would."""
    invoice = object_or_none(Invoice, request.POST.get("invoice"))
    return totals_json(
        form=InvoiceForm(request.POST),
        preview=lambda **fields: services.preview_invoice(invoice=invoice, **fields),
    )


def totals_json(*, form, preview):
    """The live totals of a document form (the invoice's, the quote's), as the page's script
    shows them, for the bound ``form`` and the lines posted with it. ``preview`` computes
    the figures as saving would, from the client, lines, discount and currency
    (``services.preview_invoice``, ``quotes.services.preview_quote``)."""
    formset = LineFormSet(form.data, prefix="lines")
    form.is_valid()
    if not form.data.get("client"):
        # A blank form is not an error: nothing is wrong yet.
        return JsonResponse(
            {"ok": False, "incomplete": True, "message": _("Choose a client to see the totals.")}
        )
    problems = []
    if not formset.is_valid():
        for number, line_form in enumerate(formset.forms, start=1):
            problems += [
                _("Line %(n)d: %(message)s") % {"n": number, "message": message}
                for messages_of_field in line_form.errors.values()
                for message in messages_of_field
            ]
        problems += formset.non_form_errors()
    # The other fields (dates, notes) do not change the totals. Each message names its
    # field (otb.forms.NamedErrorsMixin).
    problems += [m for name in ("client", "discount_value") for m in form.errors.get(name, [])]
    if problems:
        return JsonResponse({"ok": False, "message": " ".join(problems)})
    lines = formset.line_data()
    try:
        figures = preview(
            client=form.cleaned_data.get("client"),
            lines=lines,
            discount_kind=form.cleaned_data.get("discount_kind") or "",
            discount_value=form.cleaned_data.get("discount_value") or 0,
            currency=form.cleaned_data.get("currency") or None,
        )
    except DomainError as exc:
        return JsonResponse({"ok": False, "message": exc.message})
    currency = figures["currency"]
    base_currency = get_business_settings().default_currency
    return JsonResponse(
        {
            "ok": True,
            "currency": currency,
            "lines": [format_money(amount, currency) for amount in figures["lines"]],
            # Beside each line priced from a service in another currency than the invoice's.
            "warnings": [
                rules.service_price_warning(
                    line.service,
                    unit_price=line.unit_price,
                    currency=currency,
                    base_currency=base_currency,
                )
                if line.service is not None
                else None
                for line in lines
            ],
            "subtotal": format_money(figures["subtotal"], currency),
            "discount_total": format_money(figures["discount_total"], currency),
            "taxes": [
                {
                    "label": f"{tax['label']} {plain_decimal(tax['rate'])} %",
                    "amount": format_money(tax["amount"], currency),
                }
                for tax in figures["taxes"]
            ],
            "total": format_money(figures["total"], currency),
        }
    )


def _confirm_page(request, invoice, *, form, title, button, danger=False):
    return render(
        request,
        "billing/confirm.html",
        {
            "object": invoice,
            "form": form,
            "title": title,
            "button": button,
            "danger": danger,
            "back_url": invoice.get_absolute_url(),
        },
    )


def _invoice_action(request, pk, *, form_class, operation, title, button, success, danger=False):
    """GET: a confirmation form; POST: run ``operation`` with the form's fields."""
    invoice = get_object_or_404(Invoice.objects.select_related("client"), pk=pk)
    data = request.POST if request.method == "POST" else None
    form = form_class(data, initial={"issue_date": invoice.issue_date or business_today()})
    if request.method == "POST" and form.is_valid():
        try:
            operation(invoice=invoice, acting_user=request.user, **form.cleaned_data)
        except DomainError as exc:
            if exc.field in form.fields:
                form.add_error(exc.field, exc.message)
            else:
                return refused(request, exc, invoice.get_absolute_url())
        else:
            messages.success(request, success)
            invoice.refresh_from_db()
            return HttpResponseRedirect(invoice.get_absolute_url())
    return _confirm_page(
        request,
        invoice,
        form=form,
        title=title % {"invoice": invoice},
        button=button,
        danger=danger,
    )


@permission_required("billing.issue_invoice", raise_exception=True)
def invoice_issue(request, pk):
    currency = Invoice.objects.filter(pk=pk).values_list("currency", flat=True).first()
    foreign = currency is not None and currency != get_business_settings().default_currency
    return _invoice_action(
        request,
        pk,
        form_class=ForeignIssueForm if foreign else IssueForm,
        operation=services.issue_invoice,
        title=_("Issue %(invoice)s"),
        button=_("Issue invoice"),
        success=_("Invoice issued."),
    )


@permission_required("billing.cancel_invoice", raise_exception=True)
def invoice_cancel(request, pk):
    invoice = get_object_or_404(Invoice.objects.select_related("client"), pk=pk)
    refusal = rules.cancel_refusal(invoice)
    if refusal:
        # Not a form asking for a reason, to refuse it after: say why at once.
        messages.error(request, refusal)
        return HttpResponseRedirect(invoice.get_absolute_url())
    return _invoice_action(
        request,
        pk,
        form_class=OptionalReasonForm,
        operation=services.cancel_invoice,
        title=_("Cancel %(invoice)s"),
        button=_("Cancel invoice"),
        success=_("Invoice cancelled."),
        danger=True,
    )


@permission_required("billing.delete_invoice", raise_exception=True)
def invoice_delete(request, pk):
    invoice = get_object_or_404(Invoice, pk=pk)
    refusal = rules.delete_refusal(invoice)
    if refusal:
        messages.error(request, refusal)
        return HttpResponseRedirect(invoice.get_absolute_url())
    if request.method == "POST":
        try:
            services.delete_draft(invoice=invoice, acting_user=request.user)
        except DomainError as exc:
            return refused(request, exc, invoice.get_absolute_url())
        messages.success(request, _("Draft deleted."))
        return HttpResponseRedirect(reverse("invoices:list"))
    return _confirm_page(
        request,
        invoice,
        form=forms.Form(),
        title=_("Delete %(invoice)s") % {"invoice": invoice},
        button=_("Delete draft"),
        danger=True,
    )


@permission_required("billing.add_invoice", raise_exception=True)
@require_POST
def invoice_duplicate(request, pk):
    invoice = get_object_or_404(Invoice, pk=pk)
    try:
        copy = services.duplicate_invoice(invoice=invoice, acting_user=request.user)
    except DomainError as exc:
        return refused(request, exc, invoice.get_absolute_url())
    messages.success(
        request,
        _("A new draft with the client and lines of %(invoice)s: check it, then issue it.")
        % {"invoice": invoice},
    )
    return HttpResponseRedirect(reverse("invoices:edit", args=[copy.pk]))
