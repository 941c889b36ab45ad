"""Quote pages: the list, the form (the invoice form, reused, with live totals), the detail
page with the buttons of each state, print and PDF.

Views validate the shape of the input, call one operation (quotes.services), and show its
refusal on the form or, when no field is concerned, on the quote's page.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from billing.forms.invoices import LineFormSet, initial_lines
from billing.views import action_with_form, confirm_page, object_or_none, refused
from billing.views.documents import MAX_ID
from billing.views.invoices import create_with_lines, line_form_page, totals_json
from otb.forms import show_refusal
from otb.operations import DomainError
from otb.paging import keyset_page
from settings_app.selectors import business_today, get_business_settings

from . import services
from .document import load_quote, quote_data, quote_filename, quote_pdf
from .forms import AnswerForm, MarkSentForm, QuoteFilterForm, QuoteForm, WithdrawForm
from .models import Quote, QuoteAnswer, QuoteStatus
from .rules import answer_refusal, change_refusal, convert_refusal, delete_refusal
from .selectors import change_history, filter_quotes, with_shown_state

PAGE_SIZE = 50


def _quote(pk: int) -> Quote:
    if pk > MAX_ID:
        raise Http404("No quote with this id.")
    try:
        return load_quote(pk=pk)
    except Quote.DoesNotExist:
        raise Http404("No quote with this id.") from None


# --- List ---------------------------------------------------------------------------------
@permission_required("quotes.view_quote", raise_exception=True)
def quote_list(request):
    today = business_today()
    quotes = with_shown_state(Quote.objects.prefetch_related("client"), today=today)
    filters = QuoteFilterForm(request.GET or None)
    selection = filters.selection()
    # An invalid filter lists nothing, and says why beside the filters.
    quotes = quotes.none() if selection is None else filter_quotes(quotes, today=today, **selection)
    page = keyset_page(
        quotes,
        keys=("created_at", "id"),
        size=PAGE_SIZE,
        older=request.GET.get("older"),
        newer=request.GET.get("newer"),
    )
    return render(request, "quotes/quote_list.html", {"page": page, "filters": filters})


# --- The form -----------------------------------------------------------------------------
def _form_page(request, *, form, formset, quote: Quote | None = None):
    # The invoice form's template, which this page extends, calls the document it edits
    # "invoice" (its totals, its save button).
    return line_form_page(
        request,
        "quotes/quote_form.html",
        form=form,
        formset=formset,
        document=quote,
        quote=quote,
        invoice=quote,
    )


@permission_required("quotes.add_quote", raise_exception=True)
def quote_create(request):
    return create_with_lines(
        request,
        form_class=QuoteForm,
        create=services.create_quote,
        success=_("Draft quote saved."),
        page=_form_page,
        initial={"terms": get_business_settings().quote_terms_text},
    )


@permission_required("quotes.change_quote", raise_exception=True)
def quote_edit(request, pk):
    quote = _quote(pk)
    refusal = change_refusal(quote)
    if refusal:
        # SPEC: an accepted quote never changes (nor a closed one): no form to refuse after.
        messages.error(request, refusal)
        return HttpResponseRedirect(quote.get_absolute_url())
    initial = {
        "client": quote.client.code,
        "currency": quote.currency,
        "discount_kind": quote.discount_kind,
        "discount_value": quote.discount_value,
        "issue_date": quote.issue_date,
        "valid_until": quote.valid_until,
        "notes": quote.notes,
        "terms": quote.terms,
    }
    options = {"initial": initial, "sent": not quote.is_draft, "current_client": quote.client}
    if request.method == "POST":
        form = QuoteForm(request.POST, **options)
        formset = LineFormSet(request.POST, prefix="lines")
        if form.is_valid() and formset.is_valid():
            try:
                services.update_quote(
                    quote=quote,
                    acting_user=request.user,
                    lines=formset.line_data(),
                    **form.operation_fields(),
                )
            except DomainError as exc:
                show_refusal(form, exc, formset)
            else:
                messages.success(
                    request,
                    _("Draft quote saved.")
                    if quote.is_draft
                    else _("Quote %(number)s saved; the change is recorded.")
                    % {"number": quote.number},
                )
                return HttpResponseRedirect(quote.get_absolute_url())
    else:
        form = QuoteForm(**options)
        formset = LineFormSet(prefix="lines", initial=initial_lines(quote))
    return _form_page(request, form=form, formset=formset, quote=quote)


@permission_required("quotes.view_quote", raise_exception=True)
@require_POST
def quote_preview(request):
    """Live totals for the quote form, computed by billing.money like a save would."""
    quote = object_or_none(Quote, request.POST.get("quote"))
    data = request.POST
    if quote is not None and not quote.is_draft:
        # A sent quote keeps its client and currency: the page shows them disabled, and a
        # browser does not post a disabled field.
        data = data.copy()
        data["client"] = quote.client.code
        data["currency"] = quote.currency
    return totals_json(
        form=QuoteForm(data),
        preview=lambda **fields: services.preview_quote(quote=quote, **fields),
    )


# --- The document -------------------------------------------------------------------------
def _answer(quote: Quote) -> QuoteAnswer | None:
    return QuoteAnswer.objects.select_related("recorded_by").filter(quote=quote).first()


@permission_required("quotes.view_quote", raise_exception=True)
def quote_detail(request, pk: int):
    quote = _quote(pk)
    business = get_business_settings()
    today = business_today(business)
    doc = quote_data(quote, business=business, today=today)
    return render(
        request,
        "quotes/quote_detail.html",
        {
            "quote": quote,
            "business": business,
            "doc": doc,
            "answer": _answer(quote),
            "history": change_history(quote),
            # What the quote's state allows; the buttons also need the user's permission.
            "can_edit": change_refusal(quote) is None,
            "can_delete": delete_refusal(quote) is None,
            "can_mark_sent": quote.is_draft,
            "can_withdraw": quote.status == QuoteStatus.SENT,
            "can_answer": answer_refusal(quote, today=today, by_client=False) is None,
            "can_convert": quote.invoice_id is None and convert_refusal(quote) is None,
            "mark_sent_form": MarkSentForm(auto_id="mark-sent-%s"),
            "withdraw_form": WithdrawForm(auto_id="withdraw-%s"),
            "answer_form": AnswerForm(auto_id="answer-%s"),
        },
    )


@permission_required("quotes.view_quote", raise_exception=True)
def quote_print(request, pk: int):
    """The document alone, laid out for the browser to print."""
    quote = _quote(pk)
    return render(request, "quotes/quote_print.html", {"quote": quote, "doc": quote_data(quote)})


@permission_required("quotes.view_quote", raise_exception=True)
def quote_pdf_view(request, pk: int):
    quote = _quote(pk)
    response = HttpResponse(quote_pdf(quote, request=request), "application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{quote_filename(quote)}"'
    return response


# --- The buttons --------------------------------------------------------------------------
def _confirm_page(request, quote: Quote, *, form, title: str, button: str, danger=False):
    return confirm_page(
        request, quote, form=form, title=title % {"quote": quote}, button=button, danger=danger
    )


def _quote_action(request, pk: int, *, title: str, **action):
    """An action on the quote that takes a form's details (``action_with_form``)."""
    quote = _quote(pk)
    return action_with_form(
        request, quote, argument="quote", title=title % {"quote": quote}, **action
    )


@permission_required("quotes.send_quote", raise_exception=True)
def quote_mark_sent(request, pk: int):
    return _quote_action(
        request,
        pk,
        form_class=MarkSentForm,
        operation=services.mark_sent,
        title=_("Mark %(quote)s as sent"),
        button=_("Mark as sent"),
        success=_("Quote marked as sent."),
    )


@permission_required("quotes.send_quote", raise_exception=True)
def quote_withdraw(request, pk: int):
    return _quote_action(
        request,
        pk,
        form_class=WithdrawForm,
        operation=services.withdraw_quote,
        title=_("Withdraw %(quote)s"),
        button=_("Withdraw quote"),
        success=_("Quote withdrawn."),
        danger=True,
    )


@permission_required("quotes.answer_quote", raise_exception=True)
def quote_answer(request, pk: int):
    return _quote_action(
        request,
        pk,
        form_class=AnswerForm,
        operation=services.record_answer,
        title=_("Record the client's answer to %(quote)s"),
        button=_("Record answer"),
        success=_("The client's answer is recorded."),
    )


@permission_required("quotes.delete_quote", raise_exception=True)
def quote_delete(request, pk: int):
    quote = _quote(pk)
    if request.method == "POST":
        try:
            services.delete_quote(quote=quote, acting_user=request.user)
        except DomainError as exc:
            return refused(request, exc, quote.get_absolute_url())
        messages.success(request, _("Draft quote deleted."))
        return HttpResponseRedirect(reverse("quotes:list"))
    return _confirm_page(
        request,
        quote,
        form=forms.Form(),
        title=_("Delete %(quote)s"),
        button=_("Delete draft"),
        danger=True,
    )


@permission_required("quotes.convert_quote", raise_exception=True)
@require_POST
def quote_convert(request, pk: int):
    quote = _quote(pk)
    already = quote.invoice
    try:
        invoice = services.convert_quote(quote=quote, acting_user=request.user)
    except DomainError as exc:
        return refused(request, exc, quote.get_absolute_url())
    if already is not None:
        messages.info(
            request,
            _("%(quote)s was already converted into this invoice.") % {"quote": quote},
        )
    else:
        messages.success(
            request,
            _("Draft invoice made from %(quote)s: check it, then issue it.") % {"quote": quote},
        )
    return HttpResponseRedirect(invoice.get_absolute_url())


@permission_required("quotes.add_quote", raise_exception=True)
@require_POST
def quote_duplicate(request, pk: int):
    quote = _quote(pk)
    try:
        copy = services.duplicate_quote(quote=quote, acting_user=request.user)
    except DomainError as exc:
        return refused(request, exc, quote.get_absolute_url())
    messages.success(
        request,
        _("A new draft with the client and lines of %(quote)s: check it, then send it.")
        % {"quote": quote},
    )
    return HttpResponseRedirect(reverse("quotes:edit", args=[copy.pk]))
