"""The invoice lifecycle of SPEC.md: statuses, numbering, locking, cancellation, history."""

import datetime
from decimal import Decimal

import pytest
import time_machine

from billing import services
from billing.models import InvoiceChange, InvoiceStatus, PaymentMethod
from billing.selectors import expected_balance
from billing.services import InvalidTransition, InvoiceLocked
from ledger.selectors import client_balance, stored_balance
from otb.operations import InvalidInput
from tests.factories import ClientFactory, draft, issued, line, pay

D = Decimal
pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 3, 10)


@pytest.fixture(autouse=True)
def fixed_day(business):
    # Noon in Toronto: the business's "today" is 2026-03-10.
    with time_machine.travel(datetime.datetime(2026, 3, 10, 17, 0, tzinfo=datetime.UTC)):
        yield


def test_new_invoice_is_a_draft_without_number():
    invoice = draft()
    assert invoice.status == InvoiceStatus.DRAFT
    assert invoice.number is None
    assert invoice.total == D("113.00")


def test_issuing_gives_next_number_dates_and_pending_status(business):
    first = issued()
    second = issued()
    assert (first.number, second.number) == ("INV-0001", "INV-0002")
    assert first.issue_date == TODAY
    assert first.due_date == TODAY + datetime.timedelta(days=business.payment_terms_days)
    assert first.status == InvoiceStatus.PENDING


def test_number_prefix_is_a_setting(business):
    business.invoice_number_prefix = "OTB-"
    business.save()
    assert issued().number == "OTB-0001"


def test_numbers_keep_growing_past_four_digits():
    from billing.models import InvoiceNumberCounter

    InvoiceNumberCounter.objects.filter(name="invoice").update(last_number=9999)
    assert issued().number == "INV-10000"


def test_issuing_twice_is_refused():
    invoice = issued()
    with pytest.raises(InvalidTransition, match="already issued"):
        services.issue_invoice(invoice=invoice, acting_user=None)


def test_draft_without_lines_cannot_be_issued():
    invoice = draft(lines=[])
    with pytest.raises(InvalidTransition, match="at least one line"):
        services.issue_invoice(invoice=invoice, acting_user=None)


def test_a_draft_of_nothing_cannot_be_issued_and_uses_no_number():
    """Issue 16, item 7: one line of quantity 0 passed "add at least one line"."""
    invoice = draft(lines=[line(quantity="0"), line(quantity="2", unit_price="0")])
    with pytest.raises(InvalidTransition, match="comes to 0.00"):
        services.issue_invoice(invoice=invoice, acting_user=None)
    invoice.refresh_from_db()
    assert invoice.is_draft and invoice.number is None
    assert issued().number == "INV-0001"  # the refusal used up no number


def test_an_issued_invoice_cannot_be_changed_into_one_of_nothing():
    invoice = issued()
    with pytest.raises(InvalidInput, match="keeps a line with an amount"):
        services.update_invoice(invoice=invoice, acting_user=None, lines=[line(quantity="0")])
    invoice.refresh_from_db()
    assert invoice.total == D("113.00")
    assert [x.quantity for x in invoice.lines.all()] == [D("1.000")]


def test_partial_then_paid():
    invoice = issued()
    pay(invoice, "13.00")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PARTIAL
    assert invoice.balance_due == D("100.00")
    pay(invoice, "100.00")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert invoice.balance_due == D("0.00")


def test_pending_payment_does_not_count_until_confirmed():
    invoice = issued()
    payment = pay(invoice, "113.00", confirmed=False)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PENDING
    assert invoice.amount_paid == D("0.00")
    services.confirm_payment(payment=payment, acting_user=None)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID


def test_overdue_after_due_date_and_refresh_command_moves_it():
    invoice = issued(
        issue_date=TODAY - datetime.timedelta(days=40), due_date=TODAY - datetime.timedelta(days=10)
    )
    assert invoice.status == InvoiceStatus.OVERDUE
    current = issued()
    with time_machine.travel(datetime.datetime(2026, 5, 1, 17, 0, tzinfo=datetime.UTC)):
        assert services.refresh_overdue() == 1
        assert services.refresh_overdue() == 0  # idempotent
    current.refresh_from_db()
    assert current.status == InvoiceStatus.OVERDUE


def test_overpayment_pays_in_full_and_leaves_credit():
    invoice = issued()
    pay(invoice, "150.00")
    invoice.refresh_from_db()
    assert invoice.amount_paid == D("113.00")
    assert invoice.status == InvoiceStatus.PAID
    assert client_balance(invoice.client) == D("37.00")


def test_payment_locks_the_invoice_and_reversal_unlocks_it():
    invoice = issued()
    payment = pay(invoice, "10.00")
    with pytest.raises(InvoiceLocked, match="payments that are not reversed"):
        services.update_invoice(invoice=invoice, acting_user=None, lines=[line("2")])
    with pytest.raises(InvoiceLocked):
        services.cancel_invoice(invoice=invoice, acting_user=None)
    services.reverse_payment(payment=payment, reason="Cheque bounced", acting_user=None)
    services.update_invoice(invoice=invoice, acting_user=None, lines=[line("2")])
    invoice.refresh_from_db()
    assert invoice.total == D("226.00")


def test_notes_may_change_on_a_locked_invoice():
    invoice = issued()
    pay(invoice, "10.00")
    services.update_invoice(invoice=invoice, acting_user=None, notes="Thanks!")
    invoice.refresh_from_db()
    assert invoice.notes == "Thanks!"


def test_lock_once_issued_setting(business):
    business.lock_issued_invoices = True
    business.save()
    invoice = issued()
    with pytest.raises(InvoiceLocked, match="lock invoices once issued"):
        services.update_invoice(invoice=invoice, acting_user=None, due_date=TODAY)
    with pytest.raises(InvoiceLocked):
        services.cancel_invoice(invoice=invoice, acting_user=None)


def test_cancel_keeps_number_and_credits_ledger():
    invoice = issued()
    services.cancel_invoice(invoice=invoice, acting_user=None, reason="Wrong client")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.CANCELLED
    assert invoice.number == "INV-0001"
    assert client_balance(invoice.client) == D("0.00")
    assert issued().number == "INV-0002"


def test_cancelled_invoice_cannot_be_paid():
    invoice = issued()
    services.cancel_invoice(invoice=invoice, acting_user=None)
    with pytest.raises(InvalidTransition, match="cancelled"):
        pay(invoice, "1.00")


def test_reversed_payment_cannot_be_confirmed():
    invoice = issued()
    payment = pay(invoice, "10.00", confirmed=False)
    services.reverse_payment(payment=payment, reason="Entered twice", acting_user=None)
    with pytest.raises(InvalidTransition, match="reversed payment cannot be confirmed"):
        services.confirm_payment(payment=payment, acting_user=None)


def test_client_credit_beyond_available_is_refused():
    client = ClientFactory()
    first = issued(client=client)
    pay(first, "150.00")  # 37.00 credit
    second = issued(client=client)
    with pytest.raises(services.CreditInsufficient, match="37.00"):
        pay(second, "40.00", method=PaymentMethod.CLIENT_CREDIT)
    pay(second, "37.00", method=PaymentMethod.CLIENT_CREDIT)
    second.refresh_from_db()
    assert second.amount_paid == D("37.00")
    assert client_balance(client) == expected_balance(client)


def test_edit_of_issued_invoice_is_recorded_and_posted():
    invoice = issued()
    services.update_invoice(invoice=invoice, acting_user=None, lines=[line("3")])
    change = InvoiceChange.objects.get(invoice=invoice)
    assert change.changes["total"] == {"old": "113.00", "new": "339.00"}
    assert change.changes["lines"]["old"][0]["quantity"] == "1.000"
    assert client_balance(invoice.client) == D("-339.00")


def test_issued_invoice_cannot_be_deleted():
    invoice = issued()
    with pytest.raises(InvalidTransition, match="never deleted"):
        services.delete_draft(invoice=invoice, acting_user=None)


def test_bad_line_is_refused_with_field_and_nothing_saved():
    client = ClientFactory()
    with pytest.raises(InvalidInput) as exc:
        services.create_draft(client=client, acting_user=None, lines=[line(), line("1.23456")])
    assert "lines.1.quantity" in exc.value.errors
    assert "Line 2, quantity" in exc.value.message
    assert not client.invoices.exists()


def test_issued_invoice_keeps_at_least_one_line():
    invoice = issued()
    with pytest.raises(InvalidInput, match="at least one line"):
        services.update_invoice(invoice=invoice, acting_user=None, lines=[])
    invoice.refresh_from_db()
    assert invoice.lines.count() == 1


def test_editing_notes_never_recomputes_tax_from_todays_client():
    invoice = issued()
    pay(invoice, "50.00")
    client = invoice.client
    client.tax_exempt = True
    client.save()
    entries = client.ledger_entries.count()
    services.update_invoice(invoice=invoice, acting_user=None, notes="Thanks", terms="Net 30")
    invoice.refresh_from_db()
    assert invoice.total == D("113.00")
    assert client.ledger_entries.count() == entries


def test_cancelled_invoice_keeps_its_figures_when_its_notes_change(business):
    invoice = issued()
    services.cancel_invoice(invoice=invoice, acting_user=None)
    business.tax_local_clients_only = True
    business.local_country = "US"
    business.save()
    services.update_invoice(invoice=invoice, acting_user=None, notes="Void")
    invoice.refresh_from_db()
    assert invoice.total == D("113.00")
    assert client_balance(invoice.client) == expected_balance(invoice.client)


def test_an_invoice_moved_to_a_client_billed_in_another_currency_keeps_its_own():
    """SPEC: a client's currency is a default; an issued invoice never changes currency,
    and the new client's CAD account takes it (its JPY account is untouched)."""
    invoice = issued()
    yen_client = ClientFactory(default_currency="JPY")
    services.update_invoice(invoice=invoice, acting_user=None, client=yen_client)
    invoice.refresh_from_db()
    assert (invoice.client, invoice.currency) == (yen_client, "CAD")
    assert stored_balance(yen_client, "CAD") == -invoice.total
    assert stored_balance(yen_client, "JPY") == 0
    with pytest.raises(InvalidInput, match="keeps it"):
        services.update_invoice(invoice=invoice, acting_user=None, currency="JPY")


def test_yen_amounts_have_no_cents():
    invoice = issued(client=ClientFactory(default_currency="JPY"), lines=[line("1", "1000")])
    with pytest.raises(InvalidInput, match="JPY amounts have at most 0 decimal places"):
        pay(invoice, "999.50")
    with pytest.raises(InvalidInput, match="at most 0 decimal places"):
        services.create_draft(
            client=invoice.client,
            acting_user=None,
            lines=[line("1", "100")],
            discount_kind="fixed",
            discount_value=D("10.50"),
        )
    assert not invoice.payments.exists()


def test_a_service_on_an_invoice_cannot_be_deleted():
    from django.db.models import ProtectedError

    from tests.factories import ServiceFactory

    service = ServiceFactory()
    draft(lines=[services.LineData(service=service, quantity=D("1"))])
    with pytest.raises(ProtectedError):
        service.delete()
