"""Services: what the business sells, with a default price for invoice lines."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from billing import services
from billing.forms.services import ServiceForm
from billing.models import Service
from otb.forms import show_refusal
from otb.operations import DomainError


@permission_required("billing.view_service", raise_exception=True)
def service_list(request):
    services_ = Service.objects.order_by("-is_active", "code")
    return render(request, "billing/service_list.html", {"services": services_})


@permission_required("billing.add_service", raise_exception=True)
def service_create(request):
    form = ServiceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            service = services.create_service(acting_user=request.user, **form.cleaned_data)
        except DomainError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, _("Service %(code)s added.") % {"code": service.code})
            return redirect("services:list")
    return render(request, "billing/service_form.html", {"form": form, "service": None})


@permission_required("billing.change_service", raise_exception=True)
def service_edit(request, code):
    service = get_object_or_404(Service, code=code)
    form = ServiceForm(request.POST or None, instance=service)
    if request.method == "POST" and form.is_valid():
        try:
            service = services.update_service(
                service=service, acting_user=request.user, **form.cleaned_data
            )
        except DomainError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, _("Service %(code)s saved.") % {"code": service.code})
            return redirect("services:list")
    return render(request, "billing/service_form.html", {"form": form, "service": service})
