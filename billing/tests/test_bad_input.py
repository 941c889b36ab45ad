"""Bad input to every operation (SPEC: Bad input and failures): each is refused with a
DomainError whose field and message say which field and what is wrong, and nothing is saved."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

import pytest

from billing import services
from billing.models import (
    Client,
    Invoice,
    InvoiceChange,
    InvoiceLine,
    InvoiceNumberCounter,
    InvoiceTax,
    Payment,
    PaymentMethod,
    Service,
)
from billing.services import (
    CreditInsufficient,
    InvalidTransition,
    LineData,
    NotFound,
    post_manual_credit,
    post_manual_debit,
)
from ledger.models import LedgerEntry
from otb.operations import DomainError, InvalidInput
from tests.factories import ClientFactory, ServiceFactory, draft, issued, line, pay

D = Decimal
pytestmark = pytest.mark.django_db

WATCHED = (
    Client,
    Service,
    Invoice,
    InvoiceLine,
    InvoiceTax,
    InvoiceChange,
    InvoiceNumberCounter,
    Payment,
    LedgerEntry,
)
HUGE_TEXT = "x" * 100_000


def database_state() -> dict:
    """Every row of every table an operation writes: equal before and after a refusal."""
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in WATCHED}


def assert_refused(call, *, field, label, problem, error=InvalidInput) -> DomainError:
    """``call`` is refused with ``error`` about ``field``; its message names the field by
    ``label`` and says ``problem``; the database is exactly as it was."""
    before = database_state()
    with pytest.raises(error) as exc:
        call()
    refusal = exc.value
    assert refusal.field == field, refusal.message
    assert label in refusal.message
    assert problem in refusal.message
    assert database_state() == before
    return refusal


@dataclass
class World:
    acme: Client
    beta: Client
    gone: Client
    service: Service
    invoice: Invoice  # issued for ACME, 113.00, nothing paid
    draft: Invoice  # ACME
    payment: Payment  # confirmed, on another invoice of ACME


@pytest.fixture
def world(business) -> World:
    acme = ClientFactory(code="ACME")
    gone = ClientFactory(code="GONE")
    gone_draft = draft(client=gone)
    gone.is_active = False
    gone.save()
    assert gone_draft.pk
    return World(
        acme=acme,
        beta=ClientFactory(code="BETA"),
        gone=gone,
        service=ServiceFactory(code="WEB"),
        invoice=issued(client=acme),
        draft=draft(client=acme),
        payment=pay(issued(client=acme), "10.00"),
    )


AMOUNT_CASES = [
    pytest.param(0, "more than 0", id="zero"),
    pytest.param("0.00", "more than 0", id="zero-text"),
    pytest.param("-1", "more than 0", id="negative"),
    pytest.param(D("-0.01"), "more than 0", id="negative-decimal"),
    pytest.param("-0", "more than 0", id="minus-zero"),
    pytest.param("0.001", "at most 2 decimal places", id="three-decimals"),
    pytest.param("10.005", "at most 2 decimal places", id="half-cent"),
    pytest.param("abc", "“abc” is not a number", id="letters"),
    pytest.param("1,50", "is not a number", id="comma"),
    pytest.param(1.5, "not a float", id="float"),
    pytest.param(True, "is not a number", id="boolean"),
    pytest.param(10**15, "at most 999999999999.99", id="huge-int"),
    pytest.param("1e15", "is not a number", id="huge-exponent"),
    pytest.param("1e400", "is not a number", id="1e400"),
    pytest.param("NaN", "is not a number", id="nan"),
    pytest.param("Infinity", "is not a number", id="infinity"),
    pytest.param("-Infinity", "is not a number", id="minus-infinity"),
    pytest.param("", "required", id="empty"),
    pytest.param("   ", "required", id="blank"),
    pytest.param(None, "required", id="none"),
]

DATE_CASES = [
    pytest.param("2026-13-01", "not a date", id="month-13"),
    pytest.param("2026-02-30", "not a date", id="february-30"),
    pytest.param("10/03/2026", "not a date", id="local-format"),
    pytest.param("abc", "not a date", id="letters"),
    pytest.param(datetime.datetime(2026, 3, 10, 12, 0, tzinfo=datetime.UTC), "not a time", id="dt"),
]


# --- Payments ---------------------------------------------------------------------------
def record(world, **changes):
    kwargs = {
        "invoice": world.invoice,
        "amount": "10.00",
        "date": "2026-03-10",
        "method": PaymentMethod.CASH,
        "acting_user": None,
    }
    return services.record_payment(**(kwargs | changes))


def test_the_payment_the_cases_start_from_is_accepted(world):
    payment = record(world)
    assert payment.amount == D("10.00")


@pytest.mark.parametrize(("amount", "problem"), AMOUNT_CASES)
def test_payment_amount_is_checked(world, amount, problem):
    assert_refused(
        lambda: record(world, amount=amount), field="amount", label="Amount", problem=problem
    )


@pytest.mark.parametrize(
    ("date", "problem"),
    [
        *DATE_CASES,
        pytest.param("", "required", id="empty"),
        pytest.param(None, "required", id="none"),
    ],
)
def test_payment_date_is_checked(world, date, problem):
    assert_refused(lambda: record(world, date=date), field="date", label="Date", problem=problem)


@pytest.mark.parametrize("method", ["bitcoin", "CASH", "", None, "client credit"])
def test_unknown_payment_method_is_refused(world, method):
    assert_refused(
        lambda: record(world, method=method),
        field="method",
        label="Method",
        problem="is not a payment method",
    )


@pytest.mark.parametrize(
    ("changes", "field", "label", "problem"),
    [
        pytest.param({"reference": "r" * 201}, "reference", "Reference", "at most 200", id="ref"),
        pytest.param({"note": HUGE_TEXT}, "note", "Note", "at most 20000", id="huge-note"),
        pytest.param({"note": 5}, "note", "Note", "must be text", id="note-not-text"),
    ],
)
def test_payment_texts_are_checked(world, changes, field, label, problem):
    assert_refused(lambda: record(world, **changes), field=field, label=label, problem=problem)


def test_payment_for_another_clients_invoice_is_refused(world):
    assert_refused(
        lambda: record(world, client=world.beta),
        field="invoice",
        label="Invoice",
        problem="belongs to ACME, not to BETA",
    )


def test_payment_without_client_or_invoice_is_refused(world):
    assert_refused(
        lambda: record(world, invoice=None, client=None),
        field="client",
        label="Client",
        problem="choose a client or an invoice",
    )


@pytest.mark.parametrize(
    ("changes", "field", "label"),
    [
        pytest.param({"invoice": "INV-0001"}, "invoice", "Invoice", id="invoice-as-text"),
        pytest.param({"invoice": None, "client": "ACME"}, "client", "Client", id="client-as-text"),
    ],
)
def test_payment_for_something_that_is_not_a_record_is_refused(world, changes, field, label):
    assert_refused(lambda: record(world, **changes), field=field, label=label, problem="choose")


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"invoice": Invoice(pk=10**9)}, id="invoice"),
        pytest.param({"invoice": None, "client": Client(pk=10**9)}, id="client"),
    ],
)
def test_payment_for_an_unknown_record_is_refused(world, changes):
    assert_refused(
        lambda: record(world, **changes),
        field=None,
        label="no longer exists",
        problem="That",
        error=NotFound,
    )


def test_payment_on_a_draft_is_refused(world):
    assert_refused(
        lambda: record(world, invoice=world.draft),
        field=None,
        label="Issue the invoice",
        problem="before recording a payment",
        error=InvalidTransition,
    )


def test_client_credit_without_invoice_is_refused(world):
    assert_refused(
        lambda: record(world, invoice=None, client=world.acme, method=PaymentMethod.CLIENT_CREDIT),
        field="invoice",
        label="Invoice",
        problem="must pay an invoice",
    )


def test_client_credit_above_the_balance_due_is_refused(world):
    post_manual_credit(client=world.acme, amount=D("500.00"), memo="Prepaid", acting_user=None)
    assert_refused(
        lambda: record(world, amount="113.01", method=PaymentMethod.CLIENT_CREDIT),
        field="amount",
        label="Amount",
        problem="at most the balance due (113.00 CAD)",
        error=CreditInsufficient,
    )


def test_client_credit_above_the_available_credit_is_refused(world):
    assert_refused(
        lambda: record(world, amount="0.01", method=PaymentMethod.CLIENT_CREDIT),
        field="amount",
        label="ACME",
        problem="credit available",
        error=CreditInsufficient,
    )


@pytest.mark.parametrize(
    ("reason", "problem"),
    [
        pytest.param("", "say why", id="empty"),
        pytest.param("   ", "say why", id="blank"),
        pytest.param(None, "say why", id="none"),
        pytest.param(5, "must be text", id="number"),
        pytest.param(HUGE_TEXT, "at most 20000", id="huge"),
    ],
)
def test_reversal_reason_is_checked(world, reason, problem):
    assert_refused(
        lambda: services.reverse_payment(payment=world.payment, reason=reason, acting_user=None),
        field="reason",
        label="Reason",
        problem=problem,
    )


# --- Manual ledger entries --------------------------------------------------------------
MANUAL_POSTINGS = [
    pytest.param(post_manual_credit, id="credit"),
    pytest.param(post_manual_debit, id="debit"),
]


@pytest.mark.parametrize("post", MANUAL_POSTINGS)
@pytest.mark.parametrize(
    ("changes", "field", "label", "problem"),
    [
        pytest.param({"memo": ""}, "memo", "Memo", "say what", id="memo-empty"),
        pytest.param({"memo": "   "}, "memo", "Memo", "say what", id="memo-blank"),
        pytest.param({"memo": None}, "memo", "Memo", "say what", id="memo-none"),
        pytest.param({"memo": 5}, "memo", "Memo", "must be text", id="memo-number"),
        pytest.param({"memo": "m" * 501}, "memo", "Memo", "at most 500", id="memo-long"),
        pytest.param({"amount": 0}, "amount", "Amount", "more than 0", id="amount-zero"),
        pytest.param({"amount": "-5"}, "amount", "Amount", "more than 0", id="amount-negative"),
        pytest.param({"amount": "abc"}, "amount", "Amount", "not a number", id="amount-text"),
        pytest.param({"amount": 1.5}, "amount", "Amount", "not a float", id="amount-float"),
        pytest.param({"amount": "NaN"}, "amount", "Amount", "is not a number", id="amount-nan"),
        pytest.param({"date": "2026-13-01"}, "date", "Date", "not a date", id="date"),
    ],
)
def test_manual_entry_input_is_checked(world, post, changes, field, label, problem):
    kwargs = {"client": world.beta, "amount": "5.00", "memo": "Goodwill", "acting_user": None}
    assert_refused(lambda: post(**(kwargs | changes)), field=field, label=label, problem=problem)


@pytest.mark.parametrize("post", MANUAL_POSTINGS)
def test_manual_entry_for_an_unknown_client_is_refused(world, post):
    assert_refused(
        lambda: post(client=Client(pk=10**9), amount="5.00", memo="Goodwill", acting_user=None),
        field=None,
        label="client",
        problem="no longer exists",
        error=DomainError,
    )


# --- Clients and services ---------------------------------------------------------------
def create_client(**changes):
    kwargs = {"code": "NEW", "name": "New client", "country": "CA", "acting_user": None}
    return services.create_client(**(kwargs | changes))


def test_client_code_country_and_currency_are_normalised(world):
    client = create_client(code=" new-1 ", country=" ca ", default_currency="eur")
    assert (client.code, client.country, client.default_currency) == ("NEW-1", "CA", "EUR")


CLIENT_CASES = [
    pytest.param({"code": "ac me"}, "code", "Client code", "capital letters", id="code-space"),
    pytest.param({"code": "AC.ME"}, "code", "Client code", "capital letters", id="code-dot"),
    pytest.param({"code": ""}, "code", "Client code", "blank", id="code-empty"),
    pytest.param({"code": None}, "code", "Client code", "null", id="code-none"),
    pytest.param({"code": "C" * 21}, "code", "Client code", "at most 20", id="code-long"),
    pytest.param({"code": "ACME"}, "code", "Client code", "already exists", id="code-taken"),
    pytest.param({"code": " acme"}, "code", "Client code", "already exists", id="code-taken-lc"),
    pytest.param({"name": ""}, "name", "Name", "blank", id="name-empty"),
    pytest.param({"name": HUGE_TEXT}, "name", "Name", "at most 200", id="name-huge"),
    pytest.param({"country": "Canada"}, "country", "Country", "two-letter", id="country-name"),
    pytest.param({"country": "C1"}, "country", "Country", "two-letter", id="country-digit"),
    pytest.param({"country": ""}, "country", "Country", "blank", id="country-empty"),
    pytest.param(
        {"default_currency": "XXX"}, "default_currency", "Currency", "not a valid", id="currency"
    ),
    pytest.param({"email": "nope"}, "email", "E-mail", "valid email", id="email"),
    pytest.param({"tax_exempt": "abc"}, "tax_exempt", "Tax-exempt", "True or False", id="flag"),
]


@pytest.mark.parametrize(("changes", "field", "label", "problem"), CLIENT_CASES)
def test_new_client_input_is_checked(world, changes, field, label, problem):
    assert_refused(lambda: create_client(**changes), field=field, label=label, problem=problem)


@pytest.mark.parametrize(
    ("changes", "field", "label", "problem"),
    [
        pytest.param({"code": "ACME"}, "code", "Client code", "already exists", id="code-taken"),
        pytest.param({"code": "be ta"}, "code", "Client code", "capital letters", id="code"),
        pytest.param({"name": ""}, "name", "Name", "blank", id="name-empty"),
        pytest.param({"country": "Canada"}, "country", "Country", "two-letter", id="country"),
        pytest.param(
            {"default_currency": "XXX"}, "default_currency", "Currency", "not a valid", id="cur"
        ),
    ],
)
def test_client_change_is_checked(world, changes, field, label, problem):
    assert_refused(
        lambda: services.update_client(client=world.beta, acting_user=None, **changes),
        field=field,
        label=label,
        problem=problem,
    )


def test_an_unknown_currency_of_a_client_is_refused(world):
    assert_refused(
        lambda: services.update_client(client=world.acme, acting_user=None, default_currency="XYZ"),
        field="default_currency",
        label="Currency",
        problem="not a valid choice",
    )


def test_a_draft_in_an_unknown_currency_is_refused(world):
    assert_refused(
        lambda: services.create_draft(client=world.acme, acting_user=None, currency="BTC"),
        field="currency",
        label="Currency",
        problem="“BTC” is not a currency OTB Billing offers",
    )


def test_currency_of_a_client_without_invoices_may_change(world):
    services.update_client(client=world.beta, acting_user=None, default_currency="EUR")
    world.beta.refresh_from_db()
    assert world.beta.default_currency == "EUR"


def test_change_of_an_unknown_client_is_refused(world):
    assert_refused(
        lambda: services.update_client(client=Client(pk=10**9), acting_user=None, name="X"),
        field=None,
        label="client",
        problem="no longer exists",
        error=NotFound,
    )


@pytest.mark.parametrize(
    ("changes", "field", "label", "problem"),
    [
        pytest.param({"unit_price": "-1"}, "unit_price", "unit price", "at least 0", id="neg"),
        pytest.param(
            {"unit_price": "1.23456"}, "unit_price", "unit price", "4 decimal places", id="5dp"
        ),
        pytest.param({"unit_price": 1.5}, "unit_price", "unit price", "not a float", id="float"),
        pytest.param({"unit_price": "abc"}, "unit_price", "unit price", "not a number", id="abc"),
        pytest.param({"unit_price": "NaN"}, "unit_price", "unit price", "not a number", id="nan"),
        pytest.param({"unit_price": "1e400"}, "unit_price", "unit price", "a number", id="huge"),
        pytest.param({"unit_price": ""}, "unit_price", "unit price", "required", id="empty"),
        pytest.param({"code": ""}, "code", "Service code", "blank", id="code-empty"),
        pytest.param({"code": "web dev"}, "code", "Service code", "capital letters", id="code"),
        pytest.param({"code": "web"}, "code", "Service code", "already exists", id="code-taken"),
        pytest.param({"name": ""}, "name", "Name", "blank", id="name-empty"),
    ],
)
def test_new_service_input_is_checked(world, changes, field, label, problem):
    kwargs = {"code": "NEWSVC", "name": "New service", "unit_price": "10.00"}
    assert_refused(
        lambda: services.create_service(acting_user=None, **(kwargs | changes)),
        field=field,
        label=label,
        problem=problem,
    )


# --- Invoices ---------------------------------------------------------------------------
def bad_line(**fields):
    return LineData(**({"description": "Work", "quantity": "1", "unit_price": "100"} | fields))


LINE_CASES = [
    pytest.param({"quantity": "-1"}, "quantity", "Line 1, quantity", "at least 0", id="q-neg"),
    pytest.param({"quantity": "1.2345"}, "quantity", "Line 1, quantity", "3 decimal", id="q-4dp"),
    pytest.param({"quantity": "abc"}, "quantity", "Line 1, quantity", "not a number", id="q-abc"),
    pytest.param({"quantity": 1.5}, "quantity", "Line 1, quantity", "not a float", id="q-float"),
    pytest.param({"quantity": "NaN"}, "quantity", "Line 1, quantity", "not a number", id="q-nan"),
    pytest.param({"quantity": "1e400"}, "quantity", "Line 1, quantity", "a number", id="q-huge"),
    pytest.param({"quantity": None}, "quantity", "Line 1, quantity", "required", id="q-none"),
    pytest.param({"quantity": ""}, "quantity", "Line 1, quantity", "required", id="q-empty"),
    pytest.param(
        {"unit_price": "-0.01"}, "unit_price", "Line 1, unit price", "at least 0", id="p-neg"
    ),
    pytest.param(
        {"unit_price": "1.23456"}, "unit_price", "Line 1, unit price", "4 decimal", id="p-5dp"
    ),
    pytest.param(
        {"unit_price": "Infinity"}, "unit_price", "Line 1, unit price", "not a number", id="p-inf"
    ),
    pytest.param({"unit_price": None}, "unit_price", "Line 1, unit price", "required", id="p-none"),
    pytest.param(
        {"discount_percent": "101"},
        "discount_percent",
        "Line 1, discount",
        "at most 100",
        id="d-101",
    ),
    pytest.param(
        {"discount_percent": "-1"}, "discount_percent", "Line 1, discount", "at least 0", id="d-neg"
    ),
    pytest.param(
        {"discount_percent": "1.2345"},
        "discount_percent",
        "Line 1, discount",
        "3 decimal",
        id="d-4dp",
    ),
    pytest.param(
        {"description": ""}, "description", "Line 1, description", "blank", id="desc-empty"
    ),
    pytest.param(
        {"description": "d" * 501}, "description", "Line 1, description", "at most 500", id="long"
    ),
]


@pytest.mark.parametrize(("fields", "field", "label", "problem"), LINE_CASES)
def test_new_invoice_line_is_checked(world, fields, field, label, problem):
    assert_refused(
        lambda: services.create_draft(
            client=world.acme, acting_user=None, lines=[bad_line(**fields)]
        ),
        field=f"lines.0.{field}",
        label=label,
        problem=problem,
    )


@pytest.mark.parametrize(("fields", "field", "label", "problem"), LINE_CASES)
def test_changed_invoice_line_is_checked(world, fields, field, label, problem):
    assert_refused(
        lambda: services.update_invoice(
            invoice=world.invoice, acting_user=None, lines=[bad_line(**fields)]
        ),
        field=f"lines.0.{field}",
        label=label,
        problem=problem,
    )


def test_bad_second_line_is_named_by_its_position(world):
    assert_refused(
        lambda: services.create_draft(
            client=world.acme, acting_user=None, lines=[line(), bad_line(quantity="-2")]
        ),
        field="lines.1.quantity",
        label="Line 2, quantity",
        problem="at least 0",
    )


def test_too_many_lines_are_refused(world):
    assert_refused(
        lambda: services.create_draft(client=world.acme, acting_user=None, lines=[line()] * 501),
        field="lines",
        label="Lines",
        problem="at most 500 lines",
    )


def test_lines_too_large_to_store_are_refused(world):
    assert_refused(
        lambda: services.create_draft(
            client=world.acme,
            acting_user=None,
            lines=[bad_line(quantity="99999999999.999", unit_price="9999999999.9999")],
        ),
        field="lines",
        label="Lines",
        problem="more than the largest amount that can be stored",
    )


DRAFT_CASES = [
    pytest.param(
        {"discount_kind": "bogus"},
        "discount_kind",
        "Invoice discount",
        "not a kind of discount",
        id="discount-kind",
    ),
    pytest.param(
        {"discount_kind": "fixed", "discount_value": "10.555"},
        "discount_value",
        "Invoice discount",
        "2 decimal places",
        id="fixed-3dp",
    ),
    pytest.param(
        {"discount_kind": "fixed", "discount_value": "100.01"},
        "discount_value",
        "Invoice discount",
        "more than the subtotal",
        id="fixed-above-subtotal",
    ),
    pytest.param(
        {"discount_kind": "fixed", "discount_value": "-1"},
        "discount_value",
        "Invoice discount",
        "at least 0",
        id="fixed-negative",
    ),
    pytest.param(
        {"discount_kind": "percent", "discount_value": "100.001"},
        "discount_value",
        "Invoice discount",
        "at most 100",
        id="percent-above-100",
    ),
    pytest.param(
        {"discount_kind": "percent", "discount_value": "abc"},
        "discount_value",
        "Invoice discount",
        "not a number",
        id="percent-letters",
    ),
    pytest.param(
        {"discount_kind": "percent", "discount_value": 1.5},
        "discount_value",
        "Invoice discount",
        "not a float",
        id="percent-float",
    ),
    pytest.param(
        {"issue_date": "2026-03-10", "due_date": "2026-03-09"},
        "due_date",
        "Due date",
        "cannot be before the issue date (Mar 10, 2026)",
        id="due-before-issue",
    ),
    pytest.param(
        {"issue_date": "2026-13-01"}, "issue_date", "Issue date", "not a date", id="issue-date"
    ),
    pytest.param({"due_date": "abc"}, "due_date", "Due date", "not a date", id="due-date"),
    pytest.param({"notes": HUGE_TEXT}, "notes", "Notes", "at most 20000", id="huge-notes"),
]


@pytest.mark.parametrize(("changes", "field", "label", "problem"), DRAFT_CASES)
def test_new_invoice_input_is_checked(world, changes, field, label, problem):
    assert_refused(
        lambda: services.create_draft(
            client=world.acme, acting_user=None, lines=[line()], **changes
        ),
        field=field,
        label=label,
        problem=problem,
    )


@pytest.mark.parametrize(("changes", "field", "label", "problem"), DRAFT_CASES)
def test_draft_change_is_checked(world, changes, field, label, problem):
    assert_refused(
        lambda: services.update_invoice(invoice=world.draft, acting_user=None, **changes),
        field=field,
        label=label,
        problem=problem,
    )


@pytest.mark.parametrize(
    ("client", "problem"),
    [
        pytest.param("inactive", "GONE is inactive", id="inactive"),
        pytest.param(None, "choose a client", id="none"),
        pytest.param("ACME", "choose a client", id="text"),
    ],
)
def test_new_invoice_needs_an_active_client(world, client, problem):
    client = world.gone if client == "inactive" else client
    assert_refused(
        lambda: services.create_draft(client=client, acting_user=None, lines=[line()]),
        field="client",
        label="Client",
        problem=problem,
    )


@pytest.mark.parametrize(
    ("changes", "field", "label", "problem"),
    [
        pytest.param({"issue_date": ""}, "issue_date", "Issue date", "required", id="no-issue"),
        pytest.param({"due_date": None}, "due_date", "Due date", "required", id="no-due-date"),
        pytest.param(
            {"due_date": "2000-01-01"}, "due_date", "Due date", "before the issue date", id="due"
        ),
        pytest.param({"client": "inactive"}, "client", "Client", "GONE is inactive", id="gone"),
        pytest.param({"client": None}, "client", "Client", "choose a client", id="no-client"),
    ],
)
def test_issued_invoice_change_is_checked(world, changes, field, label, problem):
    if changes.get("client") == "inactive":
        changes = {"client": world.gone}
    assert_refused(
        lambda: services.update_invoice(invoice=world.invoice, acting_user=None, **changes),
        field=field,
        label=label,
        problem=problem,
    )


@pytest.mark.parametrize(("date", "problem"), DATE_CASES)
def test_issue_date_is_checked(world, date, problem):
    assert_refused(
        lambda: services.issue_invoice(invoice=world.draft, acting_user=None, issue_date=date),
        field="issue_date",
        label="Issue date",
        problem=problem,
    )


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        *[pytest.param({"due_date": p.values[0]}, p.values[1], id=p.id) for p in DATE_CASES],
        pytest.param(
            {"issue_date": "2026-03-10", "due_date": "2026-03-09"},
            "before the issue date",
            id="due-before-issue",
        ),
    ],
)
def test_due_date_at_issue_is_checked(world, changes, problem):
    assert_refused(
        lambda: services.issue_invoice(invoice=world.draft, acting_user=None, **changes),
        field="due_date",
        label="Due date",
        problem=problem,
    )


def test_invoice_of_a_client_made_inactive_is_not_issued(world):
    gone_draft = world.gone.invoices.get()
    assert_refused(
        lambda: services.issue_invoice(invoice=gone_draft, acting_user=None),
        field="client",
        label="Client",
        problem="GONE is inactive",
    )


def test_an_issue_date_with_no_due_date_after_it_is_refused_by_field(world):
    invoice = services.create_draft(client=world.acme, acting_user=None, lines=[line()])
    assert_refused(
        lambda: services.issue_invoice(invoice=invoice, acting_user=None, issue_date="9999-12-25"),
        field="issue_date",
        label="Issue date",
        problem="check the year",
    )
    invoice.refresh_from_db()
    assert invoice.number is None
