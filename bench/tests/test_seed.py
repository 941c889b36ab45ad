"""bench.seed and bench.volume: volume for the benchmarks that is as consistent as real data,
its ledger posted through the entry point's batch form."""

import subprocess
import sys
from collections import Counter
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.db.models import Count, F, Sum

from bench import seed
from bench.volume import fill
from billing import outstanding
from billing.models import (
    Client,
    Invoice,
    InvoiceLine,
    InvoiceNumberCounter,
    InvoiceStatus,
    Payment,
    PaymentStatus,
)
from billing.selectors import clients_breaking_invariant
from billing.services import COUNTER_NAME
from ledger.events import RULES, Event
from ledger.models import Account, LedgerEntry
from reports.selectors import open_spans
from settings_app.selectors import business_today
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db
PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def seeded(business):
    return fill(clients=40, invoices=3000, seed=7, years=3, batch=700)


def test_the_ledger_invariant_holds_for_every_client(seeded):
    assert Client.objects.count() == 40
    assert clients_breaking_invariant() == []


def test_the_outstanding_spans_agree_with_the_stored_figures(seeded):
    """Derived from the ledger and the payments, what is open today is what each invoice
    stores as its balance due; and every ledger entry has its invoice's currency."""
    today = business_today()
    open_now = {
        span.invoice_id: span.balance for span in open_spans(today).only("invoice", "balance")
    }
    assert open_now == {
        invoice.pk: invoice.balance_due
        for invoice in Invoice.objects.exclude(
            status__in=[InvoiceStatus.DRAFT, InvoiceStatus.PAID, InvoiceStatus.CANCELLED]
        )
    }
    assert len(open_now) > 100
    assert outstanding.stale() == []
    assert not LedgerEntry.objects.exclude(currency="CAD").exists()


def test_numbers_are_gapless_and_follow_the_issue_dates(seeded):
    issued = list(
        Invoice.objects.exclude(status=InvoiceStatus.DRAFT)
        .order_by("sequence")
        .values_list("sequence", "number", "issue_date")
    )
    assert [seq for seq, _n, _d in issued] == list(range(1, len(issued) + 1))
    assert all(number == f"INV-{seq:04d}" for seq, number, _d in issued)
    dates = [d for _s, _n, d in issued]
    assert dates == sorted(dates)
    assert InvoiceNumberCounter.objects.get(name=COUNTER_NAME).last_number == len(issued)


def test_every_status_and_kind_of_payment_is_there(seeded):
    statuses = Counter(Invoice.objects.values_list("status", flat=True))
    # Every status but credited: the benchmark's books hold no credit notes yet.
    assert set(statuses) == set(InvoiceStatus.values) - {InvoiceStatus.CREDITED}, statuses
    assert seeded.statuses == dict(statuses) | {
        s: 0 for s in InvoiceStatus.values if s not in statuses
    }
    payments = Counter(Payment.objects.values_list("status", flat=True))
    assert set(payments) == set(PaymentStatus.values), payments
    overpaid = Payment.objects.filter(
        status=PaymentStatus.CONFIRMED, amount__gt=F("invoice__total")
    )
    assert overpaid.exists()
    split = Invoice.objects.annotate(n=Count("payments")).filter(n__gte=2)
    assert split.exists()


def test_the_figures_are_the_money_functions(seeded):
    """Spot checks on every invoice: lines add up to the subtotal, the total is what the
    subtotal, discount and tax make, and amount paid is what confirmed payments pay."""
    line_sums = dict(
        InvoiceLine.objects.values("invoice").annotate(s=Sum("amount")).values_list("invoice", "s")
    )
    paid = dict(
        Payment.objects.filter(status=PaymentStatus.CONFIRMED)
        .values("invoice")
        .annotate(s=Sum("amount"))
        .values_list("invoice", "s")
    )
    for invoice in Invoice.objects.all():
        assert Decimal(line_sums[invoice.pk]).quantize(Decimal("0.01")) == invoice.subtotal
        assert invoice.total == invoice.subtotal - invoice.discount_total + invoice.tax_total
        confirmed = Decimal(paid.get(invoice.pk, 0)).quantize(Decimal("0.01"))
        assert invoice.amount_paid == min(confirmed, invoice.total)
    lines = Counter(
        InvoiceLine.objects.values("invoice").annotate(n=Count("id")).values_list("n", flat=True)
    )
    assert min(lines) == 1 and max(lines) <= 20


def test_a_few_clients_have_most_invoices(seeded):
    per_client = sorted(
        Invoice.objects.values("client").annotate(n=Count("id")).values_list("n", flat=True)
    )
    assert per_client[-1] > 4 * per_client[len(per_client) // 2]


def test_the_same_seed_gives_the_same_data(business):
    def snapshot():
        return (
            list(Invoice.objects.order_by("pk").values_list("number", "client__code", "total")),
            list(Payment.objects.order_by("pk").values_list("amount", "status", "date")),
            list(LedgerEntry.objects.order_by("pk").values_list("kind", "amount", "date")),
        )

    fill(clients=10, invoices=300, seed=3, years=2)
    first = snapshot()
    for model in (LedgerEntry, Account, Payment, InvoiceLine):
        model.objects.all()._raw_delete(model.objects.db)
    Invoice.objects.all().delete()
    Client.objects.all().delete()
    InvoiceNumberCounter.objects.update(last_number=0)
    fill(clients=10, invoices=300, seed=3, years=2)
    assert snapshot() == first


def test_the_memos_are_the_ones_the_operations_write(seeded):
    """Posted through the entry point's batch form, every entry has its event's memo from
    RULES, as issuing, cancelling, confirming and reversing would write it."""
    issued = LedgerEntry.objects.filter(kind=RULES[Event.INVOICE_ISSUED].entry_kind).first()
    assert issued.memo == f"Invoice {issued.invoice.number} issued"
    cancelled = LedgerEntry.objects.filter(kind=RULES[Event.INVOICE_CANCELLED].entry_kind).first()
    assert cancelled.memo == f"Invoice {cancelled.invoice.number} cancelled"
    bounced = Payment.objects.filter(status=PaymentStatus.REVERSED).first()
    where = f"{bounced.get_method_display()} {bounced.reference} ({bounced.invoice.number})"
    memos = dict(LedgerEntry.objects.filter(payment=bounced).values_list("kind", "memo"))
    assert memos == {
        RULES[Event.PAYMENT_CONFIRMED].entry_kind: f"Payment received: {where}",
        RULES[Event.PAYMENT_REVERSED].entry_kind: (
            f"Payment reversed: {where}: {bounced.reversal_reason}"
        ),
    }


def test_a_database_with_data_is_refused_and_left_alone(business):
    ClientFactory(code="REAL")
    err = StringIO()
    status = seed.seed(
        seed.parse_args(["--clients", "5", "--invoices", "10"]), out=StringIO(), err=err
    )
    assert status == 1
    assert "already holds 1 clients" in err.getvalue()
    assert "fills an empty database" in err.getvalue()
    assert list(Client.objects.values_list("code", flat=True)) == ["REAL"]
    assert not Invoice.objects.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--clients", "0"], "--clients must be 1 or more, not 0"),
        (["--invoices", "-5"], "--invoices must be 0 or more, not -5"),
        (["--years", "0"], "--years must be 1 or more, not 0"),
        (["--batch", "0"], "--batch must be 1 or more, not 0"),
    ],
)
def test_bad_arguments_are_refused_with_the_option_named(args, message, capsys):
    with pytest.raises(SystemExit) as exited:
        seed.parse_args(args)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_the_script_runs_as_a_module_and_refuses_before_touching_the_database():
    """``python -m bench.seed`` is the command line; a bad argument is refused before
    Django is even set up."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.seed", "--clients", "0"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "--clients must be 1 or more, not 0" in done.stderr


def test_the_script_reports_what_it_made(business):
    out, err = StringIO(), StringIO()
    args = seed.parse_args(["--clients", "5", "--invoices", "50", "--check"])
    assert seed.seed(args, out=out, err=err) == 0
    assert "Made 5 clients" in out.getvalue() and "50 invoices" in out.getvalue()
    assert "The ledger invariant holds for every client." in out.getvalue()
    assert "50/50 invoices" in err.getvalue()
