"""A client billed in several currencies, and payments in a foreign currency (SPEC:
Currencies and exchange rates): one balance and one credit per currency, credit never
crossing currencies; each payment's base amount at its own rate, what it settles at its
invoice's rate, the last one taking what is left, and the gain or loss, by hand."""

import datetime
from decimal import Decimal

import pytest

from billing import services
from billing.models import Payment, PaymentMethod, PaymentStatus
from billing.selectors import available_credit, clients_breaking_invariant
from billing.services import CreditInsufficient
from ledger.models import LedgerEntry
from ledger.selectors import client_balance, stored_balance
from otb.operations import InvalidInput
from rates.models import ExchangeRate
from tests.factories import ClientFactory, draft, issued, line, pay

pytestmark = pytest.mark.django_db
D = Decimal
MARCH_4 = datetime.date(2026, 3, 4)


@pytest.fixture
def acme(business):
    return ClientFactory(code="ACME")  # CAD by default, HST 13 %


def test_one_client_has_a_balance_per_currency_and_credit_never_crosses(acme):
    cad = issued(client=acme, lines=[line("1", "100.00")], issue_date=MARCH_4)
    usd = issued(client=acme, lines=[line("1", "100.00")], issue_date=MARCH_4, currency="USD")
    assert (cad.currency, usd.currency) == ("CAD", "USD")
    assert (stored_balance(acme, "CAD"), stored_balance(acme, "USD")) == (D("-113.00"),) * 2
    assert client_balance(acme, "USD") == D("-113.00")
    # 50.00 CAD too much: credit in CAD, none in USD.
    pay(cad, "163.00")
    assert (available_credit(acme, "CAD"), available_credit(acme, "USD")) == (D("50.00"), 0)
    with pytest.raises(CreditInsufficient):
        pay(usd, "10.00", method=PaymentMethod.CLIENT_CREDIT)
    usd.refresh_from_db()
    assert usd.amount_paid == 0
    assert clients_breaking_invariant() == []
    # Each ledger entry is in the currency of its invoice.
    assert set(LedgerEntry.objects.filter(invoice=usd).values_list("currency", flat=True)) == {
        "USD"
    }


def test_a_draft_may_take_another_currency_until_it_is_issued(acme):
    invoice = draft(client=acme, lines=[line("1", "1000")], currency="JPY")
    assert invoice.currency == "JPY"
    invoice = services.update_invoice(invoice=invoice, acting_user=None, currency="USD")
    assert (invoice.currency, invoice.total) == ("USD", D("1130.00"))
    invoice = services.issue_invoice(invoice=invoice, acting_user=None, issue_date=MARCH_4)
    with pytest.raises(InvalidInput) as refusal:
        services.update_invoice(invoice=invoice, acting_user=None, currency="CAD")
    assert refusal.value.field == "currency"
    # The client's own currency changes; the invoice keeps its own.
    services.update_client(client=acme, acting_user=None, default_currency="EUR")
    invoice.refresh_from_db()
    assert invoice.currency == "USD"


def usd_invoice(business, total="100.00"):
    """100.00 USD without tax (tax-exempt), frozen at the test rate 1.35: 135.00 CAD."""
    client = ClientFactory(code="YANKEE", default_currency="USD", tax_exempt=True)
    invoice = issued(client=client, lines=[line("1", total)], issue_date=MARCH_4)
    assert invoice.exchange_rate == D("1.35")
    return invoice


def record(invoice, amount, rate, **kwargs):
    payment = services.record_payment(
        invoice=invoice,
        amount=amount,
        date=MARCH_4 + datetime.timedelta(days=10),
        method=PaymentMethod.BANK_TRANSFER,
        acting_user=None,
        exchange_rate=rate,
        **kwargs,
    )
    return Payment.objects.get(pk=payment.pk)


def in_base(payment):
    payment.refresh_from_db()
    return (payment.amount_in_base, payment.settled_in_base, payment.exchange_difference)


def test_partial_payments_gain_and_lose_and_the_last_takes_the_remainder(business):
    invoice = usd_invoice(business)
    assert invoice.total_in_base == D("135.00")
    # 30.00 at 1.40 = 42.00 received; it settles 30.00 × 1.35 = 40.50: a gain of 1.50.
    first = record(invoice, "30.00", "1.40")
    assert (first.exchange_rate, first.rate_source) == (D("1.40"), "typed in")
    assert in_base(first) == (D("42.00"), D("40.50"), D("1.50"))
    # 33.33 at 1.30 = 43.329 -> 43.33; settles 33.33 × 1.35 = 44.9955 -> 45.00: −1.67.
    second = record(invoice, "33.33", "1.30")
    assert in_base(second) == (D("43.33"), D("45.00"), D("-1.67"))
    # 36.67 clears it at 1.3333333333: 48.8933… -> 48.89 received; it settles exactly what
    # is left, 135.00 − 40.50 − 45.00 = 49.50 (not 36.67 × 1.35 = 49.5045 -> 49.50 by
    # chance, nor a cent off): −0.61.
    third = record(invoice, "36.67", "1.3333333333")
    assert in_base(third) == (D("48.89"), D("49.50"), D("-0.61"))
    assert first.settled_in_base + second.settled_in_base + D("49.50") == invoice.total_in_base
    # Reversed, it settles nothing; the others keep theirs.
    services.reverse_payment(payment=third, reason="Returned", acting_user=None)
    assert in_base(third) == (D("48.89"), None, None)
    assert in_base(first)[1:] == (D("40.50"), D("1.50"))
    # 50.00 at 1.40 pays the 36.67 left and leaves 13.33 of credit, valued at its own rate
    # (18.662 -> 18.66) with no gain on it: 70.00 − 18.66 − 49.50 = 1.84.
    fourth = record(invoice, "50.00", "1.40")
    assert in_base(fourth) == (D("70.00"), D("49.50"), D("1.84"))
    assert clients_breaking_invariant() == []


def test_a_payment_that_clears_after_a_credit_note_settles_what_is_left(business):
    invoice = usd_invoice(business, total="1.00")
    note = services.create_credit_note(
        invoice=invoice, acting_user=None, kind="amount", amount="0.33"
    )
    services.issue_credit_note(credit_note=note, acting_user=None)  # 0.4455 -> 0.45 CAD
    payment = record(invoice, "0.67", "1.35")  # 0.9045 -> 0.90 received
    # It settles 1.35 − 0.45 = 0.90, not round(0.67 × 1.35) = 0.90 by chance: no difference.
    assert in_base(payment) == (D("0.90"), D("0.90"), D("0.00"))


def test_a_foreign_payment_without_a_rate_is_refused_and_nothing_is_saved(business):
    invoice = usd_invoice(business)
    ExchangeRate.objects.filter(currency="USD").delete()
    with pytest.raises(InvalidInput) as refusal:
        pay(invoice, "10.00")
    assert refusal.value.field == "exchange_rate"
    assert "no rate of USD in CAD" in refusal.value.message
    assert not Payment.objects.exists()
    # Pending, it needs none yet; confirming it does.
    pending = pay(invoice, "10.00", confirmed=False)
    with pytest.raises(InvalidInput):
        services.confirm_payment(payment=pending, acting_user=None)
    services.confirm_payment(payment=pending, acting_user=None, exchange_rate="1.36")
    pending.refresh_from_db()
    assert (pending.status, pending.exchange_rate) == (PaymentStatus.CONFIRMED, D("1.36"))
    assert in_base(pending) == (D("13.60"), D("13.50"), D("0.10"))


def test_money_on_account_is_kept_in_the_currency_it_came_in(acme):
    payment = services.record_payment(
        client=acme,
        amount="200.00",
        date=MARCH_4,
        method=PaymentMethod.BANK_TRANSFER,
        acting_user=None,
        currency="USD",
    )
    payment.refresh_from_db()
    # All credit, at its own rate (1.35): no gain or loss.
    assert payment.currency == "USD"
    assert in_base(payment) == (D("270.00"), D("0.00"), D("0.00"))
    assert (available_credit(acme, "USD"), available_credit(acme, "CAD")) == (D("200.00"), 0)
    refund = services.record_refund(
        client=acme,
        amount="50.00",
        date=MARCH_4,
        method=PaymentMethod.BANK_TRANSFER,
        acting_user=None,
        currency="USD",
    )
    assert refund.currency == "USD"
    assert available_credit(acme, "USD") == D("150.00")
    with pytest.raises(CreditInsufficient):
        services.record_refund(
            client=acme,
            amount="1.00",
            date=MARCH_4,
            method=PaymentMethod.BANK_TRANSFER,
            acting_user=None,
        )  # in CAD, where there is no credit
    services.post_manual_debit(
        client=acme, amount="25.00", memo="Wire fee", acting_user=None, currency="USD"
    )
    assert stored_balance(acme, "USD") == D("125.00")
    assert clients_breaking_invariant() == []


def test_a_payment_in_another_currency_than_its_invoice_is_refused(acme):
    invoice = issued(client=acme)
    with pytest.raises(InvalidInput) as refusal:
        services.record_payment(
            invoice=invoice,
            amount="10.00",
            date=MARCH_4,
            method=PaymentMethod.CASH,
            acting_user=None,
            currency="USD",
        )
    assert refusal.value.field == "currency"
    assert not Payment.objects.exists()


def test_the_client_page_shows_a_balance_per_currency(client, bookkeeper, acme):
    from django.urls import reverse

    issued(client=acme, lines=[line("1", "100.00")], issue_date=MARCH_4)
    usd = issued(client=acme, lines=[line("1", "10.00")], issue_date=MARCH_4, currency="USD")
    pay(usd, "20.00")  # 8.70 USD of credit
    client.force_login(bookkeeper)
    page = client.get(reverse("clients:detail", args=[acme.code])).content.decode()
    assert "-113.00 CAD" in page
    assert 'id="client-balance-USD"' in page
    assert "8.70 USD" in page


def test_a_payment_in_another_currency_is_recorded_on_the_page_at_a_rate_typed_in(
    client, bookkeeper, acme
):
    from django.urls import reverse

    client.force_login(bookkeeper)
    response = client.post(
        reverse("payments:create"),
        {
            "client": acme.code,
            "amount": "100.00",
            "date": "2026-03-04",
            "method": PaymentMethod.BANK_TRANSFER,
            "confirmed": "on",
            "currency": "USD",
            "exchange_rate": "1.3650",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    payment = Payment.objects.get()
    assert (payment.currency, payment.exchange_rate, payment.amount_in_base) == (
        "USD",
        D("1.365"),
        D("136.50"),
    )
    refused = client.post(
        reverse("payments:create"),
        {
            "client": acme.code,
            "amount": "5.00",
            "date": "2026-03-04",
            "method": PaymentMethod.CASH,
            "confirmed": "on",
            "currency": "USD",
            "exchange_rate": "1,36",
        },
    )
    assert refused.status_code == 200
    assert "Exchange rate:" in refused.content.decode()
    assert Payment.objects.count() == 1


def test_the_ledger_page_and_api_show_one_currency_at_a_time(client, bookkeeper, acme):
    from django.urls import reverse

    from tests.api import token_client

    issued(client=acme, lines=[line("1", "100.00")], issue_date=MARCH_4)
    issued(client=acme, lines=[line("1", "10.00")], issue_date=MARCH_4, currency="USD")
    client.force_login(bookkeeper)
    url = reverse("clients:ledger", args=[acme.code])
    cad = client.get(url).content.decode()
    assert 'id="ledger-currencies"' in cad and "-113.00 CAD" in cad and "USD" in cad
    assert "-11.30 USD" not in cad
    usd = client.get(url + "?currency=USD").content.decode()
    assert "-11.30 USD" in usd and "-113.00 CAD" not in usd
    # A manual debit posted on the USD tab is in USD.
    client.post(
        url + "?currency=USD",
        {"kind": "manual_debit", "amount": "5.00", "memo": "Wire fee", "date": "2026-03-05"},
    )
    assert stored_balance(acme, "USD") == D("-16.30")
    api = token_client(bookkeeper)
    body = api.get(f"/api/v1/clients/{acme.code}/ledger/?currency=USD").json()
    assert (body["currency"], body["balance"], body["count"]) == ("USD", "-16.30", 2)
    assert api.get(f"/api/v1/clients/{acme.code}/ledger/?currency=ZZZ").status_code == 400


def test_a_drafts_new_currency_stores_its_lines_rounded_to_it(acme):
    """Review of 0.15.0: the lines' stored amounts follow a change of currency alone."""
    invoice = draft(client=acme, lines=[line("1.5", "333.00")])  # 499.50 CAD
    invoice = services.update_invoice(invoice=invoice, acting_user=None, currency="JPY")
    amounts = [row.amount for row in invoice.lines.all()]
    assert amounts == [D("500.00")] and invoice.subtotal == D("500.00")


def test_the_clients_available_credit_in_lists_is_in_its_own_currency(acme):
    from billing.models import Client
    from billing.selectors import with_credit

    issued(client=acme, lines=[line("1", "100.00")], issue_date=MARCH_4, currency="USD")
    listed = with_credit(Client.objects.filter(pk=acme.pk)).get()
    assert (listed.balance, listed.available_credit) == (0, 0)  # CAD: nothing either way
    assert listed.available_credit == available_credit(acme)


def test_a_payment_with_a_base_amount_fixes_the_base_currency(acme):
    from settings_app.services import update_business_settings

    services.record_payment(
        client=acme,
        amount="10.00",
        date=MARCH_4,
        method=PaymentMethod.CASH,
        acting_user=None,
        currency="USD",
    )
    with pytest.raises(InvalidInput) as refusal:
        update_business_settings(acting_user=None, default_currency="EUR")
    assert refusal.value.field == "default_currency"
