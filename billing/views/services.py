"""Services: what the business sells, with a default price for invoice lines and its prices
in other currencies."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from billing import services
from billing.forms.services import BasePriceFormSet, PriceFormSet, ServiceForm, initial_prices
from billing.models import Service
from otb.forms import show_refusal
from otb.operations import DomainError
from settings_app.selectors import get_business_settings


@permission_required("billing.view_service", raise_exception=True)
def service_list(request):
    services_ = Service.objects.prefetch_related("prices").order_by("-is_active", "code")
    return render(request, "billing/service_list.html", {"services": services_})


def _forms(request, service: Service | None) -> tuple[ServiceForm, BasePriceFormSet, str]:
    base_currency = get_business_settings().default_currency
    form = ServiceForm(request.POST or None, instance=service, base_currency=base_currency)
    prices = PriceFormSet(request.POST or None, prefix="prices", initial=initial_prices(service))
    return form, prices, base_currency


def _form_page(request, *, form, prices, base_currency, service):
    return render(
        request,
        "billing/service_form.html",
        {"form": form, "prices": prices, "base_currency": base_currency, "service": service},
    )


@permission_required("billing.add_service", raise_exception=True)
def service_create(request):
    form, prices, base_currency = _forms(request, None)
    if request.method == "POST" and form.is_valid() and prices.is_valid():
        try:
            service = services.create_service(
                acting_user=request.user, prices=prices.prices(), **form.cleaned_data
            )
        except DomainError as exc:
            show_refusal(form, exc, prices)
        else:
            messages.success(request, _("Service %(code)s added.") % {"code": service.code})
            return redirect("services:list")
    return _form_page(request, form=form, prices=prices, base_currency=base_currency, service=None)


@permission_required("billing.change_service", raise_exception=True)
def service_edit(request, code):
    service = get_object_or_404(Service, code=code)
    form, prices, base_currency = _forms(request, service)
    if request.method == "POST" and form.is_valid() and prices.is_valid():
        try:
            service = services.update_service(
                service=service,
                acting_user=request.user,
                prices=prices.prices(),
                **form.cleaned_data,
            )
        except DomainError as exc:
            show_refusal(form, exc, prices)
        else:
            messages.success(request, _("Service %(code)s saved.") % {"code": service.code})
            return redirect("services:list")
    return _form_page(
        request, form=form, prices=prices, base_currency=base_currency, service=service
    )
