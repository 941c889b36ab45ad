"""The invoice and payment pages: list and filters, the draft form with its lines and live
totals, the lifecycle buttons, and every refusal shown on the page (never a 500)."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from billing import services
from billing.models import Invoice, InvoiceLine, InvoiceStatus, Payment, PaymentStatus
from ledger.models import LedgerEntry
from ledger.selectors import client_balance
from settings_app.selectors import business_today
from tests.factories import ClientFactory, ServiceFactory, draft, issued, line, pay

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture
def office(client, bookkeeper, business):
    client.force_login(bookkeeper)
    return client


@pytest.fixture
def reader(client, viewer, business):
    client.force_login(viewer)
    return client


def rows(before=None):
    counts = (
        Invoice.objects.count(),
        InvoiceLine.objects.count(),
        Payment.objects.count(),
        LedgerEntry.objects.count(),
    )
    return counts


def invoice_post(client_code, *lines, **fields):
    data = {
        "client": client_code,
        "discount_kind": "",
        "discount_value": "",
        "issue_date": "",
        "due_date": "",
        "notes": "",
        "terms": "Net 30",
        "lines-TOTAL_FORMS": str(len(lines)),
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
    }
    for index, values in enumerate(lines):
        for key, value in values.items():
            if value is not None:
                data[f"lines-{index}-{key}"] = value
    data.update(fields)
    return data


WORK = {"description": "Work", "quantity": "1", "unit_price": "100", "taxable": "on"}


# --- List ---------------------------------------------------------------------------------
def test_list_filters_by_status_client_dates_and_number(office):
    today = business_today()
    acme = ClientFactory(code="ACME")
    first = issued(client=acme, issue_date=today - datetime.timedelta(days=10))
    second = issued(issue_date=today - datetime.timedelta(days=2))
    pay(second, "10.00")
    url = reverse("invoices:list")
    middle = (today - datetime.timedelta(days=5)).isoformat()

    def shown(**params):
        page = office.get(url, params).context["page"]
        return {invoice.pk for invoice in page}

    assert shown(status="partial") == {second.pk}
    assert shown(client="acme") == {first.pk}
    assert shown(issued_from=middle) == {second.pk}
    assert shown(issued_to=middle) == {first.pk}
    assert shown(q=first.number) == {first.pk}


def test_list_with_bad_filter_values_does_not_fail(office):
    issued()
    response = office.get(reverse("invoices:list"), {"issued_from": "31/02/2026", "page": "x"})
    assert response.status_code == 200
    assert "Enter a valid date" in response.content.decode()


def test_list_shows_each_invoice_with_its_total(office, django_assert_max_num_queries):
    for _ in range(3):
        issued()
    with django_assert_max_num_queries(13):  # 1: the business's time zone
        few = office.get(reverse("invoices:list"))
    for _ in range(40):
        issued(lines=[line("2", "10")])
    with django_assert_max_num_queries(13):  # 1: the business's time zone
        many = office.get(reverse("invoices:list"))
    assert "113.00 CAD" in few.content.decode()
    assert "22.60 CAD" in many.content.decode()


# --- Draft form ---------------------------------------------------------------------------
def test_new_draft_from_a_service_and_a_free_line(office):
    ClientFactory(code="ACME")
    hours = ServiceFactory(code="HOURS", unit_price=D("85.0000"), unit="h")
    data = invoice_post(
        "ACME",
        {"service": "HOURS", "quantity": "1.5", "taxable": "on"},
        {"description": "Materials", "quantity": "1", "unit_price": "20.00"},
    )
    response = office.post(reverse("invoices:create"), data)
    invoice = Invoice.objects.get()
    assert response.status_code == 302
    assert response["Location"] == invoice.get_absolute_url()
    assert [ln.description for ln in invoice.lines.all()] == [hours.name, "Materials"]
    assert invoice.total == D("164.08")  # 127.50 + 20.00 + 13 % of 127.50


def test_new_draft_page_offers_only_active_services(office):
    ServiceFactory(code="LIVE")
    ServiceFactory(code="GONE", is_active=False)
    page = office.get(reverse("invoices:create")).content.decode()
    assert 'value="LIVE"' in page
    assert 'value="GONE"' not in page


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"quantity": "abc"}, "is not a number"),
        ({"quantity": "1.2345"}, "use at most 3 decimal places"),
        ({"unit_price": "1e4"}, "Unit price: “1e4” is not a number"),
        ({"quantity": "2E0"}, "Quantity: “2E0” is not a number"),
        ({"discount_percent": "1e1"}, "“1e1” is not a number"),
        ({"quantity": "-2"}, "must be at least 0"),
        ({"unit_price": "-1"}, "must be at least 0"),
        ({"unit_price": "0.00001"}, "use at most 4 decimal places"),
        ({"discount_percent": "150"}, "must be at most 100"),
        ({"description": ""}, "Enter a description or choose a service"),
        ({"service": "NOPE"}, "Select a valid choice"),
    ],
)
def test_bad_line_shows_its_error_and_saves_nothing(office, values, message):
    ClientFactory(code="ACME")
    before = rows()
    response = office.post(reverse("invoices:create"), invoice_post("ACME", WORK | values))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert rows() == before


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"client": "NOBODY"}, "no client has the code “NOBODY”"),
        ({"client": ""}, "This field is required"),
        ({"discount_kind": "fixed", "discount_value": "500"}, "cannot be more than the subtotal"),
        ({"discount_kind": "percent", "discount_value": "1.23456"}, "use at most 3 decimal"),
        ({"discount_kind": "fixed", "discount_value": "1e1"}, "“1e1” is not a number"),
        ({"discount_kind": "bogus"}, "Select a valid choice"),
        ({"issue_date": "2026-03-10", "due_date": "2026-03-01"}, "cannot be before the issue"),
        ({"due_date": "2026-02-30"}, "Enter a valid date"),
    ],
)
def test_bad_invoice_fields_show_their_error_and_save_nothing(office, fields, message):
    ClientFactory(code="ACME")
    before = rows()
    response = office.post(reverse("invoices:create"), invoice_post("ACME", WORK, **fields))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert rows() == before


def test_inactive_client_cannot_be_invoiced(office):
    ClientFactory(code="OLD", is_active=False)
    response = office.post(reverse("invoices:create"), invoice_post("OLD", WORK))
    assert response.status_code == 200
    assert not Invoice.objects.exists()


def test_edit_keeps_unchanged_lines_and_changes_the_edited_one(office):
    invoice = draft(lines=[line("1", "100"), line("2", "50", description="Parts")])
    page = office.get(reverse("invoices:edit", args=[invoice.pk]))
    assert page.status_code == 200
    data = invoice_post(
        invoice.client.code,
        {"description": "Work", "quantity": "3", "unit_price": "100", "taxable": "on"},
        {"description": "Parts", "quantity": "2", "unit_price": "50", "taxable": "on"},
        **{"lines-INITIAL_FORMS": "2"},
    )
    response = office.post(reverse("invoices:edit", args=[invoice.pk]), data)
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert [ln.quantity for ln in invoice.lines.all()] == [D("3.000"), D("2.000")]
    assert invoice.total == D("452.00")


def test_removed_line_is_dropped(office):
    invoice = draft(lines=[line("1", "100"), line("2", "50", description="Parts")])
    data = invoice_post(
        invoice.client.code,
        WORK,
        {"description": "Parts", "quantity": "2", "unit_price": "50", "DELETE": "on"},
        **{"lines-INITIAL_FORMS": "2"},
    )
    office.post(reverse("invoices:edit", args=[invoice.pk]), data)
    invoice.refresh_from_db()
    assert [ln.description for ln in invoice.lines.all()] == ["Work"]


def test_locked_invoice_form_shows_why_and_keeps_its_lines(office):
    invoice = issued()
    pay(invoice, "10.00")
    url = reverse("invoices:edit", args=[invoice.pk])
    page = office.get(url).content.decode()
    assert "payments that are not reversed" in page
    assert "lines-0-quantity" not in page
    data = invoice_post("OTHER", notes="Thanks", **{"lines-TOTAL_FORMS": "0"})
    assert office.post(url, data).status_code == 302
    invoice.refresh_from_db()
    assert invoice.notes == "Thanks"
    assert invoice.total == D("113.00")


def test_preview_gives_the_figures_a_save_would(office):
    ClientFactory(code="ACME")
    data = invoice_post(
        "ACME",
        {"description": "A", "quantity": "1", "unit_price": "55.55", "taxable": "on"},
        {"description": "B", "quantity": "1", "unit_price": "11.11", "taxable": "on"},
    )
    answer = office.post(reverse("invoices:preview"), data).json()
    assert answer["ok"]
    assert answer["lines"] == ["55.55 CAD", "11.11 CAD"]
    assert answer["taxes"] == [{"label": "HST 13 %", "amount": "8.67 CAD"}]
    assert answer["total"] == "75.33 CAD"
    office.post(reverse("invoices:create"), data)
    assert str(Invoice.objects.get().total) == "75.33"


def test_preview_of_bad_input_says_so_without_failing(office):
    ClientFactory(code="ACME")
    answer = office.post(
        reverse("invoices:preview"), invoice_post("ACME", WORK | {"quantity": "x"})
    ).json()
    assert answer["ok"] is False
    # The message names the line and the field (issue 16, items 11 and 12).
    assert answer["message"] == "Line 1: Quantity: “x” is not a number; write it like 1234.56."
    assert "incomplete" not in answer
    fixed = office.post(
        reverse("invoices:preview"),
        invoice_post("ACME", WORK, discount_kind="fixed", discount_value="999"),
    ).json()
    assert "cannot be more than the subtotal" in fixed["message"]


def test_preview_of_a_blank_form_is_a_hint_not_an_error(office):
    answer = office.post(reverse("invoices:preview"), invoice_post("", WORK)).json()
    assert answer == {
        "ok": False,
        "incomplete": True,
        "message": "Choose a client to see the totals.",
    }


# --- Lifecycle buttons --------------------------------------------------------------------
def test_issue_gives_a_number_and_opens_the_invoice(office):
    invoice = draft()
    url = reverse("invoices:issue", args=[invoice.pk])
    assert office.get(url).status_code == 200
    response = office.post(url, {"issue_date": "2026-03-02", "due_date": ""})
    invoice.refresh_from_db()
    assert invoice.number == "INV-0001"
    assert response["Location"] == reverse("invoices:detail", args=["INV-0001"])


def test_issue_with_bad_dates_shows_the_error(office):
    invoice = draft()
    url = reverse("invoices:issue", args=[invoice.pk])
    response = office.post(url, {"issue_date": "2026-03-02", "due_date": "2026-03-01"})
    assert response.status_code == 200
    assert "cannot be before the issue date" in response.content.decode()
    response = office.post(url, {"issue_date": "yesterday"})
    assert "Enter a valid date" in response.content.decode()
    invoice.refresh_from_db()
    assert invoice.number is None


def test_a_draft_of_nothing_is_not_issued_and_the_page_says_why(office):
    invoice = draft(lines=[line(quantity="0")])
    response = office.post(
        reverse("invoices:issue", args=[invoice.pk]), {"issue_date": "2026-03-02"}, follow=True
    )
    assert "comes to 0.00" in response.content.decode()
    invoice.refresh_from_db()
    assert invoice.number is None


def test_issuing_an_issued_invoice_is_refused_with_a_message(office):
    invoice = issued()
    response = office.post(
        reverse("invoices:issue", args=[invoice.pk]), {"issue_date": "2026-03-02"}, follow=True
    )
    assert "already issued" in response.content.decode()


def test_cancel_and_its_refusal_when_locked(office):
    paid_in_part = issued()
    pay(paid_in_part, "1.00")
    response = office.post(
        reverse("invoices:cancel", args=[paid_in_part.pk]), {"reason": ""}, follow=True
    )
    assert "payments that are not reversed" in response.content.decode()
    invoice = issued()
    office.post(reverse("invoices:cancel", args=[invoice.pk]), {"reason": "Duplicate"})
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.CANCELLED


def test_delete_draft_but_never_an_issued_invoice(office):
    gone = draft()
    office.post(reverse("invoices:delete", args=[gone.pk]))
    assert not Invoice.objects.filter(pk=gone.pk).exists()
    kept = issued()
    response = office.post(reverse("invoices:delete", args=[kept.pk]), follow=True)
    assert "never deleted" in response.content.decode()
    assert Invoice.objects.filter(pk=kept.pk).exists()


def test_unknown_invoice_is_404(office):
    assert office.get(reverse("invoices:edit", args=[999])).status_code == 404
    assert office.post(reverse("invoices:issue", args=[999])).status_code == 404


def test_viewer_cannot_change_anything(reader):
    invoice = draft()
    for url in (
        reverse("invoices:create"),
        reverse("invoices:edit", args=[invoice.pk]),
        reverse("invoices:issue", args=[invoice.pk]),
        reverse("invoices:delete", args=[invoice.pk]),
        reverse("payments:create"),
    ):
        assert reader.post(url, {}).status_code == 403, url
    assert reader.get(reverse("invoices:list")).status_code == 200
    assert reader.get(reverse("payments:list")).status_code == 200


# --- Payments -----------------------------------------------------------------------------
def payment_post(**fields):
    return {
        "client": "",
        "invoice": "",
        "amount": "50.00",
        "date": "2026-03-05",
        "method": "e_transfer",
        "reference": "",
        "note": "",
        "confirmed": "on",
        **fields,
    }


def test_payment_form_is_prefilled_from_the_invoice(office):
    invoice = issued()
    form = office.get(reverse("payments:create"), {"invoice": invoice.pk}).context["form"]
    assert form.initial["invoice"] == invoice.number
    assert form.initial["amount"] == D("113.00")


def test_recording_a_payment_by_invoice_number(office):
    invoice = issued()
    response = office.post(reverse("payments:create"), payment_post(invoice=invoice.number))
    assert response.status_code == 302
    assert response["Location"] == invoice.get_absolute_url()
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PARTIAL


def test_credit_on_account_without_invoice(office):
    acme = ClientFactory(code="ACME")
    office.post(reverse("payments:create"), payment_post(client="ACME"))
    assert client_balance(acme) == D("50.00")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"amount": "0"}, "must be at least 0.01"),
        ({"amount": "-3"}, "must be at least 0.01"),
        ({"amount": "1.001"}, "use at most 2 decimal places"),
        ({"amount": "lots"}, "is not a number"),
        # Scientific notation is a typo, not 1,000.00 (issue 16).
        ({"amount": "1e3"}, "Amount: “1e3” is not a number"),
        ({"date": "2026-13-01"}, "Enter a valid date"),
        ({"method": "bitcoin"}, "Select a valid choice"),
        ({"invoice": "INV-9999"}, "no issued invoice is numbered INV-9999"),
        ({"invoice": ""}, "Client: choose a client or an invoice."),
        ({"method": "client_credit"}, "of credit available"),
    ],
)
def test_bad_payment_shows_its_error_and_saves_nothing(office, fields, message):
    invoice = issued()
    data = payment_post(invoice=invoice.number) | fields
    before = rows()
    response = office.post(reverse("payments:create"), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert rows() == before


def test_payment_for_another_clients_invoice_is_refused(office):
    invoice = issued()
    ClientFactory(code="OTHER")
    response = office.post(
        reverse("payments:create"), payment_post(invoice=invoice.number, client="OTHER")
    )
    assert "belongs to" in response.content.decode()
    assert not Payment.objects.exists()


def test_confirm_and_reverse_buttons(office):
    invoice = issued()
    payment = pay(invoice, "113.00", confirmed=False)
    page = office.get(invoice.get_absolute_url()).content.decode()
    assert reverse("payments:confirm", args=[payment.pk]) in page
    office.post(reverse("payments:confirm", args=[payment.pk]))
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    url = reverse("payments:reverse", args=[payment.pk])
    assert url in office.get(invoice.get_absolute_url()).content.decode()
    assert office.post(url, {"reason": ""}).status_code == 200  # reason required
    office.post(url, {"reason": "Bounced"})
    payment.refresh_from_db()
    invoice.refresh_from_db()
    assert payment.status == PaymentStatus.REVERSED
    assert invoice.status == InvoiceStatus.PENDING


def test_confirming_a_reversed_payment_says_why_it_cannot(office):
    invoice = issued()
    payment = pay(invoice, "10.00", confirmed=False)
    services.reverse_payment(payment=payment, reason="Typo", acting_user=None)
    response = office.post(reverse("payments:confirm", args=[payment.pk]), follow=True)
    assert "reversed payment cannot be confirmed" in response.content.decode()


def test_next_parameter_may_not_leave_the_site(office):
    invoice = issued()
    payment = pay(invoice, "10.00", confirmed=False)
    response = office.post(
        reverse("payments:confirm", args=[payment.pk]), {"next": "https://evil.example/"}
    )
    assert response["Location"] == invoice.get_absolute_url()


def test_payment_list_filters(office):
    invoice = issued()
    pay(invoice, "5.00", confirmed=False)
    pay(invoice, "6.00")
    page = office.get(reverse("payments:list"), {"status": "pending"}).context["page"]
    assert [p.amount for p in page] == [D("5.00")]


def test_odd_ids_in_the_query_string_are_ignored_not_a_server_error(office):
    assert office.get(reverse("payments:create"), {"invoice": "²"}).status_code == 200
    ClientFactory(code="ACME")
    answer = office.post(reverse("invoices:preview"), invoice_post("ACME", WORK, invoice="abc"))
    assert answer.json()["ok"]


def test_admin_payment_form_ignores_odd_invoice_ids(office):
    response = office.get(reverse("admin:billing_payment_add"), {"invoice": "²"})
    assert response.status_code == 200


def test_inactive_client_keeps_its_invoice_editable(office):
    invoice = draft()
    invoice.client.is_active = False
    invoice.client.save()
    data = invoice_post(
        invoice.client.code, WORK, notes="Still ours", **{"lines-INITIAL_FORMS": "1"}
    )
    response = office.post(reverse("invoices:edit", args=[invoice.pk]), data)
    assert response.status_code in (200, 302)
    assert "Select a valid choice" not in response.content.decode()


def test_pages_do_not_offer_what_they_would_refuse(office):
    """Issue 16, item 15: the cancel and delete pages of a locked or issued invoice asked for
    a reason, then refused; they now say why at once, and the invoice page offers neither."""
    locked = issued()
    pay(locked, "1.00")
    cancel_url = reverse("invoices:cancel", args=[locked.pk])
    delete_url = reverse("invoices:delete", args=[locked.pk])
    page = office.get(locked.get_absolute_url()).content.decode()
    assert cancel_url not in page and delete_url not in page
    assert "Reverse them first to change or cancel it" in page
    response = office.get(cancel_url, follow=True)
    assert response.redirect_chain[-1][0] == locked.get_absolute_url()
    assert "payments that are not reversed" in response.content.decode()
    assert 'name="reason"' not in response.content.decode()
    response = office.get(delete_url, follow=True)
    assert "can be cancelled, never deleted" in response.content.decode()
    unpaid = issued()
    assert (
        reverse("invoices:delete", args=[unpaid.pk])
        not in office.get(unpaid.get_absolute_url()).content.decode()
    )
    assert office.get(reverse("invoices:cancel", args=[unpaid.pk])).status_code == 200
