"""Credit note pages: made from an invoice's page, the document (page, print, PDF) from the
invoice's template, and the draft's buttons (edit, issue, delete); refunds of a client's
credit. Views validate the shape of the input and call one operation."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _

from billing import pdf, rules, services
from billing.forms.credit_notes import CreditNoteForm, CreditNoteIssueForm, RefundForm
from billing.forms.invoices import ReasonForm
from billing.models import Client, CreditNote, Invoice, Refund
from billing.money import format_money
from billing.selectors import available_credit, client_currencies
from billing.services.credit_notes import lines_left
from otb.forms import show_refusal
from otb.operations import DomainError
from otb.paging import keyset_page
from settings_app.selectors import business_today, get_business_settings

from . import refused
from .documents import MAX_ID

PAGE_SIZE = 50


def _credit_note(pk: int) -> CreditNote:
    if pk > MAX_ID:
        raise Http404("No credit note with this id.")
    try:
        return pdf.load_credit_note(pk=pk)
    except CreditNote.DoesNotExist:
        raise Http404("No credit note with this id.") from None


@permission_required("billing.view_creditnote", raise_exception=True)
def credit_note_list(request):
    notes = CreditNote.objects.prefetch_related("client", "invoice")
    page = keyset_page(
        notes,
        keys=("created_at", "id"),
        size=PAGE_SIZE,
        older=request.GET.get("older"),
        newer=request.GET.get("newer"),
    )
    return render(request, "billing/credit_note_list.html", {"page": page})


@permission_required("billing.view_creditnote", raise_exception=True)
def credit_note_detail(request, pk: int):
    note = _credit_note(pk)
    business = get_business_settings()
    return render(
        request,
        "billing/credit_note_detail.html",
        {
            "note": note,
            "invoice": note.invoice,
            "doc": pdf.credit_note_data(note, business=business),
        },
    )


@permission_required("billing.view_creditnote", raise_exception=True)
def credit_note_pdf(request, pk: int):
    note = _credit_note(pk)
    response = HttpResponse(pdf.credit_note_pdf(note, request=request), "application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{pdf.credit_note_filename(note)}"'
    return response


def _form_page(request, *, invoice: Invoice, form, note: CreditNote | None = None):
    return render(
        request,
        "billing/credit_note_form.html",
        {"invoice": invoice, "form": form, "note": note},
    )


@permission_required("billing.add_creditnote", raise_exception=True)
def credit_note_create(request, pk: int):
    """What to credit of an issued invoice: all that remains, some lines, or an amount."""
    invoice = get_object_or_404(
        Invoice.objects.select_related("client").prefetch_related("lines", "taxes"), pk=pk
    )
    refusal = rules.credit_refusal(invoice)
    if refusal:
        messages.error(request, refusal)
        return HttpResponseRedirect(invoice.get_absolute_url())
    form = CreditNoteForm(
        request.POST or None, lines_left=lines_left(invoice), currency=invoice.currency
    )
    if request.method == "POST" and form.is_valid():
        try:
            note = services.create_credit_note(
                invoice=invoice, acting_user=request.user, **form.operation_fields()
            )
        except DomainError as exc:
            form.show(exc)
        else:
            messages.success(request, _("Draft credit note made: check it, then issue it."))
            return HttpResponseRedirect(note.get_absolute_url())
    return _form_page(request, invoice=invoice, form=form)


@permission_required("billing.change_creditnote", raise_exception=True)
def credit_note_edit(request, pk: int):
    note = _credit_note(pk)
    if not note.is_draft:
        messages.error(request, _("An issued credit note never changes."))
        return HttpResponseRedirect(note.get_absolute_url())
    invoice = Invoice.objects.prefetch_related("lines", "taxes").get(pk=note.invoice_id)
    initial = {
        "kind": note.kind,
        "amount": note.amount_asked,
        "reason": note.reason,
        **{f"line_{line.invoice_line_id}": line.quantity for line in note.lines.all()},
    }
    form = CreditNoteForm(
        request.POST or None,
        initial=initial,
        lines_left=lines_left(invoice),
        currency=invoice.currency,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_credit_note(
                credit_note=note, acting_user=request.user, **form.operation_fields()
            )
        except DomainError as exc:
            form.show(exc)
        else:
            messages.success(request, _("Draft credit note saved."))
            return HttpResponseRedirect(note.get_absolute_url())
    return _form_page(request, invoice=invoice, form=form, note=note)


def _confirm(request, note: CreditNote, *, form, title: str, button: str, danger=False):
    return render(
        request,
        "billing/confirm.html",
        {
            "object": note,
            "form": form,
            "title": title,
            "button": button,
            "danger": danger,
            "back_url": note.get_absolute_url(),
        },
    )


@permission_required("billing.issue_creditnote", raise_exception=True)
def credit_note_issue(request, pk: int):
    note = _credit_note(pk)
    if not note.is_draft:
        messages.error(request, _("Credit note %(number)s is already issued.") % {"number": note})
        return HttpResponseRedirect(note.get_absolute_url())
    form = CreditNoteIssueForm(request.POST or None, initial={"issue_date": business_today()})
    if request.method == "POST" and form.is_valid():
        try:
            note = services.issue_credit_note(
                credit_note=note, acting_user=request.user, **form.cleaned_data
            )
        except DomainError as exc:
            if exc.field in form.fields:
                show_refusal(form, exc)
            else:
                return refused(request, exc, note.get_absolute_url())
        else:
            messages.success(
                request,
                _("Credit note %(number)s issued: invoice %(invoice)s owes %(amount)s less.")
                % {
                    "number": note.number,
                    "invoice": note.invoice,
                    "amount": format_money(note.total, note.currency),
                },
            )
            return HttpResponseRedirect(note.get_absolute_url())
    return _confirm(
        request,
        note,
        form=form,
        title=_("Issue the credit note for %(invoice)s") % {"invoice": note.invoice},
        button=_("Issue credit note"),
    )


@permission_required("billing.delete_creditnote", raise_exception=True)
def credit_note_delete(request, pk: int):
    note = _credit_note(pk)
    if not note.is_draft:
        messages.error(request, _("An issued credit note is never deleted."))
        return HttpResponseRedirect(note.get_absolute_url())
    if request.method == "POST":
        try:
            services.delete_credit_note(credit_note=note, acting_user=request.user)
        except DomainError as exc:
            return refused(request, exc, note.get_absolute_url())
        messages.success(request, _("Draft credit note deleted."))
        return HttpResponseRedirect(note.invoice.get_absolute_url())
    return _confirm(
        request,
        note,
        form=forms.Form(),
        title=_("Delete the draft credit note for %(invoice)s") % {"invoice": note.invoice},
        button=_("Delete draft"),
        danger=True,
    )


# --- Refunds ------------------------------------------------------------------------------
@permission_required("billing.add_refund", raise_exception=True)
def refund_create(request, code: str):
    client = get_object_or_404(Client, code=code)
    currencies = client_currencies(client)
    form = RefundForm(
        request.POST or None,
        currencies=currencies,
        initial={"date": business_today(), "currency": currencies[0]},
    )
    if request.method == "POST" and form.is_valid():
        try:
            fields = form.cleaned_data | {"currency": form.cleaned_data["currency"] or None}
            services.record_refund(client=client, acting_user=request.user, **fields)
        except DomainError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, _("Refund recorded."))
            return HttpResponseRedirect(client.get_absolute_url())
    return render(
        request,
        "billing/refund_form.html",
        {
            "client": client,
            "form": form,
            "available": [(c, available_credit(client, c)) for c in currencies],
        },
    )


@permission_required("billing.reverse_refund", raise_exception=True)
def refund_reverse(request, pk: int):
    refund = get_object_or_404(Refund.objects.select_related("client"), pk=pk)
    back = refund.client.get_absolute_url()
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.reverse_refund(
                refund=refund, acting_user=request.user, reason=form.cleaned_data["reason"]
            )
        except DomainError as exc:
            if exc.field in form.fields:
                show_refusal(form, exc)
            else:
                return refused(request, exc, back)
        else:
            messages.success(request, _("Refund reversed: the amount is client credit again."))
            return HttpResponseRedirect(back)
    return render(
        request,
        "billing/confirm.html",
        {
            "object": refund,
            "form": form,
            "title": _("Reverse the refund of %(amount)s")
            % {"amount": format_money(refund.amount, refund.currency)},
            "button": _("Reverse refund"),
            "danger": True,
            "back_url": back,
        },
    )
