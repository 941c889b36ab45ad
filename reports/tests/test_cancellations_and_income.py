"""A cancellation counts in the period it was made, as a negative, like a credit note; the
revenue report's income (net of tax); what the clients owe at a date (SPEC: Exports and
imports: "Books are never rewritten after the fact"; "income = subtotals less discounts
less credit notes (net of tax)"; "receivables = −(sum of the clients' ledger balances) at
the end date"). Every figure by hand.

The cancelled invoices, both issued in January 2026 and cancelled on 15 March:
- A, to MAPLE (CAD, HST 13 %): 10 h of DESIGN at 80.00 = 800.00, 10 % off (80.00); HST on
  720.00 = 93.60; total 813.60.
- D, to YANKEE (USD, tax-exempt), 6 January: 200.00, no tax; frozen at the stored rate of
  1.35: 270.00 CAD.
The rest of the book:
- B, to MAPLE, 20 January: 500.00 of PRINT, HST 65.00, total 565.00; credit note of 113.00
  on 10 February (its tax in B's proportions: 13.00 on a base of 100.00; subtotal 100.00);
  the rest, 452.00, paid on 1 April; a manual credit of 25.00 on 2 April.
- C, to YANKEE, 5 January: 2 × 300.00 less 50.00 off = 550.00 USD (base: 810.00 − 67.50 =
  742.50 CAD); credit note of 55.00 on 10 February (its discount C's share, 5.00: subtotal
  60.00; base 81.00 − 6.75 = 74.25).
"""

import csv
import datetime
import io
from decimal import Decimal

import pytest
import time_machine

from billing import services
from billing.models import CreditKind, DiscountKind, Invoice, TaxBasis
from reports import selectors
from tests.factories import ClientFactory, ServiceFactory, line, pay

pytestmark = pytest.mark.django_db

D = Decimal
ZERO = D("0.00")
day = datetime.date
JANUARY = (day(2026, 1, 1), day(2026, 1, 31))
FEBRUARY = (day(2026, 2, 1), day(2026, 2, 28))
MARCH = (day(2026, 3, 1), day(2026, 3, 31))
QUARTER = (day(2026, 1, 1), day(2026, 3, 31))
TODAY = day(2026, 4, 30)


def at_noon_in_toronto(when: datetime.date):
    """ "Today" is ``when`` in the business's time zone."""
    return time_machine.travel(
        datetime.datetime.combine(when, datetime.time(17, 0), datetime.UTC), tick=False
    )


@pytest.fixture(autouse=True)
def clock():
    with at_noon_in_toronto(TODAY):
        yield


@pytest.fixture
def office(client, bookkeeper):
    client.force_login(bookkeeper)
    return client


def issue(client, lines, *, on, **kwargs) -> Invoice:
    draft = services.create_draft(client=client, lines=lines, acting_user=None, **kwargs)
    return services.issue_invoice(invoice=draft, acting_user=None, issue_date=on)


def cancel(invoice: Invoice, *, on: datetime.date) -> Invoice:
    with at_noon_in_toronto(on):
        return services.cancel_invoice(invoice=invoice, acting_user=None, reason="Wrong client")


def credit(invoice: Invoice, amount: str, *, on: datetime.date):
    draft = services.create_credit_note(
        invoice=invoice, acting_user=None, kind=CreditKind.AMOUNT, amount=amount
    )
    return services.issue_credit_note(credit_note=draft, acting_user=None, issue_date=on)


@pytest.fixture
def cancelled(business):
    """A and D, issued in January and cancelled on 15 March."""
    maple = ClientFactory(code="MAPLE", name="Maple Works")
    yankee = ClientFactory(code="YANKEE", country="US", default_currency="USD", tax_exempt=True)
    design = ServiceFactory(code="DESIGN", name="Design", unit_price=D("80.00"))
    a = issue(
        maple,
        [services.LineData(service=design, quantity=D("10"))],
        on=day(2026, 1, 12),
        discount_kind=DiscountKind.PERCENT,
        discount_value=D("10"),
    )
    d = issue(yankee, [line("1", "200.00")], on=day(2026, 1, 6))
    assert (a.subtotal, a.discount_total, a.tax_total, a.total) == (
        D("800.00"),
        D("80.00"),
        D("93.60"),
        D("813.60"),
    )
    assert (d.total, d.total_in_base, d.tax_basis) == (D("200.00"), D("270.00"), TaxBasis.EXEMPT)
    a, d = cancel(a, on=day(2026, 3, 15)), cancel(d, on=day(2026, 3, 15))
    assert a.cancelled_on == d.cancelled_on == day(2026, 3, 15)
    return {"maple": maple, "yankee": yankee, "a": a, "d": d}


@pytest.fixture
def book(cancelled):
    maple, yankee = cancelled["maple"], cancelled["yankee"]
    printing = ServiceFactory(code="PRINT", name="Printing", unit_price=D("500.00"))
    b = issue(maple, [services.LineData(service=printing, quantity=D("1"))], on=day(2026, 1, 20))
    c = issue(
        yankee,
        [line("2", "300.00")],
        on=day(2026, 1, 5),
        discount_kind=DiscountKind.FIXED,
        discount_value=D("50.00"),
    )
    assert (b.total, c.total, c.subtotal_in_base, c.discount_in_base) == (
        D("565.00"),
        D("550.00"),
        D("810.00"),
        D("67.50"),
    )
    note_b = credit(b, "113.00", on=day(2026, 2, 10))
    note_c = credit(c, "55.00", on=day(2026, 2, 10))
    assert (note_b.subtotal, note_b.discount_total, note_b.tax_total) == (
        D("100.00"),
        ZERO,
        D("13.00"),
    )
    assert (note_c.subtotal, note_c.discount_total, note_c.total_in_base) == (
        D("60.00"),
        D("5.00"),
        D("74.25"),
    )
    pay(b, "452.00", when=day(2026, 4, 1))
    services.post_manual_credit(
        client=maple, amount="25.00", memo="Goodwill", acting_user=None, date=day(2026, 4, 2)
    )
    return {**cancelled, "b": b, "c": c}


def revenue_of(start, end, *, period="month") -> dict[str, list]:
    found: dict[str, list] = {}
    for row in selectors.revenue(start, end, period=period, today=TODAY, base_currency="CAD"):
        found.setdefault(row.currency, []).append(row)
    return found


def read_csv(response) -> list[dict]:
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


# --- A cancellation counts where it was made ---------------------------------------------
def test_january_still_counts_the_invoices_cancelled_in_march(cancelled):
    [january] = revenue_of(*JANUARY)["CAD"]
    assert (january.invoiced, january.tax, january.income, january.invoice_count) == (
        D("813.60"),
        D("93.60"),
        D("720.00"),
        1,
    )
    assert (january.cancelled, january.cancellation_count) == (ZERO, 0)

    [hst] = selectors.tax_report(*JANUARY, period="month")
    assert (hst["base"], hst["charged"], hst["amount"], hst["invoices"]) == (
        D("720.00"),
        D("93.60"),
        D("93.60"),
        1,
    )
    [maple] = selectors.top_clients(*JANUARY)["CAD"]
    assert (maple["client__code"], maple["invoiced"], maple["count"]) == ("MAPLE", D("813.60"), 1)
    [design] = selectors.by_service(*JANUARY)["CAD"]
    assert (design["service__code"], design["amount"], design["lines"]) == (
        "DESIGN",
        D("800.00"),
        1,
    )
    [exempt] = selectors.untaxed_sales(*JANUARY, period="month")
    assert (exempt["currency"], exempt["amount"], exempt["amount_in_base"], exempt["invoices"]) == (
        "USD",
        D("200.00"),
        D("270.00"),
        1,
    )


def test_march_counts_each_cancellation_as_a_negative_of_the_same_figures(cancelled):
    [march] = revenue_of(*MARCH)["CAD"]
    assert (march.invoiced, march.tax, march.income, march.invoice_count) == (
        D("-813.60"),
        D("-93.60"),
        D("-720.00"),
        0,
    )
    assert (march.cancelled, march.cancellation_count, march.credited) == (D("-813.60"), 1, ZERO)
    [usd] = revenue_of(*MARCH)["USD"]
    assert (usd.cancelled, usd.cancelled_in_base, usd.income, usd.income_in_base) == (
        D("-200.00"),
        D("-270.00"),
        D("-200.00"),
        D("-270.00"),
    )

    [hst] = selectors.tax_report(*MARCH, period="month")
    assert (hst["base"], hst["amount"], hst["charged"], hst["invoices"]) == (
        D("-720.00"),
        D("-93.60"),
        ZERO,
        0,
    )
    assert (hst["cancelled_base"], hst["cancelled"], hst["cancellations"]) == (
        D("-720.00"),
        D("-93.60"),
        1,
    )
    assert (hst["cancelled_in_base"], hst["amount_in_base"]) == (D("-93.60"), D("-93.60"))
    [maple] = selectors.top_clients(*MARCH)["CAD"]
    assert (maple["invoiced"], maple["cancelled"], maple["count"]) == (
        D("-813.60"),
        D("-813.60"),
        0,
    )
    [design] = selectors.by_service(*MARCH)["CAD"]
    assert (design["amount"], design["cancelled"], design["lines"]) == (
        D("-800.00"),
        D("-800.00"),
        0,
    )
    [exempt] = selectors.untaxed_sales(*MARCH, period="month")
    assert (exempt["amount"], exempt["cancelled"], exempt["cancellations"]) == (
        D("-200.00"),
        D("-200.00"),
        1,
    )
    assert (exempt["amount_in_base"], exempt["cancelled_in_base"]) == (D("-270.00"), D("-270.00"))


def test_over_the_quarter_a_cancelled_invoice_nets_to_zero(cancelled):
    for currency in ("CAD", "USD"):
        [quarter] = revenue_of(*QUARTER, period="quarter")[currency]
        assert (quarter.invoiced, quarter.tax, quarter.income, quarter.income_in_base) == (
            ZERO,
            ZERO,
            ZERO,
            ZERO,
        )
        assert (quarter.invoice_count, quarter.cancellation_count) == (1, 1)
    [in_base] = selectors.revenue_in_base(
        selectors.revenue(*QUARTER, period="quarter", today=TODAY), base_currency="CAD"
    )
    assert (in_base.invoiced, in_base.cancelled, in_base.income) == (
        ZERO,
        D("-813.60") + D("-270.00"),
        ZERO,
    )
    assert in_base.cancellation_count == 2

    [hst] = selectors.tax_report(*QUARTER)
    assert (hst["base"], hst["amount"], hst["charged"], hst["cancelled"]) == (
        ZERO,
        ZERO,
        D("93.60"),
        D("-93.60"),
    )
    [maple] = selectors.top_clients(*QUARTER)["CAD"]
    assert (maple["invoiced"], maple["cancelled"]) == (ZERO, D("-813.60"))
    [design] = selectors.by_service(*QUARTER)["CAD"]
    assert design["amount"] == ZERO
    [exempt] = selectors.untaxed_sales(*QUARTER)
    assert (exempt["amount"], exempt["amount_in_base"]) == (ZERO, ZERO)
    [exempt_in_base] = selectors.tax_in_base(selectors.untaxed_sales(*QUARTER), base_currency="CAD")
    assert (exempt_in_base["charged"], exempt_in_base["cancelled"], exempt_in_base["amount"]) == (
        D("270.00"),
        D("-270.00"),
        ZERO,
    )


def test_a_cancellation_never_rewrites_the_period_of_the_issue(business):
    """January as reported in February is January as reported after the cancellation."""
    maple = ClientFactory(code="MAPLE")
    invoice = issue(maple, [line("1", "100.00")], on=day(2026, 1, 12))

    def january():
        return (
            [
                (r.invoiced, r.tax, r.income, r.invoice_count)
                for r in selectors.revenue(*JANUARY, today=TODAY)
            ],
            [(r["base"], r["amount"]) for r in selectors.tax_report(*JANUARY)],
            [r["invoiced"] for r in selectors.top_clients(*JANUARY)["CAD"]],
            [r["amount"] for r in selectors.by_service(*JANUARY)["CAD"]],
        )

    before = january()
    cancel(invoice, on=day(2026, 2, 3))

    assert (
        january()
        == before
        == (
            [(D("113.00"), D("13.00"), D("100.00"), 1)],
            [(D("100.00"), D("13.00"))],
            [D("113.00")],
            [D("100.00")],
        )
    )


def test_a_draft_is_never_counted_even_with_an_issue_date_in_the_range(business):
    draft = services.create_draft(
        client=ClientFactory(), lines=[line()], acting_user=None, issue_date=day(2026, 2, 1)
    )
    assert draft.issue_date == day(2026, 2, 1) and draft.number is None
    assert selectors.revenue(*QUARTER, today=TODAY) == []
    assert selectors.tax_report(*QUARTER) == []
    assert selectors.top_clients(*QUARTER) == selectors.by_service(*QUARTER) == {}


# --- Income -------------------------------------------------------------------------------
def test_income_is_subtotal_less_discount_less_credit_notes_less_cancellations(book):
    cad = revenue_of(*QUARTER)["CAD"]
    assert [(r.start.month, r.income, r.invoiced, r.tax) for r in cad] == [
        (1, D("1220.00"), D("1378.60"), D("158.60")),  # A 720.00 + B 500.00
        (2, D("-100.00"), D("-113.00"), D("-13.00")),  # B's credit note
        (3, D("-720.00"), D("-813.60"), D("-93.60")),  # A cancelled
    ]
    [quarter] = revenue_of(*QUARTER, period="quarter")["CAD"]
    a, b = book["a"], book["b"]
    note = b.credit_notes.get()
    assert quarter.income == (
        (a.subtotal - a.discount_total)
        + (b.subtotal - b.discount_total)
        - (note.subtotal - note.discount_total)
        - (a.subtotal - a.discount_total)
    )
    assert quarter.income == D("400.00") == quarter.invoiced - quarter.tax


def test_income_in_the_base_currency_adds_the_stored_base_figures(book):
    usd = revenue_of(*QUARTER)["USD"]
    assert [(r.start.month, r.income, r.income_in_base) for r in usd] == [
        (1, D("750.00"), D("1012.50")),  # C 550.00 (742.50) + D 200.00 (270.00)
        (2, D("-55.00"), D("-74.25")),  # C's credit note: 60.00 − 5.00 (81.00 − 6.75)
        (3, D("-200.00"), D("-270.00")),  # D cancelled
    ]
    c = book["c"]
    note = c.credit_notes.get()
    [quarter] = revenue_of(*QUARTER, period="quarter")["USD"]
    assert quarter.income_in_base == (
        (c.subtotal_in_base - c.discount_in_base)
        + (book["d"].subtotal_in_base - book["d"].discount_in_base)
        - (note.subtotal_in_base - note.discount_in_base)
        - (book["d"].subtotal_in_base - book["d"].discount_in_base)
    )
    assert quarter.income_in_base == D("668.25")

    in_base = selectors.revenue_in_base(
        selectors.revenue(*QUARTER, today=TODAY, base_currency="CAD"), base_currency="CAD"
    )
    assert [(r.start.month, r.income) for r in in_base] == [
        (1, D("2232.50")),  # 1,220.00 + 1,012.50
        (2, D("-174.25")),  # −100.00 − 74.25
        (3, D("-990.00")),  # −720.00 − 270.00
    ]


# --- Receivables --------------------------------------------------------------------------
def test_receivables_are_what_the_clients_owe_net_of_their_credit_at_a_date(book):
    assert selectors.receivables(day(2025, 12, 31)) == {}
    assert selectors.receivables(day(2026, 1, 31)) == {
        "CAD": D("1378.60"),  # A and B
        "USD": D("750.00"),  # C and D
    }
    assert selectors.receivables(day(2026, 3, 31)) == {
        "CAD": D("452.00"),  # less B's credit note and A's cancellation
        "USD": D("495.00"),  # less C's credit note and D's cancellation
    }
    # The payment of 1 April and the credit of 2 April are not in March's figure above.
    assert selectors.receivables(day(2026, 4, 1))["CAD"] == ZERO
    assert selectors.receivables(TODAY)["CAD"] == D("-25.00")  # MAPLE holds 25.00 of credit


def test_receivables_are_minus_the_sum_of_the_ledger_balances(book):
    keys = [(book["maple"].pk, "CAD"), (book["yankee"].pk, "USD")]
    for as_of in (day(2026, 1, 31), day(2026, 3, 15), day(2026, 4, 1), TODAY):
        balances = selectors.ledger_balances(as_of, keys)
        assert selectors.receivables(as_of) == {
            currency: ZERO - balances[(pk, currency)] for pk, currency in keys
        }


# --- The pages ----------------------------------------------------------------------------
def test_the_revenue_page_shows_cancellations_income_and_the_receivable(office, book):
    page = office.get("/reports/revenue/?start=2026-01-01&end=2026-03-31").content.decode()
    maple = page.split('data-currency="CAD"')[1].split("</section>")[0]

    assert "Cancellations" in maple and "Income" in maple
    assert '<td class="amount revenue-cancelled">-813.60 CAD</td>' in maple
    assert '<td class="amount revenue-income">1,220.00 CAD</td>' in maple
    assert "1 cancellation" in maple
    receivable = page.split('class="mb-4 receivables"')[1].split("</section>")[0]
    assert "Receivable at the end" in receivable
    assert "452.00 CAD" in receivable and "495.00 USD" in receivable
    in_base = page.split('class="mb-4 revenue-in-base"')[1].split("</section>")[0]
    assert '<td class="amount revenue-income">2,232.50 CAD</td>' in in_base


def test_the_revenue_csv_has_the_cancellations_and_the_income(office, book):
    rows = read_csv(office.get("/reports/revenue/?start=2026-01-01&end=2026-03-31&format=csv"))
    by_month = {(row["period_start"], row["currency"]): row for row in rows}

    march = by_month[("2026-03-01", "USD")]
    assert (D(march["cancelled"]), march["cancellations"], D(march["cancelled_in_base"])) == (
        D("-200.00"),
        "1",
        D("-270.00"),
    )
    assert (D(march["income"]), D(march["income_in_base"])) == (D("-200.00"), D("-270.00"))
    january = by_month[("2026-01-01", "CAD")]
    assert (D(january["income"]), D(january["invoiced"]), january["invoices"]) == (
        D("1220.00"),
        D("1378.60"),
        "2",
    )


def test_the_tax_page_and_csv_show_the_cancelled_tax(office, cancelled):
    url = "/reports/tax/?start=2026-01-01&end=2026-03-31&period=month"
    page = office.get(url).content.decode()
    assert '<td class="amount tax-cancelled">-93.60 CAD</td>' in page

    rows = read_csv(office.get(url + "&format=csv"))
    march = next(row for row in rows if row["period_start"] == "2026-03-01" and row["rate"])
    assert (D(march["tax_charged"]), D(march["cancelled_tax"]), march["cancellations"]) == (
        D("-93.60"),
        D("-93.60"),
        "1",
    )
    assert D(march["cancelled_base"]) == D("-720.00")
    exempt = next(row for row in rows if row["period_start"] == "2026-03-01" and not row["rate"])
    assert (D(exempt["taxable_base"]), D(exempt["cancelled_base"])) == (D("-200.00"), D("-200.00"))
    assert D(exempt["cancelled_base_in_base"]) == D("-270.00")
