"""A client's ledger: every entry, oldest first, with its running balance."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from billing.money import format_money
from ledger.events import EntryKind
from ledger.selectors import client_balance, ledger_entries, ledger_entry_ids, with_running_balance
from otb.forms import show_refusal
from otb.operations import DomainError
from settings_app.selectors import business_today

from ..forms.ledger import ManualEntryForm
from ..models import Client
from ..selectors import client_currencies
from ..services import post_manual_credit, post_manual_debit

ENTRIES_PER_PAGE = 100


def ledger_page(client: Client, number, currency: str | None = None):
    """One page of the client's entries in ``currency``, oldest first, each with its
    running balance."""
    paginator = Paginator(ledger_entry_ids(client, currency), ENTRIES_PER_PAGE)
    # Oldest to newest, opening on the last page: the newest entries are what one looks for.
    page = paginator.get_page(number or paginator.num_pages)
    # The page's ids first, then its rows: MariaDB would otherwise join every skipped row.
    ids = list(page.object_list)
    page.object_list = with_running_balance(
        client, ledger_entries(client, currency).filter(id__in=ids)
    )
    return page


@permission_required(["billing.view_client", "ledger.view_ledgerentry"], raise_exception=True)
def client_ledger(request, code):
    client = get_object_or_404(Client, code=code)
    # SPEC: a client's ledger is kept per currency; one at a time, its own first.
    currencies = client_currencies(client)
    currency = request.GET.get("currency", "").upper()
    if currency not in currencies:
        currency = client.default_currency
    can_post = request.user.has_perm("ledger.add_ledgerentry")
    form = None
    if request.method == "POST":
        if not can_post:
            raise PermissionDenied
        form = ManualEntryForm(request.POST)
        if form.is_valid():
            post = (
                post_manual_credit
                if form.cleaned_data["kind"] == EntryKind.MANUAL_CREDIT
                else post_manual_debit
            )
            try:
                entry = post(
                    client=client,
                    amount=form.cleaned_data["amount"],
                    memo=form.cleaned_data["memo"],
                    date=form.cleaned_data["date"],
                    acting_user=request.user,
                    currency=currency,
                )
            except DomainError as exc:
                show_refusal(form, exc)
            else:
                messages.success(
                    request,
                    _("%(kind)s of %(amount)s posted.")
                    % {
                        "kind": entry.get_kind_display(),
                        "amount": format_money(abs(entry.amount), currency),
                    },
                )
                return redirect(
                    f"{reverse('clients:ledger', args=[client.code])}?currency={currency}"
                )
    elif can_post:
        form = ManualEntryForm(initial={"date": business_today()})

    page = ledger_page(client, request.GET.get("page"), currency)
    return render(
        request,
        "ledger/client_ledger.html",
        {
            "client": client,
            "page": page,
            "balance": client_balance(client, currency),
            "currency": currency,
            "currencies": currencies,
            "form": form,
        },
    )
