"""The back office: every write goes through the operations, every refusal is shown on the
page (never a server error), nothing is saved when something is refused."""

import datetime
import re
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils.html import escape

from billing import services
from billing.models import (
    Client,
    Invoice,
    InvoiceChange,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    PaymentStatus,
)
from billing.rules import invoice_lock_reason
from ledger.models import LedgerEntry
from ledger.selectors import client_balance
from tests.factories import ClientFactory, ServiceFactory, draft, issued, line, pay

from .admin_forms import form_data, line_fields

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture
def office(client, bookkeeper, business):
    client.force_login(bookkeeper)
    return client


def add_invoice_data(office, acme, *lines, **fields):
    data = form_data(office.get(reverse("admin:billing_invoice_add")))
    data.update({"client": str(acme.pk), **fields})
    for index, values in enumerate(lines):
        data.update(line_fields(index, **values))
    return data


def counts():
    return (
        Invoice.objects.count(),
        InvoiceLine.objects.count(),
        Payment.objects.count(),
        LedgerEntry.objects.count(),
        Client.objects.count(),
    )


# --- Pages render -------------------------------------------------------------------------
@pytest.mark.parametrize("model", ["client", "service", "invoice", "payment"], ids=lambda m: m)
def test_changelist_add_and_change_pages_render(office, model):
    invoice = issued()
    pay(invoice, "10.00")
    obj = {
        "client": invoice.client,
        "service": ServiceFactory(),
        "invoice": invoice,
        "payment": invoice.payments.first(),
    }[model]
    for url in (
        reverse(f"admin:billing_{model}_changelist"),
        reverse(f"admin:billing_{model}_add"),
        reverse(f"admin:billing_{model}_change", args=[obj.pk]),
    ):
        assert office.get(url).status_code == 200, url


def test_client_list_shows_balances_in_colour(office):
    owing = issued()
    in_credit = issued()
    pay(in_credit, "200.00")
    ClientFactory()
    page = office.get(reverse("admin:billing_client_changelist")).content.decode()
    assert 'class="otb-negative">-113.00' in page
    assert 'class="otb-positive">87.00' in page
    assert 'class="otb-zero">0.00' in page
    assert owing.client.code in page


# --- Clients ------------------------------------------------------------------------------
def test_client_is_added_through_the_admin(office):
    data = form_data(office.get(reverse("admin:billing_client_add")))
    data.update(code="ACME", name="Acme Ltd", country="CA", default_currency="CAD")
    response = office.post(reverse("admin:billing_client_add"), data)
    assert response.status_code == 302
    assert Client.objects.get(code="ACME").name == "Acme Ltd"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("code", "", "This field is required"),
        ("code", "acme corp", "Use capital letters"),
        ("country", "C1", "two-letter country code"),
        ("country", "Canada", "at most 2 characters"),
        ("default_currency", "XYZ", "not one of the available choices"),
        ("email", "not-an-email", "valid email"),
    ],
)
def test_bad_client_input_is_refused_on_the_form(office, field, value, message):
    data = form_data(office.get(reverse("admin:billing_client_add")))
    data.update(code="ACME", name="Acme Ltd", country="CA", default_currency="CAD")
    data[field] = value
    before = counts()
    response = office.post(reverse("admin:billing_client_add"), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert counts() == before


def test_a_clients_currency_changes_and_its_invoices_keep_theirs(office):
    """SPEC: a client's currency is the default of its new documents, no more."""
    invoice = issued()
    url = reverse("admin:billing_client_change", args=[invoice.client.pk])
    data = form_data(office.get(url))
    data["default_currency"] = "USD"
    response = office.post(url, data)
    assert response.status_code == 302
    invoice.client.refresh_from_db()
    invoice.refresh_from_db()
    assert (invoice.client.default_currency, invoice.currency) == ("USD", "CAD")


# --- Invoices -----------------------------------------------------------------------------
def test_draft_with_lines_is_created_through_the_admin(office):
    acme = ClientFactory()
    service = ServiceFactory(unit_price=D("85.0000"), unit="h")
    data = add_invoice_data(
        office,
        acme,
        {"service": str(service.pk), "quantity": "1.5", "discount_percent": "0", "taxable": "on"},
        {
            "description": "Materials",
            "quantity": "1",
            "unit_price": "20.00",
            "discount_percent": "0",
            "taxable": "",
        },
    )
    response = office.post(reverse("admin:billing_invoice_add"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    invoice = Invoice.objects.get(client=acme)
    assert invoice.status == InvoiceStatus.DRAFT
    assert [line.amount for line in invoice.lines.all()] == [D("127.50"), D("20.00")]
    assert invoice.lines.first().description == service.name  # taken from the service
    # 13 % on the taxable 127.50 only: 16.575 -> 16.58
    assert invoice.total == D("164.08")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"quantity": "abc"}, "is not a number"),
        ({"unit_price": "1e4"}, "Unit price: “1e4” is not a number"),
        ({"quantity": "1.23456"}, "use at most 3 decimal places"),
        ({"quantity": "-1"}, "must be at least 0"),
        ({"unit_price": "-5"}, "must be at least 0"),
        ({"unit_price": "1.123456"}, "use at most 4 decimal places"),
        ({"unit_price": "99999999999999999"}, "must be at most 9999999999.9999"),
        ({"discount_percent": "101"}, "must be at most 100"),
        ({"description": "", "quantity": "2"}, "Enter a description or choose a service"),
        ({"unit_price": "", "quantity": "2"}, "Enter a unit price or choose a service"),
    ],
)
def test_bad_line_is_refused_on_the_form_and_nothing_saved(office, values, message):
    acme = ClientFactory()
    good = {"description": "Work", "quantity": "1", "unit_price": "100", "discount_percent": "0"}
    data = add_invoice_data(office, acme, good | values)
    before = counts()
    response = office.post(reverse("admin:billing_invoice_add"), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert counts() == before


def test_fixed_discount_above_subtotal_is_shown_on_the_discount_field(office):
    acme = ClientFactory()
    data = add_invoice_data(
        office,
        acme,
        {"description": "Work", "quantity": "1", "unit_price": "100", "discount_percent": "0"},
        discount_kind="fixed",
        discount_value="150",
    )
    before = counts()
    response = office.post(reverse("admin:billing_invoice_add"), data)
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "cannot be more than the subtotal" in str(form.errors["discount_value"])
    assert counts() == before


def test_issue_button_gives_a_number(office):
    invoice = draft()
    url = reverse("admin:billing_invoice_issue", args=[invoice.pk])
    assert office.get(url).status_code == 200
    response = office.post(url, {"issue_date": "2026-03-01", "due_date": ""})
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert invoice.number == "INV-0001"
    assert str(invoice.due_date) == "2026-03-31"


def test_issue_with_due_date_before_issue_date_is_refused_on_the_form(office):
    invoice = draft()
    url = reverse("admin:billing_invoice_issue", args=[invoice.pk])
    response = office.post(url, {"issue_date": "2026-03-01", "due_date": "2026-02-01"})
    assert response.status_code == 200
    assert "cannot be before the issue date" in response.content.decode()
    invoice.refresh_from_db()
    assert invoice.number is None


def test_issue_action_issues_selected_drafts(office):
    first, second = draft(), draft()
    response = office.post(
        reverse("admin:billing_invoice_changelist"),
        {"action": "issue_selected", "_selected_action": [first.pk, second.pk]},
    )
    assert response.status_code == 302
    assert sorted(Invoice.objects.values_list("number", flat=True)) == ["INV-0001", "INV-0002"]


def test_locked_invoice_shows_why_and_its_lines_read_only(office):
    invoice = issued()
    pay(invoice, "10.00")
    page = office.get(reverse("admin:billing_invoice_change", args=[invoice.pk]))
    html = page.content.decode()
    assert "payments that are not reversed" in html
    assert 'name="lines-0-quantity"' not in html
    assert 'name="client"' not in html


def test_a_locked_invoice_takes_only_its_notes_from_the_admin_form(office):
    invoice = issued()
    pay(invoice, "10.00")
    other = ClientFactory()
    url = reverse("admin:billing_invoice_change", args=[invoice.pk])
    data = form_data(office.get(url))
    data.update({"client": str(other.pk), "lines-0-quantity": "9", "notes": "Paid in part"})
    office.post(url, data)
    invoice.refresh_from_db()
    assert invoice.client_id != other.pk
    assert invoice.total == D("113.00")
    assert invoice.notes == "Paid in part"  # notes stay editable


def test_change_of_an_invoice_paid_while_the_admin_saves_is_refused_by_the_service(
    office, monkeypatch
):
    invoice = issued()
    other = ClientFactory()
    url = reverse("admin:billing_invoice_change", args=[invoice.pk])
    data = form_data(office.get(url))
    data["client"] = str(other.pk)
    update_invoice = services.update_invoice

    def paid_meanwhile(**kwargs):
        # Another user records a payment after the admin found the invoice unlocked and took
        # the new client, just before its save: only the service's own check is left.
        pay(invoice, "10.00")
        return update_invoice(**kwargs)

    monkeypatch.setattr(services, "update_invoice", paid_meanwhile)
    response = office.post(url, data)

    assert response.status_code == 200
    invoice.refresh_from_db()
    reason = invoice_lock_reason(invoice)
    assert response.context["adminform"].form.errors["client"] == [reason]
    assert escape(reason) in response.content.decode()
    assert invoice.client_id != other.pk
    assert client_balance(other) == D("0.00")
    assert not InvoiceChange.objects.exists()


def test_cancelling_a_locked_invoice_is_refused_with_its_reason(office):
    invoice = issued()
    pay(invoice, "10.00")
    response = office.post(
        reverse("admin:billing_invoice_cancel", args=[invoice.pk]), {"reason": "x"}, follow=True
    )
    assert "payments that are not reversed" in response.content.decode()
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PARTIAL


def test_cancel_button_cancels_and_credits_the_ledger(office):
    invoice = issued()
    office.post(reverse("admin:billing_invoice_cancel", args=[invoice.pk]), {"reason": "Typo"})
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.CANCELLED
    assert invoice.cancel_reason == "Typo"
    assert client_balance(invoice.client) == D("0.00")


def test_edit_of_issued_invoice_is_recorded_and_shown(office):
    invoice = issued()
    url = reverse("admin:billing_invoice_change", args=[invoice.pk])
    data = form_data(office.get(url))
    data["lines-0-quantity"] = "2"
    response = office.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    invoice.refresh_from_db()
    assert invoice.total == D("226.00")
    page = office.get(url).content.decode()
    assert "113.00" in page and "226.00" in page
    assert "change history" in page.lower()


def test_issued_invoice_cannot_be_deleted_in_the_admin(office):
    invoice = issued()
    response = office.post(
        reverse("admin:billing_invoice_delete", args=[invoice.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert Invoice.objects.filter(pk=invoice.pk).exists()


def test_draft_is_deleted_through_the_admin(office):
    invoice = draft()
    response = office.post(
        reverse("admin:billing_invoice_delete", args=[invoice.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Invoice.objects.filter(pk=invoice.pk).exists()


# --- Payments -----------------------------------------------------------------------------
def payment_data(office, invoice, **fields):
    url = reverse("admin:billing_payment_add") + f"?invoice={invoice.pk}"
    data = form_data(office.get(url))
    data.update({"invoice": str(invoice.pk), **fields})
    return data


def test_payment_form_is_prefilled_with_the_balance_due(office):
    invoice = issued()
    data = payment_data(office, invoice)
    assert data["amount"] == "113.00"
    assert data["client"] == str(invoice.client_id)


def test_overpayment_through_the_admin_leaves_credit(office):
    invoice = issued()
    response = office.post(
        reverse("admin:billing_payment_add"), payment_data(office, invoice, amount="150.00")
    )
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert client_balance(invoice.client) == D("37.00")


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0", "must be at least 0.01"),
        ("-5", "must be at least 0.01"),
        ("1.001", "use at most 2 decimal places"),
        ("abc", "is not a number"),
        ("1e3", "Amount: “1e3” is not a number"),
        ("", "This field is required"),
        ("1000000000000000", "must be at most 999999999999.99"),
    ],
)
def test_bad_payment_amount_is_refused_on_the_form(office, amount, message):
    invoice = issued()
    before = counts()
    response = office.post(
        reverse("admin:billing_payment_add"), payment_data(office, invoice, amount=amount)
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert counts() == before


def test_payment_on_cancelled_invoice_is_refused_on_the_form(office):
    invoice = issued()
    data = payment_data(office, invoice)
    services.cancel_invoice(invoice=invoice, acting_user=None)
    before = counts()
    response = office.post(reverse("admin:billing_payment_add"), data)
    assert response.status_code == 200
    assert "cannot be paid" in response.content.decode()
    assert counts() == before


def test_payment_without_client_or_invoice_is_refused_with_the_operations_answer(office):
    """The rule "a client or an invoice" is the operation's alone: the admin says what the
    office page and the API say."""
    data = payment_data(office, issued()) | {"client": "", "invoice": ""}
    before = counts()
    response = office.post(reverse("admin:billing_payment_add"), data)
    assert response.status_code == 200
    assert "Client: choose a client or an invoice." in response.content.decode()
    assert counts() == before


def test_client_credit_beyond_available_is_refused_on_the_form(office):
    invoice = issued()
    before = counts()
    response = office.post(
        reverse("admin:billing_payment_add"),
        payment_data(office, invoice, amount="10.00", method="client_credit"),
    )
    assert response.status_code == 200
    assert "of credit available" in response.content.decode()
    assert counts() == before


def test_pending_payment_is_confirmed_with_the_button(office):
    invoice = issued()
    payment = pay(invoice, "113.00", confirmed=False)
    response = office.post(reverse("admin:billing_payment_confirm", args=[payment.pk]))
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID


def test_reversal_needs_a_reason(office):
    invoice = issued()
    payment = pay(invoice, "10.00")
    response = office.post(
        reverse("admin:billing_payment_reverse", args=[payment.pk]), {"reason": ""}
    )
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CONFIRMED


def test_reversed_payment_cannot_be_confirmed_in_the_admin(office):
    invoice = issued()
    payment = pay(invoice, "10.00", confirmed=False)
    office.post(reverse("admin:billing_payment_reverse", args=[payment.pk]), {"reason": "Dup"})
    response = office.post(reverse("admin:billing_payment_confirm", args=[payment.pk]), follow=True)
    assert "reversed payment cannot be confirmed" in response.content.decode()
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REVERSED


def test_payment_page_is_read_only(office):
    invoice = issued()
    payment = pay(invoice, "10.00")
    url = reverse("admin:billing_payment_change", args=[payment.pk])
    assert 'name="amount"' not in office.get(url).content.decode()
    data = {"amount": "99.00", "client": invoice.client_id, "date": "2026-01-01"}
    assert office.post(url, data).status_code == 403
    payment.refresh_from_db()
    assert payment.amount == D("10.00")


# --- Roles --------------------------------------------------------------------------------
def test_viewer_can_look_but_not_change(client, viewer, business):
    invoice = issued()
    client.force_login(viewer)
    assert client.get(reverse("admin:billing_invoice_changelist")).status_code == 200
    assert client.get(reverse("admin:billing_invoice_add")).status_code == 403
    response = client.post(
        reverse("admin:billing_invoice_issue", args=[draft().pk]),
        {"issue_date": "2026-03-01"},
        follow=True,
    )
    # Refused before the form is shown (test_admin_action_permissions.py).
    assert response.status_code == 403
    assert Invoice.objects.filter(number__isnull=False).count() == 1
    assert invoice.number == "INV-0001"


def test_bookkeeper_has_no_settings_or_users(office):
    assert office.get(reverse("admin:settings_app_businesssettings_changelist")).status_code == 403
    assert office.get(reverse("admin:auth_user_changelist")).status_code == 403


def test_anonymous_is_sent_to_login(client, db):
    response = client.get(reverse("admin:billing_invoice_changelist"))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_line_naming_only_a_service_takes_the_services_description_unit_and_price(office):
    acme = ClientFactory()
    service = ServiceFactory(name="Window cleaning", unit="visit", unit_price=D("50.0000"))
    only_the_service = {
        "service": str(service.pk),
        "description": "",
        "quantity": "2",
        "unit": "",
        "unit_price": "",
    }
    data = add_invoice_data(office, acme, only_the_service)
    response = office.post(reverse("admin:billing_invoice_add"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    saved = InvoiceLine.objects.get(invoice__client=acme)
    assert (saved.service_id, saved.description, saved.unit, saved.unit_price) == (
        service.pk,
        "Window cleaning",
        "visit",
        D("50.0000"),
    )
    assert saved.amount == D("100.00")


def test_list_and_detail_show_the_stored_total(office):
    # 3 × 19.99 = 59.97 and 1 × 0.005 = 0.01 (half up): 59.98; 13 % tax 7.7974 -> 7.80.
    invoice = issued(lines=[line("3", "19.99"), line("1", "0.005")])
    assert invoice.total == D("67.78")
    listing = office.get(reverse("admin:billing_invoice_changelist")).content.decode()
    detail = office.get(reverse("admin:billing_invoice_change", args=[invoice.pk])).content
    assert '<td class="field-total_display">67.78 CAD</td>' in listing
    assert re.search(r'<label>Total:</label>\s*<div class="readonly">67\.78</div>', detail.decode())


def test_list_shows_overdue_before_the_daily_command_ran(office):
    with time_machine.travel(datetime.datetime(2026, 1, 5, 17, 0, tzinfo=datetime.UTC)):
        invoice = issued(due_date=datetime.date(2026, 1, 31))
    with time_machine.travel(datetime.datetime(2026, 3, 1, 17, 0, tzinfo=datetime.UTC)):
        page = office.get(reverse("admin:billing_invoice_changelist")).content.decode()
    assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.PENDING  # stored
    assert "otb-badge-overdue" in page  # shown
