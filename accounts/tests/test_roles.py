"""The roles of SPEC.md ("Access"): what each group may do, enforced by the operations."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission

from accounts.roles import ADMINISTRATOR, BOOKKEEPER, VIEWER
from billing import services
from billing.models import (
    Client,
    Invoice,
    InvoiceChange,
    InvoiceLine,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Service,
)
from billing.services import post_manual_credit, post_manual_debit
from ledger.models import LedgerEntry
from otb.operations import NotPermitted
from tests.factories import ClientFactory, ServiceFactory, draft, issued, line, pay

pytestmark = pytest.mark.django_db


def perms(group_name) -> set[str]:
    return {
        f"{app}.{codename}"
        for app, codename in Group.objects.get(name=group_name).permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


# --- The groups and their permissions ----------------------------------------------------
def test_the_three_role_groups_exist_after_migrations():
    assert set(
        Group.objects.filter(name__in=[ADMINISTRATOR, BOOKKEEPER, VIEWER]).values_list(
            "name", flat=True
        )
    ) == {ADMINISTRATOR, BOOKKEEPER, VIEWER}


def test_administrator_may_change_settings_and_add_users():
    granted = perms(ADMINISTRATOR)
    assert {"settings_app.change_businesssettings", "auth.add_user", "auth.change_user"} <= granted
    assert {"billing.issue_invoice", "billing.reverse_payment", "ledger.add_ledgerentry"} <= granted


def test_bookkeeper_keeps_the_books_but_not_settings_or_users():
    granted = perms(BOOKKEEPER)
    assert {
        "billing.add_client",
        "billing.add_invoice",
        "billing.issue_invoice",
        "billing.cancel_invoice",
        "billing.add_payment",
        "billing.confirm_payment",
        "billing.reverse_payment",
        "ledger.add_ledgerentry",
    } <= granted
    assert "settings_app.change_businesssettings" not in granted
    assert not {p for p in granted if p.startswith("auth.")}


def test_viewer_has_only_view_permissions():
    granted = perms(VIEWER)
    assert {"billing.view_invoice", "billing.view_payment", "ledger.view_ledgerentry"} <= granted
    assert all(p.split(".")[1].startswith("view_") for p in granted), granted
    assert "ledger.add_ledgerentry" not in granted


def test_nobody_may_change_or_delete_ledger_entries(administrator, bookkeeper, viewer):
    assert not Permission.objects.filter(
        content_type__app_label="ledger", codename__regex=r"^(change|delete)_"
    ).exists()
    for user in (administrator, bookkeeper, viewer):
        assert not user.has_perm("ledger.change_ledgerentry")
        assert not user.has_perm("ledger.delete_ledgerentry")


# --- The operations refuse a viewer ------------------------------------------------------
@pytest.fixture
def books(business):
    """A small set of books, made by the system, for every operation to act on."""
    client = ClientFactory()
    unpaid = issued(client=client)
    with_confirmed = issued(client=client)
    confirmed = pay(with_confirmed, "20.00")
    with_pending = issued(client=client)
    pending = pay(with_pending, "20.00", confirmed=False)
    post_manual_credit(client=client, amount=Decimal("50.00"), memo="Credit", acting_user=None)
    return {
        "client": client,
        "service": ServiceFactory(),
        "draft": draft(client=client),
        "unpaid": unpaid,
        "confirmed": confirmed,
        "pending": pending,
    }


OPERATIONS = {
    "create_client": lambda user, b: services.create_client(
        acting_user=user, code="NEWCO", name="New Co", country="CA"
    ),
    "update_client": lambda user, b: services.update_client(
        client=b["client"], acting_user=user, name="Renamed"
    ),
    "create_service": lambda user, b: services.create_service(
        acting_user=user, code="NEWSVC", name="New service", unit_price="10.00"
    ),
    "update_service": lambda user, b: services.update_service(
        service=b["service"], acting_user=user, unit_price="99.00"
    ),
    "create_draft": lambda user, b: services.create_draft(
        client=b["client"], lines=[line()], acting_user=user
    ),
    "update_invoice": lambda user, b: services.update_invoice(
        invoice=b["unpaid"], acting_user=user, lines=[line("2")]
    ),
    "delete_draft": lambda user, b: services.delete_draft(invoice=b["draft"], acting_user=user),
    "issue_invoice": lambda user, b: services.issue_invoice(invoice=b["draft"], acting_user=user),
    "cancel_invoice": lambda user, b: services.cancel_invoice(
        invoice=b["unpaid"], acting_user=user, reason="Wrong client"
    ),
    "record_payment": lambda user, b: services.record_payment(
        invoice=b["unpaid"],
        amount=Decimal("10.00"),
        date=datetime.date.today(),
        method=PaymentMethod.CASH,
        acting_user=user,
        confirmed=False,
    ),
    "confirm_payment": lambda user, b: services.confirm_payment(
        payment=b["pending"], acting_user=user
    ),
    "reverse_payment": lambda user, b: services.reverse_payment(
        payment=b["confirmed"], reason="Cheque bounced", acting_user=user
    ),
    "apply_client_credit": lambda user, b: services.apply_client_credit(
        invoice=b["unpaid"], amount=Decimal("10.00"), acting_user=user
    ),
    "post_manual_credit": lambda user, b: post_manual_credit(
        client=b["client"], amount=Decimal("5.00"), memo="Goodwill", acting_user=user
    ),
    "post_manual_debit": lambda user, b: post_manual_debit(
        client=b["client"], amount=Decimal("5.00"), memo="Fee", acting_user=user
    ),
}


def snapshot() -> dict:
    """Every row that an operation could change, with all its values."""
    models = [Client, Service, Invoice, InvoiceLine, InvoiceChange, Payment, LedgerEntry]
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in models}


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_viewer_is_refused_every_operation_and_nothing_changes(name, books, viewer):
    before = snapshot()
    with pytest.raises(NotPermitted):
        OPERATIONS[name](viewer, books)
    assert snapshot() == before


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_bookkeeper_may_do_every_operation(name, books, bookkeeper):
    before = snapshot()
    OPERATIONS[name](bookkeeper, books)
    assert snapshot() != before


def test_bookkeeper_is_recorded_as_the_one_who_acted(books, bookkeeper):
    payment = services.reverse_payment(
        payment=books["confirmed"], reason="Cheque bounced", acting_user=bookkeeper
    )
    assert payment.reversed_by == bookkeeper
    assert payment.status == PaymentStatus.REVERSED
    entry = LedgerEntry.objects.get(payment=payment, amount__lt=0)
    assert entry.created_by == bookkeeper


def test_inactive_user_is_refused_even_with_the_role(books, bookkeeper):
    bookkeeper.is_active = False
    bookkeeper.save()
    with pytest.raises(NotPermitted):
        OPERATIONS["issue_invoice"](bookkeeper, books)
