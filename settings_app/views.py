"""The business settings page: administrators only (SPEC: Settings). The e-mail panels on it
(failed messages, the test e-mail) are the outbox's template tags (outbox_tags)."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from otb.forms import show_refusal
from otb.operations import DomainError

from .forms import BusinessSettingsForm, TaxForm
from .models import ReminderStage, Tax
from .selectors import get_business_settings
from .services import create_tax, update_business_settings, update_tax


@permission_required("settings_app.change_businesssettings", raise_exception=True)
def settings_page(request):
    business = get_business_settings()
    form = BusinessSettingsForm(request.POST or None, request.FILES or None, instance=business)
    if request.method == "POST" and form.is_valid():
        try:
            update_business_settings(acting_user=request.user, **form.settings_fields())
        except DomainError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, _("Settings saved."))
            return redirect("settings")
    return render(
        request,
        "settings_app/settings.html",
        {
            "form": form,
            "business": business,
            "reminder_stages": ReminderStage.objects.all(),
            "taxes": Tax.objects.all(),
        },
    )


@permission_required("settings_app.change_tax", raise_exception=True)
def tax_form(request, pk=None):
    """Add a tax, or change one: documents already made keep what they copied."""
    tax = get_object_or_404(Tax, pk=pk) if pk is not None else None
    form = TaxForm(request.POST or None, instance=tax)
    if request.method == "POST" and form.is_valid():
        try:
            if tax is None:
                tax = create_tax(acting_user=request.user, **form.tax_fields())
            else:
                tax = update_tax(tax=tax, acting_user=request.user, **form.tax_fields())
        except DomainError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, _("Tax %(tax)s saved.") % {"tax": tax})
            return redirect("settings")
    return render(request, "settings_app/tax_form.html", {"form": form, "tax": tax})
