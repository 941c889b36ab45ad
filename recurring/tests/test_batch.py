"""The run's batch in bulk writes what the one-by-one operations write.

``bill_due`` builds a batch's invoices in memory and writes them in a few statements for the
whole batch (one take of the counter, ``accounting.issue_in_bulk``, one INSERT per kind of
row). Hypothesis: for any mix of schedules (currencies, tax sets, lines, discounts, issued or
left as drafts, paused), each invoice it makes equals the one ``create_draft`` and
``issue_invoice``, the operations a user's invoice goes through, make from the same template
on the same date: its figures, lines and taxes, its ledger entry, its outstanding spans and
its audit record. And a batch's statements do not grow with its invoices."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.models import Action, AuditRecord
from billing import services as billing
from billing.models import Invoice, OutstandingSpan
from billing.selectors import clients_breaking_invariant
from billing.services.figures import LineData, document_taxes
from ledger.models import LedgerEntry
from otb.operations import InvalidInput
from rates.models import ExchangeRate
from recurring import services
from recurring.models import IntervalUnit, IssueMode, Outcome
from recurring.rules import fill_period, period_values
from settings_app.selectors import get_business_settings
from tests.factories import ClientFactory, quebec_client

from .conftest import day

pytestmark = pytest.mark.django_db
D = Decimal
TODAY = day("2026-07-01")
# What differs between two equal invoices: who they are, their number, when they were saved.
IDENTITY = {"id", "number", "sequence", "created_at", "updated_at", "issued_at", "invoice_id"}


LINE = st.builds(
    LineData,
    description=st.sampled_from(["Hosting {month} {year}", "Support, {period}", "Backups"]),
    quantity=st.decimals(min_value=D("0.001"), max_value=D("500"), places=3),
    unit_price=st.decimals(min_value=D("0"), max_value=D("9999.99"), places=2),
    discount_percent=st.sampled_from([D("0"), D("10"), D("12.5")]),
    taxable=st.booleans(),
)
# A template bills something: its first line comes to more than any fixed discount.
BILLABLE = st.builds(
    LineData,
    description=st.just("Retainer, {month} {year}"),
    unit_price=st.decimals(min_value=D("10"), max_value=D("9999.99"), places=2),
)
LINES = st.tuples(BILLABLE, st.lists(LINE, max_size=2)).map(lambda t: [t[0], *t[1]])
SCHEDULE = st.fixed_dictionaries(
    {
        "client": st.sampled_from(["local", "quebec", "abroad", "exempt"]),
        # No rate of GBP is stored here: its invoices are left as drafts ("held").
        "currency": st.sampled_from(["CAD", "CAD", "USD", "EUR", "GBP"]),
        "lines": LINES,
        "discount": st.sampled_from([("", D("0")), ("percent", D("5")), ("fixed", D("1"))]),
        "start": st.dates(min_value=datetime.date(2025, 11, 1), max_value=TODAY),
        "unit": st.sampled_from([IntervalUnit.WEEK, IntervalUnit.MONTH, IntervalUnit.QUARTER]),
        "mode": st.sampled_from([IssueMode.ISSUE, IssueMode.ISSUE, IssueMode.DRAFT]),
        "paused": st.booleans(),
    }
)


def _client(kind, n):
    if kind == "quebec":
        return quebec_client(code=f"QC{n}")
    return ClientFactory(country="US" if kind == "abroad" else "CA", tax_exempt=kind == "exempt")


def _schedule(plan, n):
    schedule = services.create_schedule(
        client=_client(plan["client"], n),
        acting_user=None,
        name=f"Plan {n}",
        start_date=plan["start"],
        lines=plan["lines"],
        currency=plan["currency"],
        notes="Retainer for {period}",
        discount_kind=plan["discount"][0],
        discount_value=plan["discount"][1],
        interval_unit=plan["unit"],
        issue_mode=plan["mode"],
    )
    if plan["paused"]:
        services.pause_schedule(
            schedule=schedule, acting_user=None, starts_on=plan["start"] + datetime.timedelta(8)
        )
    return schedule


def _reference(occurrence):
    """The invoice a user would make by hand for ``occurrence``: ``create_draft`` from the
    template on its date, with the client's tax set of now, then ``issue_invoice`` if the
    run issued its own (a held draft is the draft ``issue_invoice`` refused)."""
    schedule = occurrence.schedule
    values = period_values(
        occurrence.date, services.Recurrence.of(schedule).date(occurrence.index + 1)
    )
    _basis, taxes = document_taxes(schedule.client, get_business_settings())
    invoice = billing.create_draft(
        client=schedule.client,
        acting_user=None,
        lines=services.template_line_data(
            schedule, labels={tax.label for tax in taxes}, values=values
        ),
        notes=fill_period(schedule.notes, values),
        terms=schedule.terms,
        discount_kind=schedule.discount_kind,
        discount_value=schedule.discount_value,
        issue_date=occurrence.date,
        currency=schedule.currency,
    )
    if occurrence.outcome == Outcome.HELD:
        with pytest.raises(InvalidInput, match="Exchange rate"), transaction.atomic():
            billing.issue_invoice(invoice=invoice, acting_user=None, issue_date=occurrence.date)
    elif not occurrence.invoice.is_draft:
        invoice = billing.issue_invoice(
            invoice=invoice, acting_user=None, issue_date=occurrence.date
        )
    return invoice


def _plain(row: dict) -> dict:
    return {key: value for key, value in row.items() if key not in IDENTITY}


def _written(invoice):
    """Everything the books hold of ``invoice``, but who it is and when it was saved."""
    invoice = Invoice.objects.get(pk=invoice.pk)
    entries = [
        {**_plain(entry), "memo": entry["memo"].replace(invoice.number or "", "#")}
        for entry in LedgerEntry.objects.filter(invoice=invoice).values()
    ]
    return {
        "invoice": _plain(Invoice.objects.filter(pk=invoice.pk).values()[0]),
        "lines": [_plain(row) for row in invoice.lines.values()],
        "taxes": [_plain(row) for row in invoice.taxes.values()],
        "entries": entries,
        "spans": [_plain(row) for row in OutstandingSpan.objects.filter(invoice=invoice).values()],
    }


def _recorded(invoice):
    """What the audit trail says the invoice is now: its records' values, in order."""
    values: dict = {}
    for record in AuditRecord.objects.filter(
        object_type="billing.invoice", object_id=str(invoice.pk)
    ).order_by("pk"):
        assert record.action in (Action.CREATED, Action.CHANGED)
        values |= record.after
    shown = _plain(values)
    for name in ("lines", "taxes"):
        shown[name] = [_plain(row) for row in values.get(name, [])]
    return shown


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(SCHEDULE, min_size=1, max_size=4))
def test_a_batch_writes_what_the_operations_write_one_by_one(business, plans):
    with transaction.atomic():
        ExchangeRate.objects.filter(currency="GBP").delete()
        schedules = [_schedule(plan, n) for n, plan in enumerate(plans)]
        batch = services.bill_due(
            limits={schedule.pk: 3 for schedule in schedules}, today=TODAY, budget=100
        )
        made = [o for o in batch.occurrences if o.outcome != Outcome.SKIPPED_PAUSED]
        issued = [o.invoice for o in made if not o.invoice.is_draft]
        assert sorted(invoice.sequence for invoice in issued) == list(range(1, len(issued) + 1))
        for occurrence in made:
            held = occurrence.schedule.currency == "GBP" and occurrence.schedule.issue_mode == (
                IssueMode.ISSUE
            )
            assert occurrence.outcome == (Outcome.HELD if held else Outcome.MADE)
            reference = _reference(occurrence)
            assert _written(occurrence.invoice) == _written(reference)
            assert _recorded(occurrence.invoice) == _recorded(reference)
        assert clients_breaking_invariant() == []
        transaction.set_rollback(True)


def _statements_of_a_batch(business, schedules: int) -> int:
    with transaction.atomic():
        ids = [
            _schedule(
                {
                    "client": "quebec" if n % 2 else "local",
                    "currency": "CAD",
                    "lines": [LineData(description="Hosting {month}", unit_price=D("40"))] * 3,
                    "discount": ("percent", D("5")),
                    "start": day("2026-05-01"),
                    "unit": IntervalUnit.MONTH,
                    "mode": IssueMode.ISSUE,
                    "paused": False,
                },
                n,
            ).pk
            for n in range(schedules)
        ]
        with CaptureQueriesContext(connection) as queries:
            batch = services.bill_due(limits=dict.fromkeys(ids, 2), today=TODAY, budget=100)
        assert sum(batch.made.values()) == 2 * schedules
        transaction.set_rollback(True)
    return len(queries)


def test_a_batch_takes_as_many_statements_for_20_invoices_as_for_4(business):
    """One by one, an invoice took about seventy statements; a batch takes the same thirty
    or so whatever it holds (until an INSERT's rows pass SQLite's 999 parameters, when
    Django splits it in two)."""
    assert _statements_of_a_batch(business, 2) == _statements_of_a_batch(business, 10) <= 35
