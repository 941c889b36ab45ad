"""Credit notes and refunds (SPEC: Credit notes, Payments): the figures of a credit note in
full, for some lines or quantities and for an amount, each by hand from SPEC.md; an invoice
credited in parts to the cent; over-crediting refused; statuses; the ledger, the invariant,
the spans; locking; drafts; refunds."""

import datetime
from decimal import Decimal

import pytest
import time_machine

from billing import services
from billing.models import (
    CreditKind,
    CreditNoteStatus,
    InvoiceStatus,
    OutstandingSpan,
)
from billing.outstanding import stale
from billing.selectors import available_credit, clients_breaking_invariant
from billing.services import CreditLineData, InvalidTransition, InvoiceLocked
from ledger.events import EntryKind
from ledger.models import LedgerEntry
from ledger.selectors import stored_balance
from otb.operations import InvalidInput
from settings_app.selectors import business_today
from tests.factories import GST_NO, QST_NO, ClientFactory, issued, line, pay, quebec_client

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def quebec(business):
    return quebec_client()


@pytest.fixture
def invoice(quebec):
    """10 h × 85.00 less 10 % (GST and QST) and 864.20 of materials carrying GST only, less
    5 % on the invoice. By hand (SPEC: Several taxes): subtotal 1,629.20, discount 81.46;
    GST on 1,629.20: base 1,629.20 − 81.46 = 1,547.74, tax 77.387 -> 77.39; QST on 765.00:
    base 765.00 − round(81.46 × 765 / 1,629.20 = 38.2500…) = 726.75, tax 72.4933… -> 72.49;
    total 1,697.62."""
    return issued(
        client=quebec,
        lines=[
            line("10", "85.00", description="Shelving", discount_percent=D("10")),
            line("1", "864.20", description="Plywood", taxes=["GST"]),
        ],
        discount_kind="percent",
        discount_value=D("5"),
    )


def figures(document):
    return (
        document.subtotal,
        document.discount_total,
        [(t.label, t.number, t.base, t.amount) for t in document.taxes.all()],
        document.total,
    )


def credit(invoice, user=None, **kwargs):
    note = services.create_credit_note(invoice=invoice, acting_user=user, **kwargs)
    return services.issue_credit_note(credit_note=note, acting_user=user)


def shelving(invoice):
    return invoice.lines.get(description="Shelving")


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


def test_the_invoice_figures_are_the_ones_computed_by_hand(invoice):
    assert figures(invoice) == (
        D("1629.20"),
        D("81.46"),
        [("GST", GST_NO, D("1547.74"), D("77.39")), ("QST", QST_NO, D("726.75"), D("72.49"))],
        D("1697.62"),
    )


def test_a_full_credit_note_takes_every_figure_and_the_invoice_is_credited(invoice):
    note = credit(invoice, kind=CreditKind.FULL, reason="Job cancelled")

    assert note.number == "CN-0001"
    assert note.status == CreditNoteStatus.ISSUED
    assert note.issue_date == business_today()
    assert figures(note) == figures(invoice)
    assert [(line.description, line.quantity, line.amount) for line in note.lines.all()] == [
        ("Shelving", D("10.000"), D("765.00")),
        ("Plywood", D("1.000"), D("864.20")),
    ]
    invoice = fresh(invoice)
    assert invoice.amount_credited == D("1697.62")
    assert invoice.balance_due == 0
    assert invoice.status == InvoiceStatus.CREDITED
    entry = LedgerEntry.objects.get(kind=EntryKind.CREDIT_NOTE_ISSUED)
    assert (entry.amount, entry.invoice_id, entry.credit_note_id) == (
        D("1697.62"),
        invoice.pk,
        note.pk,
    )
    assert entry.memo == f"Credit note CN-0001 for invoice {invoice.number}"
    assert stored_balance(invoice.client) == 0
    assert clients_breaking_invariant() == []
    assert not OutstandingSpan.objects.filter(invoice=invoice).exists()


def test_a_credit_for_a_quantity_carries_the_invoice_discount_in_proportion(invoice):
    """2 h of shelving: 2 × 85.00 less 10 % = 153.00; discount round(81.46 × 153 / 1,629.20
    = 7.6494…) = 7.65; both taxes on 153.00 − 7.65 = 145.35: GST 7.2675 -> 7.27, QST
    14.4986… -> 14.50; total 167.12."""
    note = credit(
        invoice,
        kind=CreditKind.LINES,
        lines=[CreditLineData(invoice_line=shelving(invoice), quantity="2")],
    )

    assert figures(note) == (
        D("153.00"),
        D("7.65"),
        [("GST", GST_NO, D("145.35"), D("7.27")), ("QST", QST_NO, D("145.35"), D("14.50"))],
        D("167.12"),
    )
    invoice = fresh(invoice)
    assert invoice.amount_credited == D("167.12")
    assert invoice.balance_due == D("1530.50")
    assert invoice.status == InvoiceStatus.PENDING
    assert stored_balance(invoice.client) == -D("1530.50")
    assert clients_breaking_invariant() == []


def test_a_credit_of_an_amount_splits_its_taxes_in_the_invoice_proportions(invoice):
    """100.00 gross of 1,697.62: GST round(77.39 × 100 / 1,697.62 = 4.5588…) = 4.56 on
    round(1,547.74 × …) = 91.17; QST 4.2701… -> 4.27 on 42.8103… -> 42.81; discount
    4.7985… -> 4.80; subtotal 100.00 − 4.56 − 4.27 + 4.80 = 95.97."""
    note = credit(invoice, kind=CreditKind.AMOUNT, amount="100.00")

    assert figures(note) == (
        D("95.97"),
        D("4.80"),
        [("GST", GST_NO, D("91.17"), D("4.56")), ("QST", QST_NO, D("42.81"), D("4.27"))],
        D("100.00"),
    )
    assert [(line.description, line.amount) for line in note.lines.all()] == [
        (f"Credit on invoice {invoice.number} of {_long(invoice.issue_date)}", D("95.97"))
    ]
    assert fresh(invoice).balance_due == D("1597.62")


def _long(day):
    from django.utils import formats

    return formats.date_format(day)


def test_an_invoice_credited_in_parts_is_credited_to_the_cent(invoice):
    first = credit(
        invoice,
        kind=CreditKind.LINES,
        lines=[CreditLineData(invoice_line=shelving(invoice), quantity="3.5")],
    )
    second = credit(invoice, kind=CreditKind.AMOUNT, amount="333.33")
    last = credit(invoice, kind=CreditKind.FULL)

    notes = [first, second, last]
    assert [note.number for note in notes] == ["CN-0001", "CN-0002", "CN-0003"]
    assert sum(note.total for note in notes) == invoice.total
    assert sum(note.subtotal for note in notes) == invoice.subtotal
    assert sum(note.discount_total for note in notes) == invoice.discount_total
    for position in (0, 1):
        tax = list(invoice.taxes.all())[position]
        credited = [list(note.taxes.all())[position] for note in notes]
        assert sum(t.amount for t in credited) == tax.amount
        assert sum(t.base for t in credited) == tax.base
    # After a credit of an amount, what remains is one line of the remaining subtotal.
    assert [line.amount for line in last.lines.all()] == [last.subtotal]
    assert fresh(invoice).status == InvoiceStatus.CREDITED
    assert clients_breaking_invariant() == []


def test_crediting_every_quantity_left_takes_exactly_what_remains(invoice):
    credit(
        invoice,
        kind=CreditKind.LINES,
        lines=[CreditLineData(invoice_line=shelving(invoice), quantity="3")],
    )
    rest = credit(
        invoice,
        kind=CreditKind.LINES,
        lines=[
            CreditLineData(invoice_line=shelving(invoice), quantity="7"),
            CreditLineData(invoice_line=invoice.lines.get(description="Plywood"), quantity="1"),
        ],
    )
    assert fresh(invoice).amount_credited == invoice.total
    assert fresh(invoice).status == InvoiceStatus.CREDITED
    assert sum(line.amount for line in rest.lines.all()) == rest.subtotal


def test_more_than_is_left_is_refused_with_what_is_left(invoice):
    credit(invoice, kind=CreditKind.AMOUNT, amount="1000.00")

    with pytest.raises(InvalidInput) as exc:
        services.create_credit_note(
            invoice=invoice, acting_user=None, kind=CreditKind.AMOUNT, amount="697.63"
        )
    assert exc.value.field == "amount"
    assert "697.62 CAD" in exc.value.message
    with pytest.raises(InvalidInput) as exc:
        services.create_credit_note(
            invoice=invoice,
            acting_user=None,
            kind=CreditKind.LINES,
            lines=[CreditLineData(invoice_line=shelving(invoice), quantity="10.001")],
        )
    assert exc.value.field == "lines.0.quantity"
    assert "at most 10 of “Shelving”" in exc.value.message
    # Exactly what is left is all that remains.
    last = credit(invoice, kind=CreditKind.AMOUNT, amount="697.62")
    assert last.total == D("697.62")
    with pytest.raises(InvalidTransition, match="credited in full"):
        services.create_credit_note(invoice=invoice, acting_user=None)


@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        ({"kind": "half"}, "kind", "not a kind of credit note"),
        ({"kind": "amount", "amount": "0"}, "amount", "Amount to credit"),
        ({"kind": "amount", "amount": "12.345"}, "amount", "Amount to credit"),
        ({"kind": "amount", "amount": "1e3"}, "amount", "Amount to credit"),
        ({"kind": "lines", "lines": []}, "lines", "at least one line"),
        ({"kind": "lines", "lines": [("x", "1")]}, "lines.0.invoice_line", "not a line"),
        ({"kind": "lines", "lines": [(None, "-1")]}, "lines.0.quantity", "Line 1, quantity"),
        ({"kind": "lines", "lines": [(None, "abc")]}, "lines.0.quantity", "Line 1, quantity"),
        ({"reason": "x" * 20001}, "reason", "Reason: at most"),
        ({"reason": 12}, "reason", "Reason: must be text"),
    ],
)
def test_bad_input_names_its_field_and_saves_nothing(invoice, kwargs, field, words):
    if "lines" in kwargs:
        kwargs["lines"] = [
            CreditLineData(invoice_line=shelving(invoice) if ref is None else ref, quantity=q)
            for ref, q in kwargs["lines"]
        ]
    with pytest.raises(InvalidInput) as exc:
        services.create_credit_note(invoice=invoice, acting_user=None, **kwargs)
    assert exc.value.field == field
    assert words in exc.value.message
    assert not invoice.credit_notes.exists()


def test_a_credit_after_full_payment_becomes_client_credit(invoice):
    pay(invoice, "1697.62")
    credit(
        invoice,
        kind=CreditKind.LINES,
        lines=[CreditLineData(invoice_line=shelving(invoice), quantity="2")],
    )

    invoice = fresh(invoice)
    # Paid 1,530.50 and credited 167.12 of 1,697.62: paid, not credited.
    assert (invoice.amount_paid, invoice.amount_credited) == (D("1530.50"), D("167.12"))
    assert invoice.status == InvoiceStatus.PAID
    assert available_credit(invoice.client) == D("167.12")
    assert stored_balance(invoice.client) == D("167.12")
    assert clients_breaking_invariant() == []


def test_a_partly_paid_invoice_credited_for_the_rest_is_paid(invoice):
    pay(invoice, "697.62")
    credit(invoice, kind=CreditKind.AMOUNT, amount="1000.00")
    invoice = fresh(invoice)
    assert invoice.status == InvoiceStatus.PAID
    assert invoice.balance_due == 0
    assert available_credit(invoice.client) == 0


def test_an_invoice_with_an_issued_credit_note_is_locked(invoice, business):
    credit(invoice, kind=CreditKind.AMOUNT, amount="10.00")
    with pytest.raises(InvoiceLocked, match="issued credit note"):
        services.cancel_invoice(invoice=invoice, acting_user=None)
    with pytest.raises(InvoiceLocked, match="issued credit note"):
        services.update_invoice(invoice=invoice, acting_user=None, lines=[line("1", "1.00")])
    # Notes stay editable, as on an invoice with payments.
    services.update_invoice(invoice=invoice, acting_user=None, notes="Credited in part.")


def test_a_draft_credit_note_locks_nothing_and_is_changed_deleted_and_refused_once_issued(
    invoice,
):
    note = services.create_credit_note(
        invoice=invoice, acting_user=None, kind=CreditKind.AMOUNT, amount="50.00"
    )
    assert (note.number, note.status, note.total) == (None, CreditNoteStatus.DRAFT, D("50.00"))
    assert fresh(invoice).amount_credited == 0
    assert not LedgerEntry.objects.filter(kind=EntryKind.CREDIT_NOTE_ISSUED).exists()

    note = services.update_credit_note(
        credit_note=note,
        acting_user=None,
        kind=CreditKind.LINES,
        lines=[CreditLineData(invoice_line=shelving(invoice), quantity="2")],
        reason="Two hours less",
    )
    assert (note.kind, note.total, note.reason) == (CreditKind.LINES, D("167.12"), "Two hours less")
    services.delete_credit_note(credit_note=note, acting_user=None)
    assert not invoice.credit_notes.exists()

    issued_note = credit(invoice, kind=CreditKind.AMOUNT, amount="50.00")
    with pytest.raises(InvalidTransition, match="never changes"):
        services.update_credit_note(credit_note=issued_note, acting_user=None, reason="x")
    with pytest.raises(InvalidTransition, match="never changes"):
        services.delete_credit_note(credit_note=issued_note, acting_user=None)
    with pytest.raises(InvalidTransition, match="never changes"):
        services.issue_credit_note(credit_note=issued_note, acting_user=None)


def test_a_draft_is_computed_again_when_issued_and_refused_if_it_no_longer_fits(invoice):
    """Two drafts each for 1,000.00: the first issued leaves 697.62, so the second is
    refused when it is issued, and nothing of it is numbered."""
    one, two = (
        services.create_credit_note(
            invoice=invoice, acting_user=None, kind=CreditKind.AMOUNT, amount="1000.00"
        )
        for _ in range(2)
    )
    services.issue_credit_note(credit_note=one, acting_user=None)
    with pytest.raises(InvalidInput, match="697.62 CAD"):
        services.issue_credit_note(credit_note=two, acting_user=None)
    assert fresh(two).status == CreditNoteStatus.DRAFT
    assert fresh(two).number is None
    # The next one issued takes the next number: no gap.
    three = credit(invoice, kind=CreditKind.FULL)
    assert three.number == "CN-0002"


def test_only_an_issued_invoice_that_is_not_cancelled_is_credited(quebec):
    draft = services.create_draft(client=quebec, acting_user=None, lines=[line()])
    with pytest.raises(InvalidTransition, match="A draft is not credited"):
        services.create_credit_note(invoice=draft, acting_user=None)
    cancelled = issued(client=quebec)
    services.cancel_invoice(invoice=cancelled, acting_user=None)
    with pytest.raises(InvalidTransition, match="cancelled"):
        services.create_credit_note(invoice=cancelled, acting_user=None)


def test_the_issue_date_is_between_the_invoice_and_today(invoice):
    note = services.create_credit_note(invoice=invoice, acting_user=None)
    tomorrow = business_today() + datetime.timedelta(days=1)
    with pytest.raises(InvalidInput) as exc:
        services.issue_credit_note(credit_note=note, acting_user=None, issue_date=tomorrow)
    assert exc.value.field == "issue_date"
    before = invoice.issue_date - datetime.timedelta(days=1)
    with pytest.raises(InvalidInput, match="before its invoice"):
        services.issue_credit_note(credit_note=note, acting_user=None, issue_date=before)
    assert fresh(note).status == CreditNoteStatus.DRAFT


def test_the_spans_count_a_credit_note_from_its_date(quebec):
    invoice = issued(
        client=quebec, lines=[line("1", "100.00")], issue_date=datetime.date(2026, 3, 2)
    )
    with time_machine.travel(datetime.datetime(2026, 4, 10, 12, tzinfo=datetime.UTC)):
        note = services.create_credit_note(
            invoice=invoice, acting_user=None, kind=CreditKind.AMOUNT, amount="40.00"
        )
        services.issue_credit_note(
            credit_note=note, acting_user=None, issue_date=datetime.date(2026, 4, 1)
        )
    # 114.98 (5 % + 9.975 % of 100.00) until the end of March, 74.98 from April 1.
    spans = sorted(
        (span.starts, span.ends, span.balance)
        for span in OutstandingSpan.objects.filter(invoice=invoice)
    )
    assert spans[0] == (datetime.date(2026, 3, 2), datetime.date(2026, 4, 1), D("114.98"))
    assert spans[-1] == (datetime.date(2026, 4, 1), None, D("74.98"))
    assert stale() == []


# --- Refunds ----------------------------------------------------------------------------


def test_a_refund_pays_credit_back_and_is_refused_beyond_it(invoice):
    pay(invoice, "1697.62")
    credit(invoice, kind=CreditKind.AMOUNT, amount="100.00")
    client = invoice.client
    assert available_credit(client) == D("100.00")

    with pytest.raises(services.CreditInsufficient) as exc:
        services.record_refund(
            client=client,
            amount="100.01",
            date=business_today(),
            method="cheque",
            acting_user=None,
        )
    assert exc.value.field == "amount"
    assert "100.00 CAD of credit available" in exc.value.message

    refund = services.record_refund(
        client=client,
        amount="60.00",
        date=business_today(),
        method="cheque",
        reference="CHQ 118",
        acting_user=None,
    )
    entry = LedgerEntry.objects.get(kind=EntryKind.REFUND_PAID)
    assert (entry.amount, entry.refund_id, entry.memo) == (
        -D("60.00"),
        refund.pk,
        "Refund: Cheque CHQ 118",
    )
    assert available_credit(client) == D("40.00")
    assert clients_breaking_invariant() == []

    services.reverse_refund(refund=refund, reason="Cheque never cashed", acting_user=None)
    assert available_credit(client) == D("100.00")
    assert clients_breaking_invariant() == []
    with pytest.raises(InvalidTransition, match="already reversed"):
        services.reverse_refund(refund=refund, reason="again", acting_user=None)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"amount": "-5"}, "amount"),
        ({"amount": "5.001"}, "amount"),
        ({"method": "client_credit"}, "method"),
        ({"method": "barter"}, "method"),
        ({"date": "2999-01-01"}, "date"),
        ({"date": "yesterday"}, "date"),
        ({"reference": "a\nb"}, "reference"),
    ],
)
def test_a_bad_refund_names_its_field(kwargs, field, business):
    client = ClientFactory()
    services.post_manual_credit(client=client, amount=D("50.00"), memo="Goodwill", acting_user=None)
    values = {"amount": "5.00", "date": business_today(), "method": "cheque", **kwargs}
    with pytest.raises(InvalidInput) as exc:
        services.record_refund(client=client, acting_user=None, **values)
    assert exc.value.field == field
    assert not client.refunds.exists()


def test_a_refund_dated_after_today_says_so_without_talking_of_pending(business):
    client = ClientFactory()
    services.post_manual_credit(client=client, amount=D("50.00"), memo="Goodwill", acting_user=None)
    with pytest.raises(InvalidInput) as exc:
        services.record_refund(
            client=client,
            amount="5.00",
            date=business_today() + datetime.timedelta(days=3),
            method="cheque",
            acting_user=None,
        )
    assert exc.value.field == "date"
    assert "a refund is recorded once it is paid" in exc.value.message
    assert "pending" not in exc.value.message
