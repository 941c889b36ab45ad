"""Payment pages: the list, recording a payment, confirming and reversing one."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from billing import services
from billing.forms.filters import PaymentFilterForm
from billing.forms.invoices import PaymentForm, ReasonForm
from billing.lists import filter_payments
from billing.models import Invoice, Payment, PaymentMethod
from otb.forms import show_refusal
from otb.operations import DomainError
from otb.paging import keyset_page
from settings_app.selectors import business_today

from . import object_or_none, refused

PAGE_SIZE = 50


def _back(request, payment: Payment) -> str:
    """Where to go after an action: ?next= when it is ours, else the invoice or client."""
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    if payment.invoice is not None:
        return payment.invoice.get_absolute_url()
    return payment.client.get_absolute_url()


@permission_required("billing.view_payment", raise_exception=True)
def payment_list(request):
    # Prefetched, not joined: see invoice_list.
    payments = Payment.objects.prefetch_related("client", "invoice")
    filters = PaymentFilterForm(request.GET or None)
    selection = filters.selection()
    payments = payments.none() if selection is None else filter_payments(payments, **selection)
    page = keyset_page(
        payments,
        keys=("date", "id"),
        size=PAGE_SIZE,
        older=request.GET.get("older"),
        newer=request.GET.get("newer"),
    )
    return render(
        request,
        "billing/payment_list.html",
        {"page": page, "filters": filters},
    )


@permission_required("billing.add_payment", raise_exception=True)
def payment_create(request):
    if request.method == "POST":
        form = PaymentForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            invoice = None
            number = (data["invoice"] or "").strip()
            if number:
                invoice = Invoice.objects.filter(number__iexact=number).first()
                if invoice is None:
                    form.add_error(
                        "invoice",
                        _("Invoice number: no issued invoice is numbered %(number)s.")
                        % {"number": number},
                    )
            if not form.errors:
                try:
                    payment = services.record_payment(
                        client=data["client"],
                        invoice=invoice,
                        amount=data["amount"],
                        date=data["date"],
                        method=data["method"],
                        reference=data["reference"],
                        note=data["note"],
                        confirmed=data["confirmed"],
                        acting_user=request.user,
                    )
                except DomainError as exc:
                    show_refusal(form, exc)
                else:
                    messages.success(request, _("Payment recorded."))
                    return HttpResponseRedirect(_back(request, payment))
    else:
        initial = {"date": business_today(), "method": PaymentMethod.BANK_TRANSFER}
        invoice = object_or_none(Invoice, request.GET.get("invoice"))
        if invoice is not None and invoice.number:
            initial.update(
                client=invoice.client.code,
                invoice=invoice.number,
                amount=max(invoice.balance_due, 0) or None,
            )
        elif request.GET.get("client"):
            initial["client"] = request.GET["client"].upper()
        form = PaymentForm(initial=initial)
    return render(request, "billing/payment_form.html", {"form": form})


@permission_required("billing.confirm_payment", raise_exception=True)
@require_POST
def payment_confirm(request, pk):
    payment = get_object_or_404(Payment.objects.select_related("client", "invoice"), pk=pk)
    try:
        services.confirm_payment(payment=payment, acting_user=request.user)
    except DomainError as exc:
        return refused(request, exc, _back(request, payment))
    messages.success(request, _("Payment confirmed."))
    return HttpResponseRedirect(_back(request, payment))


@permission_required("billing.reverse_payment", raise_exception=True)
def payment_reverse(request, pk):
    payment = get_object_or_404(Payment.objects.select_related("client", "invoice"), pk=pk)
    form = ReasonForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.reverse_payment(
                payment=payment, reason=form.cleaned_data["reason"], acting_user=request.user
            )
        except DomainError as exc:
            if exc.field != "reason":
                return refused(request, exc, _back(request, payment))
            form.add_error("reason", exc.message)
        else:
            messages.success(request, _("Payment reversed."))
            return HttpResponseRedirect(_back(request, payment))
    return render(
        request,
        "billing/confirm.html",
        {
            "object": payment,
            "form": form,
            "title": _("Reverse %(payment)s of %(amount)s")
            % {"payment": payment, "amount": payment.amount},
            "button": _("Reverse payment"),
            "danger": True,
            "back_url": _back(request, payment),
        },
    )
