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
from billing.forms.invoices import PaymentDetailsForm, PaymentForm, ReasonForm
from billing.lists import filter_payments
from billing.models import Invoice, Payment, PaymentMethod, PaymentStatus
from billing.money import format_money
from billing.selectors import available_credit, payment_split
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


def recorded_message(payment: Payment) -> str:
    """What a payment did: how much paid its invoice and how much went to the client's
    credit, so an overpayment is never silent (SPEC: Payments)."""
    currency = payment.currency
    values = {
        "amount": format_money(payment.amount, currency),
        "invoice": payment.invoice.number if payment.invoice else "",
        "client": payment.client.code,
    }
    if payment.status == PaymentStatus.PENDING:
        return _("Pending payment of %(amount)s recorded: it counts once it is confirmed.") % values
    applied, to_credit = payment_split(payment)
    values |= {
        "applied": format_money(applied, currency),
        "credit": format_money(to_credit, currency),
        "available": format_money(available_credit(payment.client, currency), currency),
    }
    if payment.invoice is None:
        return (
            _(
                "Payment of %(amount)s recorded on %(client)s's account as credit "
                "(available credit now %(available)s)."
            )
            % values
        )
    if to_credit > 0:
        return (
            _(
                "Payment of %(amount)s recorded: %(applied)s paid %(invoice)s in full and "
                "%(credit)s went to %(client)s's credit (available credit now %(available)s)."
            )
            % values
        )
    payment.invoice.refresh_from_db()
    due = payment.invoice.balance_due
    if due > 0:
        values["due"] = format_money(due, currency)
        return _("Payment of %(amount)s recorded on %(invoice)s; %(due)s is still due.") % values
    return _("Payment of %(amount)s recorded: %(invoice)s is paid in full.") % values


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
                        currency=data["currency"] or None,
                        exchange_rate=data["exchange_rate"] or None,
                        acting_user=request.user,
                    )
                except DomainError as exc:
                    show_refusal(form, exc)
                else:
                    messages.success(request, recorded_message(payment))
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


@permission_required("billing.change_payment", raise_exception=True)
def payment_edit(request, pk):
    """Correct a pending payment; a confirmed one is reversed and entered again."""
    payment = get_object_or_404(Payment.objects.select_related("client", "invoice"), pk=pk)
    if payment.status != PaymentStatus.PENDING:
        messages.error(
            request,
            _(
                "Only a pending payment can be corrected. A confirmed payment has counted: "
                "reverse it and record it again."
            ),
        )
        return HttpResponseRedirect(_back(request, payment))
    fields = ("amount", "date", "method", "reference", "note")
    if request.method == "POST":
        form = PaymentDetailsForm(request.POST)
        if form.is_valid():
            try:
                services.update_payment(
                    payment=payment,
                    acting_user=request.user,
                    **{name: form.cleaned_data[name] for name in fields},
                )
            except DomainError as exc:
                show_refusal(form, exc)
            else:
                messages.success(request, _("Pending payment corrected."))
                return HttpResponseRedirect(_back(request, payment))
    else:
        form = PaymentDetailsForm(initial={name: getattr(payment, name) for name in fields})
    return render(request, "billing/payment_form.html", {"form": form, "correcting": payment})


@permission_required("billing.confirm_payment", raise_exception=True)
@require_POST
def payment_confirm(request, pk):
    payment = get_object_or_404(Payment.objects.select_related("client", "invoice"), pk=pk)
    try:
        services.confirm_payment(payment=payment, acting_user=request.user)
    except DomainError as exc:
        return refused(request, exc, _back(request, payment))
    payment.refresh_from_db()
    messages.success(request, recorded_message(payment))
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
            % {
                "payment": payment,
                "amount": format_money(payment.amount, payment.currency),
            },
            "button": _("Reverse payment"),
            "danger": True,
            "back_url": _back(request, payment),
        },
    )
