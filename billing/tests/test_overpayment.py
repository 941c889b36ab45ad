"""An overpayment is never silent (issue 16, item 9): the page says how much paid the
invoice and how much went to the client's credit, and the client page shows the credit."""

import html
from decimal import Decimal

import pytest
from django.urls import reverse

from billing.models import Payment
from billing.selectors import payment_split
from tests.factories import ClientFactory, issued, line, pay

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def office(client, bookkeeper, business):
    client.force_login(bookkeeper)
    return client


def record(office, **fields):
    data = {
        "client": "",
        "invoice": "",
        "amount": "1000.00",
        "date": "2026-03-05",
        "method": "e_transfer",
        "confirmed": "on",
    } | fields
    response = office.post(reverse("payments:create"), data, follow=True)
    assert response.status_code == 200
    return [str(m) for m in response.context["messages"]]


def test_an_overpayment_says_what_paid_the_invoice_and_what_became_credit(office):
    acme = ClientFactory(code="ACME")
    invoice = issued(client=acme, lines=[line(unit_price="84.62")])  # 95.62 with HST
    assert invoice.total == D("95.62")
    said = record(office, invoice=invoice.number)
    assert said == [
        "Payment of 1,000.00 CAD recorded: 95.62 CAD paid INV-0001 in full and 904.38 CAD "
        "went to ACME's credit (available credit now 904.38 CAD)."
    ]
    page = office.get(acme.get_absolute_url()).content.decode()
    assert 'id="client-credit"' in page
    assert "904.38 CAD" in page


def test_a_part_payment_says_what_is_still_due(office):
    invoice = issued(client=ClientFactory(code="ACME"))  # 113.00
    assert record(office, invoice=invoice.number, amount="13.00") == [
        "Payment of 13.00 CAD recorded on INV-0001; 100.00 CAD is still due."
    ]
    assert record(office, invoice=invoice.number, amount="100.00") == [
        "Payment of 100.00 CAD recorded: INV-0001 is paid in full."
    ]


def test_money_on_account_and_pending_money_say_so(office):
    ClientFactory(code="ACME")
    assert record(office, client="ACME", amount="1234.50") == [
        "Payment of 1,234.50 CAD recorded on ACME's account as credit "
        "(available credit now 1,234.50 CAD)."
    ]
    invoice = issued(client=ClientFactory(code="OAK"))
    assert record(office, invoice=invoice.number, confirmed="") == [
        "Pending payment of 1,000.00 CAD recorded: it counts once it is confirmed."
    ]
    payment = Payment.objects.get(invoice=invoice)
    response = office.post(reverse("payments:confirm", args=[payment.pk]), follow=True)
    assert "887.00 CAD went to OAK's credit" in html.unescape(response.content.decode())


def test_a_client_without_credit_shows_none(office):
    acme = ClientFactory(code="ACME")
    issued(client=acme)
    page = office.get(acme.get_absolute_url()).content.decode()
    assert 'id="client-credit"' not in page


def test_earlier_payments_are_applied_first(business):
    invoice = issued(client=ClientFactory(code="ACME"))  # 113.00
    first = pay(invoice, "100.00")
    second = pay(invoice, "50.00")
    assert payment_split(first) == (D("100.00"), D("0.00"))
    assert payment_split(second) == (D("13.00"), D("37.00"))


def test_the_back_office_says_it_too(client, bookkeeper, business):
    from billing.tests.test_admin import payment_data

    client.force_login(bookkeeper)
    invoice = issued(client=ClientFactory(code="ACME"))
    response = client.post(
        reverse("admin:billing_payment_add"),
        payment_data(client, invoice, amount="150.00"),
        follow=True,
    )
    assert "37.00 CAD went to ACME's credit" in html.unescape(response.content.decode())


def test_refusals_write_amounts_as_money(business):
    """Issue 16, item 12: "1104.38 of credit" lacked grouping and currency."""
    from billing import services
    from billing.models import PaymentMethod
    from otb.operations import DomainError

    acme = ClientFactory(code="ACME")
    services.post_manual_credit(client=acme, amount="1104.38", memo="Prepaid", acting_user=None)
    invoice = issued(client=acme, lines=[line(unit_price="2000.00")])  # 2,260.00
    with pytest.raises(DomainError) as refusal:
        pay(invoice, "1500.00", method=PaymentMethod.CLIENT_CREDIT)
    assert refusal.value.message == (
        "Client ACME has 1,104.38 CAD of credit available; 1,500.00 CAD cannot be paid from it."
    )
    with pytest.raises(DomainError, match=r"at most the balance due \(2,260.00 CAD\)"):
        pay(invoice, "3000.00", method=PaymentMethod.CLIENT_CREDIT)


def test_a_bad_payment_amount_names_the_field(office):
    invoice = issued(client=ClientFactory(code="ACME"))
    response = office.post(
        reverse("payments:create"),
        {"invoice": invoice.number, "amount": "0", "date": "2026-03-05", "method": "cash"},
    )
    assert response.context["form"].errors["amount"] == ["Amount: must be at least 0.01."]
    response = office.post(
        reverse("payments:create"),
        {"invoice": invoice.number, "amount": "5", "date": "soon", "method": "cash"},
    )
    assert response.context["form"].errors["date"] == ["Date: Enter a valid date."]
