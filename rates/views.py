"""The exchange rates' pages: the list, and typing a rate in, changing and deleting one.
Bookkeepers and administrators write; viewers read (accounts.roles)."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from otb.forms import show_refusal
from otb.operations import DomainError
from otb.paging import keyset_page
from settings_app.selectors import business_today, get_business_settings

from .forms import RateFilterForm, RateForm
from .models import ExchangeRate
from .selectors import filter_rates
from .services import delete_rate, record_rate, update_rate

PAGE_SIZE = 50


@permission_required("rates.view_exchangerate", raise_exception=True)
def rate_list(request):
    filters = RateFilterForm(request.GET or None)
    selection = filters.selection()
    rates = ExchangeRate.objects.select_related("created_by")
    rates = rates.none() if selection is None else filter_rates(rates, **selection)
    page = keyset_page(
        rates,
        keys=("date", "id"),
        size=PAGE_SIZE,
        older=request.GET.get("older"),
        newer=request.GET.get("newer"),
    )
    # Paged newest first by (date, id), which an index reads on any number of rows; shown
    # by currency within a day, as a table of rates reads.
    page.items.sort(key=lambda rate: (-rate.date.toordinal(), rate.currency))
    base_currency = get_business_settings().default_currency
    return render(
        request,
        "rates/rate_list.html",
        {
            "page": page,
            "filters": filters,
            "base_currency": base_currency,
            # For the sentence that says what a rate means: "1 USD = 1.35 CAD".
            "example_currency": "EUR" if base_currency == "USD" else "USD",
        },
    )


@permission_required("rates.add_exchangerate", raise_exception=True)
def rate_create(request):
    base_currency = get_business_settings().default_currency
    form = RateForm(
        request.POST or None,
        base_currency=base_currency,
        initial={"currency": request.GET.get("currency", ""), "date": business_today()},
    )
    return _rate_form(
        request, form, None, lambda fields: record_rate(acting_user=request.user, **fields)
    )


@permission_required("rates.change_exchangerate", raise_exception=True)
def rate_edit(request, pk):
    rate = get_object_or_404(ExchangeRate, pk=pk)
    form = RateForm(request.POST or None, instance=rate, base_currency=rate.base_currency)
    return _rate_form(
        request,
        form,
        rate,
        lambda fields: update_rate(rate_row=rate, acting_user=request.user, **fields),
    )


def _rate_form(request, form, rate, save):
    """The add and change pages: ``save`` the form's fields, or show why not."""
    if request.method == "POST" and form.is_valid():
        try:
            saved = save(form.rate_fields())
        except DomainError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, _("Exchange rate saved: %(rate)s.") % {"rate": saved})
            return redirect("rates:list")
    return render(
        request,
        "rates/rate_form.html",
        {"form": form, "rate": rate, "base_currency": form.base_currency},
    )


@permission_required("rates.delete_exchangerate", raise_exception=True)
def rate_delete(request, pk):
    """Delete a rate typed in by mistake, after asking: issued documents keep theirs."""
    rate = get_object_or_404(ExchangeRate, pk=pk)
    if request.method == "POST":
        try:
            delete_rate(rate_row=rate, acting_user=request.user)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Exchange rate deleted: %(rate)s.") % {"rate": rate})
        return redirect("rates:list")
    return render(
        request,
        "billing/confirm.html",
        {
            "object": rate,
            "form": forms.Form(),
            "title": _("Delete the exchange rate %(rate)s?") % {"rate": rate},
            "button": _("Delete rate"),
            "danger": True,
            "back_url": reverse("rates:list"),
        },
    )
