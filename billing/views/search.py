"""The navigation's search page, and the clients the invoice and payment forms offer as
one types (billing.search)."""

from django.contrib.auth.decorators import login_required, permission_required
from django.http import JsonResponse
from django.shortcuts import render

from billing import search as finding
from settings_app.selectors import business_today


@login_required
def search(request):
    user = request.user
    found = finding.find(
        request.GET.get("q", ""),
        clients=user.has_perm("billing.view_client"),
        invoices=user.has_perm("billing.view_invoice"),
        payments=user.has_perm("billing.view_payment"),
        today=business_today(),
    )
    return render(request, "billing/search.html", {"found": found})


@permission_required("billing.view_client", raise_exception=True)
def client_choices(request):
    """Active clients matching ``q``, for a client field's type-ahead: JSON
    ``{"clients": [{"code", "label"}]}``, at most ten."""
    clients = finding.find_clients(request.GET.get("q", ""), active_only=True)
    return JsonResponse(
        {"clients": [{"code": c.code, "label": f"{c.code} – {c.name}"} for c in clients]}
    )
