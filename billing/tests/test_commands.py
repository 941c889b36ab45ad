"""The maintenance commands: refresh_invoice_status, check_ledger and seed_demo."""

import datetime
from decimal import ROUND_HALF_UP, Decimal
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from billing.management.commands import seed_demo
from billing.models import Client, Invoice, InvoiceStatus, Payment, PaymentMethod, PaymentStatus
from billing.selectors import clients_breaking_invariant, expected_balance
from ledger.models import EntryKind, LedgerEntry
from ledger.selectors import client_balance
from settings_app.selectors import business_today, get_business_settings
from tests.factories import ClientFactory, issued, pay

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 3, 10)


def noon_in_toronto(day: datetime.date):
    return time_machine.travel(datetime.datetime.combine(day, datetime.time(17, 0), datetime.UTC))


@pytest.fixture(autouse=True)
def fixed_day(business):
    with noon_in_toronto(TODAY):
        yield


def run(command, *args) -> str:
    out = StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


# --- refresh_invoice_status ---------------------------------------------------------------
def test_refresh_moves_a_past_due_pending_invoice_to_overdue_once():
    invoice = issued(due_date=TODAY + datetime.timedelta(days=5))
    assert invoice.status == InvoiceStatus.PENDING
    with noon_in_toronto(TODAY + datetime.timedelta(days=6)):
        assert "1 invoice moved to overdue" in run("refresh_invoice_status")
        invoice.refresh_from_db()
        assert invoice.status == InvoiceStatus.OVERDUE
        updated_at = invoice.updated_at

        assert "0 invoices moved to overdue" in run("refresh_invoice_status")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OVERDUE
    assert invoice.updated_at == updated_at


def test_refresh_leaves_invoices_not_yet_due_alone():
    invoice = issued(due_date=TODAY)
    assert "0 invoices moved" in run("refresh_invoice_status")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PENDING


def test_refresh_as_of_an_earlier_date_moves_only_what_was_due_then():
    due_earlier = issued(due_date=TODAY + datetime.timedelta(days=2))
    due_later = issued(due_date=TODAY + datetime.timedelta(days=8))
    with noon_in_toronto(TODAY + datetime.timedelta(days=10)):
        output = run("refresh_invoice_status", "--date", "2026-03-15")
    assert "1 invoice moved to overdue (as of 2026-03-15)" in output
    due_earlier.refresh_from_db()
    due_later.refresh_from_db()
    assert (due_earlier.status, due_later.status) == (InvoiceStatus.OVERDUE, InvoiceStatus.PENDING)


@pytest.mark.parametrize("bad", ["2026-13-01", "yesterday", "10/03/2026"])
def test_refresh_refuses_a_bad_date(bad):
    with pytest.raises(CommandError, match="is not a date; use YYYY-MM-DD"):
        run("refresh_invoice_status", "--date", bad)


def test_refresh_refuses_a_date_after_today():
    invoice = issued(due_date=TODAY + datetime.timedelta(days=1))
    with pytest.raises(CommandError, match="after today"):
        run("refresh_invoice_status", "--date", "2026-04-30")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PENDING


# --- check_ledger -------------------------------------------------------------------------
def test_check_ledger_passes_on_consistent_books():
    client = ClientFactory()
    invoice = issued(client=client)
    pay(invoice, "150.00")
    pay(issued(client=client), "30.00", method=PaymentMethod.CLIENT_CREDIT)
    assert "OK" in run("check_ledger")


def test_check_ledger_fails_and_names_the_client_when_the_ledger_is_off():
    client = ClientFactory(code="OFF")
    issued(client=client)
    ClientFactory(code="FINE")
    # An entry no invoice or payment explains.
    LedgerEntry.objects.create(
        client=client,
        date=TODAY,
        kind=EntryKind.PAYMENT_CONFIRMED,
        amount="10.00",
        currency="CAD",
    )
    out = StringIO()
    with pytest.raises(CommandError, match="1 client's ledger disagrees"):
        call_command("check_ledger", stdout=out)
    assert "OFF" in out.getvalue()
    assert "-103.00" in out.getvalue()
    assert "-113.00" in out.getvalue()
    assert "FINE" not in out.getvalue()


# --- seed_demo ----------------------------------------------------------------------------
@pytest.fixture
def seeded():
    return run("seed_demo")


def test_seed_demo_creates_invoices_in_every_status(seeded):
    statuses = set(Invoice.objects.values_list("status", flat=True))
    assert statuses == set(InvoiceStatus.values)
    assert "Cancelled: 1" in seeded


def test_seed_demo_records_pending_reversed_and_client_credit_payments(seeded):
    payments = Payment.objects.all()
    assert payments.filter(status=PaymentStatus.PENDING).exists()
    reversed_payment = payments.get(status=PaymentStatus.REVERSED)
    assert reversed_payment.reversal_reason
    assert payments.filter(
        method=PaymentMethod.CLIENT_CREDIT, status=PaymentStatus.CONFIRMED
    ).exists()
    assert payments.filter(invoice=None, status=PaymentStatus.CONFIRMED).exists()


def test_seed_demo_leaves_credit_from_an_overpayment(seeded):
    overpaid = [p for p in Payment.objects.counting() if p.invoice and p.amount > p.invoice.total]
    assert overpaid


def test_seed_demo_posts_manual_credit_and_debit_with_memos(seeded):
    for kind in (EntryKind.MANUAL_CREDIT, EntryKind.MANUAL_DEBIT):
        entry = LedgerEntry.objects.get(kind=kind)
        assert entry.memo


def test_seed_demo_covers_tax_exempt_abroad_inactive_usd_and_eur_clients(seeded):
    settings = get_business_settings()
    assert settings.business_name == "Northwind Contracting Ltd."
    assert settings.tax_local_clients_only
    exempt = Client.objects.get(tax_exempt=True)
    abroad = list(Client.objects.exclude(country=settings.local_country).order_by("country"))
    assert [(c.country, c.default_currency) for c in abroad] == [("DE", "EUR"), ("US", "USD")]
    for client in (exempt, *abroad):
        assert client.invoices.issued().exists()
        assert all(invoice.tax_total == 0 for invoice in client.invoices.all())
    assert Client.objects.filter(is_active=False).exists()
    assert Invoice.objects.exclude(discount_kind="").exists()
    assert Invoice.objects.filter(lines__discount_percent__gt=0).exists()


def test_seed_demo_freezes_rates_imported_from_the_bundled_ecb_file(seeded):
    """The bundled ECB file is imported; each foreign invoice froze the newest rate on or
    before its issue date, and its base figures are its figures at that rate."""
    from rates.models import ExchangeRate
    from rates.selectors import rate_on

    assert ExchangeRate.objects.filter(base_currency="CAD", source="ECB").count() > 1000
    foreign = Invoice.objects.issued().exclude(currency="CAD")
    assert {invoice.currency for invoice in foreign} == {"USD", "EUR"}
    for invoice in foreign:
        stored = rate_on(invoice.currency, invoice.issue_date, base_currency="CAD")
        assert (invoice.exchange_rate, invoice.rate_date, invoice.rate_source) == (
            stored.rate,
            stored.date,
            "ECB",
        )
        exact = invoice.total * stored.rate  # no discount, no tax: one figure to convert
        assert invoice.total_in_base == exact.quantize(Decimal("0.01"), ROUND_HALF_UP)
    for invoice in Invoice.objects.issued().filter(currency="CAD"):
        assert (invoice.exchange_rate, invoice.total_in_base) == (1, invoice.total)
    # The EUR payment was converted at the bank's rate, better than the invoice's: a gain.
    euro = Payment.objects.get(currency="EUR")
    assert (euro.exchange_rate, euro.rate_source) == (Decimal("1.625"), "Bank statement")
    assert euro.exchange_difference == euro.amount_in_base - euro.settled_in_base > 0


def test_seed_demo_makes_quotes_in_every_state_through_the_operations(seeded):
    """The quick start shows every state of a quote (SPEC: Quotes): numbered in the order
    of their dates, one accepted by phone and converted into a draft invoice."""
    from quotes.models import Answer, Channel, Quote, QuoteState, QuoteStatus
    from quotes.rules import shown_state

    today = business_today()
    quotes = list(Quote.objects.order_by("sequence"))
    # Every state, and two waiting for an answer (one for the client portal's demo).
    states = [shown_state(quote, today=today) for quote in quotes]
    assert sorted(states) == sorted([*QuoteState.values, QuoteState.SENT])
    sent = [quote for quote in quotes if quote.number]
    assert [quote.number for quote in sent] == [f"Q-000{n}" for n in range(1, 7)]
    assert [quote.issue_date for quote in sent] == sorted(quote.issue_date for quote in sent)
    valid = next(q for q in quotes if shown_state(q, today=today) == QuoteState.SENT)
    assert valid.valid_until >= today and valid.client.email
    converted = Quote.objects.get(status=QuoteStatus.ACCEPTED)
    assert (converted.answer.channel, len(converted.answer.pdf_sha256)) == (Channel.PHONE, 64)
    assert converted.invoice.status == InvoiceStatus.DRAFT
    assert converted.invoice.total == converted.total
    declined = Quote.objects.get(status=QuoteStatus.DECLINED)
    assert declined.answer.answer == Answer.DECLINED and declined.answer.reason
    assert declined.currency == "USD"
    assert Quote.objects.get(status=QuoteStatus.WITHDRAWN).withdraw_reason
    assert f"credit notes, {len(quotes)} quotes, " in seeded  # the summary names them


def test_seed_demo_keeps_the_ledger_invariant_for_every_client(seeded):
    assert clients_breaking_invariant() == []
    for client in Client.objects.all():
        assert client_balance(client) == expected_balance(client)
    assert "OK" in run("check_ledger")


def test_seed_demo_a_second_time_changes_nothing(seeded):
    from quotes.models import Quote

    def counts():
        return {
            model.__name__: model.objects.count()
            for model in (Client, Invoice, Payment, LedgerEntry, Quote)
        }

    before = counts()
    assert "Demo data already present; nothing to do" in run("seed_demo")
    assert counts() == before


def test_seed_demo_refuses_a_database_with_other_clients():
    ClientFactory(code="REAL")
    with pytest.raises(CommandError, match="already holds clients"):
        run("seed_demo")
    assert Client.objects.count() == 1
    assert get_business_settings().business_name != "Northwind Contracting Ltd."


def test_seed_demo_leaves_nothing_behind_when_it_fails_half_way(monkeypatch):
    def fail(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(seed_demo, "post_manual_debit", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        run("seed_demo")
    assert not Client.objects.exists()
    assert not Invoice.objects.exists()
    assert not LedgerEntry.objects.exists()
    assert get_business_settings().business_name != "Northwind Contracting Ltd."
