"""The one path for money events (billing.accounting, ledger.events), and the bugs it fixed:
"collected" with one meaning, the tax decision kept by an issued invoice, client credit
refused when it is recorded, and the subscribers that run after the commit."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import IntegrityError, transaction

from billing import accounting, pdf, services
from billing.models import Client, PaymentMethod, RenderedPdf
from billing.selectors import available_credit, clients_breaking_invariant, dashboard_figures
from ledger.events import CREDIT, DEBIT, RULES, EntryKind, Event, entry_kinds_with_sign
from ledger.models import LedgerEntry
from ledger.selectors import client_balance, collected_by_currency, stored_balance
from otb.operations import DomainError
from reports import selectors as reports
from tests.api import token_client
from tests.factories import ClientFactory, issued, line, pay

pytestmark = pytest.mark.django_db
D = Decimal


def at_noon_in_toronto(day: datetime.date):
    return time_machine.travel(datetime.datetime.combine(day, datetime.time(17, 0), datetime.UTC))


# --- the table ------------------------------------------------------------------------------
SIGNED_KINDS = entry_kinds_with_sign(CREDIT) + entry_kinds_with_sign(DEBIT)


@pytest.mark.parametrize("event", [e for e in Event if RULES[e].entry_kind in SIGNED_KINDS])
def test_the_database_refuses_an_entry_of_the_wrong_sign_for_its_event(event, business):
    """The ledger's check constraint is written from the table: an amount of the other
    sign is refused by the database itself (an "invoice changed" entry may have either)."""
    rule = RULES[event]
    client = ClientFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            client=client,
            kind=rule.entry_kind,
            amount=D("-1.00") if rule.sign == CREDIT else D("1.00"),
            currency="CAD",
            date=datetime.date(2026, 1, 1),
        )


def test_the_entry_point_refuses_an_amount_of_the_wrong_sign(business):
    client = ClientFactory()
    with pytest.raises(ValueError, match="wrong sign"):
        accounting.post(Event.MANUAL_CREDIT, client=client, amount=D("-5.00"), acting_user=None)
    with pytest.raises(ValueError, match="wrong sign"):
        accounting.post(Event.MANUAL_DEBIT, client=client, amount=D("5.00"), acting_user=None)
    assert not LedgerEntry.objects.exists()


def test_every_entry_kind_has_an_event_that_posts_it():
    posted = {rule.entry_kind for rule in RULES.values() if rule.entry_kind}
    assert posted == set(EntryKind.values)
    assert {RULES[Event.MANUAL_CREDIT].sign, RULES[Event.MANUAL_DEBIT].sign} == {CREDIT, DEBIT}


def test_client_credit_applied_counts_as_paid_and_posts_no_entry(business):
    acme = ClientFactory()
    services.post_manual_credit(client=acme, amount="50.00", memo="Prepaid", acting_user=None)
    invoice = issued(client=acme)  # 113.00
    entries = LedgerEntry.objects.count()
    services.apply_client_credit(invoice=invoice, acting_user=None)
    invoice.refresh_from_db()
    assert invoice.amount_paid == D("50.00")
    assert LedgerEntry.objects.count() == entries
    assert stored_balance(acme) == client_balance(acme) == D("50.00") - D("113.00")
    assert clients_breaking_invariant() == []


# --- bug: "collected" had two meanings --------------------------------------------------------
def test_a_reversal_counts_as_collected_when_it_is_recorded_everywhere(business):
    """A March payment reversed on 2 April: March keeps its 50.00 and April shows -50.00, on
    the dashboard, in the revenue report and in the API alike (the dashboard used to sum
    payments by their date, which rewrote March and showed April as 0.00)."""
    acme = ClientFactory()
    with at_noon_in_toronto(datetime.date(2026, 3, 10)):
        invoice = issued(client=acme)
        payment = pay(invoice, "50.00", when=datetime.date(2026, 3, 10))
        march = dashboard_figures(today=datetime.date(2026, 3, 31), default_currency="CAD")
    with at_noon_in_toronto(datetime.date(2026, 4, 2)):
        services.reverse_payment(payment=payment, reason="Bounced", acting_user=None)
        april = dashboard_figures(today=datetime.date(2026, 4, 2), default_currency="CAD")
        revenue = reports.revenue(
            datetime.date(2026, 3, 1),
            datetime.date(2026, 4, 30),
            period="month",
            today=datetime.date(2026, 4, 2),
        )
    assert march.per_currency[0].collected_this_month == D("50.00")
    assert april.per_currency[0].collected_this_month == D("-50.00")
    by_month = {row.start.month: row.collected for row in revenue}
    assert by_month == {3: D("50.00"), 4: D("-50.00")}
    assert collected_by_currency(
        start=datetime.date(2026, 3, 1), end=datetime.date(2026, 4, 30)
    ) == {"CAD": D("0.00")}


def test_the_api_dashboard_shows_the_same_collected(business, bookkeeper):
    acme = ClientFactory()
    with at_noon_in_toronto(datetime.date(2026, 3, 10)):
        payment = pay(issued(client=acme), "50.00", when=datetime.date(2026, 3, 10))
    with at_noon_in_toronto(datetime.date(2026, 4, 2)):
        services.reverse_payment(payment=payment, reason="Bounced", acting_user=None)
        body = token_client(bookkeeper).get("/api/v1/dashboard/").json()
        office = dashboard_figures(today=datetime.date(2026, 4, 2), default_currency="CAD")
    (cad,) = body["per_currency"]
    assert cad["currency"] == "CAD"
    assert cad["collected_this_month"] == "-50.00"
    assert cad["outstanding"] == str(office.per_currency[0].outstanding)


# --- bug: editing an issued invoice decided its tax again from today's settings --------------
def test_an_issued_invoice_keeps_its_tax_when_the_local_only_setting_changes(business):
    business.tax_local_clients_only = False
    business.save()
    abroad = ClientFactory(country="US")
    invoice = issued(client=abroad, lines=[line(unit_price="334.00")])
    assert invoice.tax_total == D("43.42") and invoice.tax_basis == "default"

    business.tax_local_clients_only = True
    business.save()
    services.update_invoice(
        invoice=invoice,
        acting_user=None,
        lines=[
            services.LineData(description="Work", quantity=D(1), unit_price=D("334.00")),
            services.LineData(description="More", quantity=D(1), unit_price=D("100.00")),
        ],
    )
    invoice.refresh_from_db()
    assert invoice.tax_total == D("56.42")  # 13 % of 434.00: still taxed
    assert invoice.total == D("490.42")
    assert client_balance(abroad) == -invoice.total
    assert clients_breaking_invariant() == []


def test_a_draft_keeps_the_tax_set_it_was_made_with_until_its_client_changes(business):
    """SPEC: a document copies its set when it is made; a draft moved to another client is
    that client's document, and takes that client's set."""
    abroad = ClientFactory(country="US")
    draft = services.create_draft(client=abroad, lines=[line()], acting_user=None)
    assert draft.tax_basis == "default" and draft.tax_total == D("13.00")
    business.tax_local_clients_only = True
    business.save()
    invoice = services.issue_invoice(invoice=draft, acting_user=None)
    assert invoice.tax_basis == "default" and invoice.tax_total == D("13.00")

    other = services.create_draft(client=ClientFactory(), lines=[line()], acting_user=None)
    moved = services.update_invoice(
        invoice=other, acting_user=None, client=ClientFactory(country="US")
    )
    assert moved.tax_basis == "foreign" and moved.tax_total == D("0.00")
    assert list(moved.taxes.all()) == []


def test_the_edit_preview_of_an_issued_invoice_uses_its_own_tax_decision(business):
    abroad = ClientFactory(country="US")
    invoice = issued(client=abroad)
    business.tax_local_clients_only = True
    business.save()
    preview = services.preview_invoice(client=abroad, lines=[line()], invoice=invoice)
    assert preview["total"] == D("113.00")


# --- bug: a pending client-credit payment beyond the credit was accepted ---------------------
def test_a_pending_client_credit_payment_beyond_the_credit_is_refused_when_recorded(business):
    acme = ClientFactory()
    invoice = issued(client=acme)
    with pytest.raises(services.CreditInsufficient, match="credit available") as refused:
        services.record_payment(
            invoice=invoice,
            amount="10.00",
            date=datetime.date(2026, 1, 1),
            method=PaymentMethod.CLIENT_CREDIT,
            confirmed=False,
            acting_user=None,
        )
    assert refused.value.field == "amount"
    assert not invoice.payments.exists()


@pytest.fixture
def credited(business):
    """ACME with 500.00 of credit and an invoice of 113.00."""
    acme = ClientFactory(code="ACME")
    services.post_manual_credit(client=acme, amount="500.00", memo="Prepaid", acting_user=None)
    return issued(client=acme)


def test_client_credit_beyond_the_balance_due_is_the_same_409_when_recorded_or_confirmed(
    credited, bookkeeper
):
    api = token_client(bookkeeper)
    body = {
        "invoice": credited.number,
        "amount": "113.01",
        "date": "2026-01-01",
        "method": "client_credit",
    }
    recorded = api.post("/api/v1/payments/", body | {"confirmed": True}, format="json")
    pending = api.post(
        "/api/v1/payments/", body | {"amount": "60.00", "confirmed": False}, format="json"
    )
    assert pending.status_code == 201, pending.json()
    # Another payment lowers the balance due below the pending one before it is confirmed.
    pay(credited, "60.00")
    confirmed = api.post(f"/api/v1/payments/{pending.json()['id']}/confirm/", {}, format="json")
    assert (recorded.status_code, confirmed.status_code) == (409, 409)
    assert recorded.json()["code"] == confirmed.json()["code"] == "credit_insufficient"
    assert "amount" in recorded.json()["errors"] and "amount" in confirmed.json()["errors"]


def test_the_api_client_shows_its_ledger_balance_and_available_credit(credited, bookkeeper):
    api = token_client(bookkeeper)
    body = api.get("/api/v1/clients/ACME/").json()
    assert (body["balance"], body["available_credit"]) == ("387.00", "500.00")
    listed = api.get("/api/v1/clients/").json()["results"]
    assert [(c["balance"], c["available_credit"]) for c in listed] == [("387.00", "500.00")]
    assert D(body["available_credit"]) == available_credit(Client.objects.get(code="ACME"))


# --- subscribers run after the commit ---------------------------------------------------------
def test_a_committed_payment_drops_the_cached_pdf(business, django_capture_on_commit_callbacks):
    invoice = issued()
    pdf.invoice_pdf(pdf.load_invoice(pk=invoice.pk))
    assert RenderedPdf.objects.filter(invoice=invoice).exists()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        pay(invoice, "10.00")
    assert RenderedPdf.objects.filter(invoice=invoice).exists()  # not before the commit
    for callback in callbacks:
        callback()
    assert not RenderedPdf.objects.filter(invoice=invoice).exists()


def test_a_refused_event_tells_no_subscriber(business, django_capture_on_commit_callbacks):
    client = ClientFactory()
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(DomainError):
        services.post_manual_debit(client=client, amount="0", memo="Nothing", acting_user=None)
    assert callbacks == []
