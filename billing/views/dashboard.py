"""The dashboard: what is owed, overdue, invoiced and collected, and the latest activity.
E-mail needing attention is the outbox's panel (outbox_tags), loaded by the template."""

from django.contrib.auth.decorators import permission_required
from django.shortcuts import render

from billing.selectors import dashboard_figures, latest_invoices, latest_payments
from settings_app.selectors import business_today, get_business_settings


@permission_required(["billing.view_invoice", "billing.view_payment"], raise_exception=True)
def dashboard(request):
    business = get_business_settings()
    today = business_today(business)
    return render(
        request,
        "billing/dashboard.html",
        {
            "figures": dashboard_figures(today=today, default_currency=business.default_currency),
            "invoices": latest_invoices(today=today),
            "payments": latest_payments(),
        },
    )
