"""Clients: the list with balances, a client's page, and the form to add or change one."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from billing import services
from billing.forms.clients import ClientForm, ClientSearchForm
from billing.lists import filter_clients
from billing.models import Client, Payment
from billing.rules import client_deletion_refusal
from billing.selectors import available_credit, client_currencies, with_balance
from ledger.selectors import client_balance
from otb.forms import show_refusal
from otb.operations import DomainError
from settings_app.selectors import business_today, get_business_settings

CLIENTS_PER_PAGE = 50
LATEST_ON_CLIENT_PAGE = 25
# The page's "Show" choice as billing.lists.filter_clients' is_active.
SHOWN_CLIENTS = {"active": True, "inactive": False, "all": None}


@permission_required("billing.view_client", raise_exception=True)
def client_list(request):
    search = ClientSearchForm(request.GET or None)
    clients = Client.objects.all()
    query, active = "", "active"
    if search.is_bound and not search.is_valid():
        # Nothing listed, the error beside the search: as the invoice and payment lists.
        clients = clients.none()
        query = search.data.get("q", "")
    else:
        if search.is_bound:
            query = search.cleaned_data["q"].strip()
            active = search.cleaned_data["active"] or "active"
        clients = filter_clients(clients, search=query, is_active=SHOWN_CLIENTS[active])
    page = Paginator(with_balance(clients).order_by("code"), CLIENTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "billing/client_list.html",
        {"page": page, "search": search, "query": query, "active": active},
    )


@permission_required("billing.view_client", raise_exception=True)
def client_detail(request, code):
    client = get_object_or_404(Client, code=code)
    invoices = client.invoices.with_shown_status(today=business_today()).order_by(
        "-issue_date", "-created_at", "-id"
    )[:LATEST_ON_CLIENT_PAGE]
    payments = (
        Payment.objects.filter(client=client)
        .select_related("invoice")
        .order_by("-date", "-id")[:LATEST_ON_CLIENT_PAGE]
    )
    credit_notes = client.credit_notes.select_related("invoice").order_by("-created_at", "-id")[
        :LATEST_ON_CLIENT_PAGE
    ]
    refunds = client.refunds.order_by("-date", "-id")[:LATEST_ON_CLIENT_PAGE]
    return render(
        request,
        "billing/client_detail.html",
        {
            "client": client,
            "credit_notes": credit_notes,
            "refunds": refunds,
            "balance": client_balance(client),
            "credit": available_credit(client),
            # SPEC: a balance and a credit per currency; the client's own above.
            "other_currencies": [
                {
                    "currency": currency,
                    "balance": client_balance(client, currency),
                    "credit": available_credit(client, currency),
                }
                for currency in client_currencies(client)[1:]
            ],
            "deletable": client_deletion_refusal(client) is None,
            "invoices": invoices,
            "payments": payments,
            "latest_limit": LATEST_ON_CLIENT_PAGE,
        },
    )


@permission_required("billing.add_client", raise_exception=True)
def client_create(request):
    form = ClientForm(
        request.POST or None,
        initial={"default_currency": get_business_settings().default_currency},
    )
    if request.method == "POST" and form.is_valid():
        try:
            client = services.create_client(acting_user=request.user, **form.cleaned_data)
        except DomainError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, _("Client %(code)s added.") % {"code": client.code})
            if request.GET.get("then") == "invoice":
                # Added from the invoice form's "New client" link: back to a new invoice
                # for it. A fixed choice, never a URL from the request.
                return redirect(
                    f"{reverse('invoices:create')}?{urlencode({'client': client.code})}"
                )
            return redirect(client)
    return render(request, "billing/client_form.html", {"form": form, "client": None})


@permission_required("billing.change_client", raise_exception=True)
def client_edit(request, code):
    client = get_object_or_404(Client, code=code)
    form = ClientForm(request.POST or None, instance=client)
    if request.method == "POST" and form.is_valid():
        try:
            client = services.update_client(
                client=client, acting_user=request.user, **form.cleaned_data
            )
        except DomainError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, _("Client %(code)s saved.") % {"code": client.code})
            return redirect(client)
    return render(request, "billing/client_form.html", {"form": form, "client": client})


@permission_required("billing.delete_client", raise_exception=True)
def client_delete(request, code):
    """Delete a client entered by mistake; one with history is offered deactivation."""
    client = get_object_or_404(Client, code=code)
    refusal = client_deletion_refusal(client)
    if refusal:
        messages.error(request, refusal)
        return redirect(client.get_absolute_url())
    if request.method == "POST":
        try:
            services.delete_client(client=client, acting_user=request.user)
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect(client.get_absolute_url())
        messages.success(request, _("Client %(code)s deleted.") % {"code": code})
        return redirect("clients:list")
    return render(
        request,
        "billing/confirm.html",
        {
            "object": client,
            "form": forms.Form(),
            "title": _("Delete client %(code)s (%(name)s)")
            % {"code": client.code, "name": client.name},
            "button": _("Delete client"),
            "danger": True,
            "back_url": client.get_absolute_url(),
        },
    )
