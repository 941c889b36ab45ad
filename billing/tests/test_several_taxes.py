"""The money rule for several taxes on one document (SPEC.md, "Several taxes"; issue 17,
slice 1): each tax is charged on the lines carrying it, after the line and invoice
discounts, rounded once per tax, never on another tax."""

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing.money import (
    DISCOUNT_FIXED,
    DISCOUNT_PERCENT,
    LineInput,
    TaxInput,
    compute_invoice,
)

D = Decimal
GST = TaxInput("GST", D("5.0000"), number="123456789 RT0001")
QST = TaxInput("QST", D("9.9750"), number="1234567890 TQ0001")
PST = TaxInput("PST", D("7.0000"), number="PST-1234-5678")


def test_gst_and_qst_on_discounted_lines_in_quebec():
    figures = compute_invoice(
        lines=[
            LineInput(D("10"), D("85.0000"), discount_percent=D("10")),  # 765.00
            LineInput(D("2.5"), D("40")),  # 100.00
        ],
        currency="CAD",
        taxes=[GST, QST],
        discount_kind=DISCOUNT_PERCENT,
        discount_value=D("5"),  # 43.25
    )
    assert figures.subtotal == D("865.00") and figures.discount_total == D("43.25")
    gst, qst = figures.taxes
    assert (gst.base, gst.amount, gst.number) == (D("821.75"), D("41.09"), "123456789 RT0001")
    # QST on the same base as GST, never on GST: 821.75 × 9.975 % = 81.9695625.
    assert (qst.base, qst.amount, qst.number) == (D("821.75"), D("81.97"), "1234567890 TQ0001")
    assert figures.total == D("944.81")


def test_a_line_carrying_only_one_of_two_taxes_in_british_columbia():
    figures = compute_invoice(
        lines=[
            LineInput(D("10"), D("95"), taxes=frozenset({0})),  # labour: GST only, 950.00
            LineInput(D("1"), D("400.00")),  # materials: GST and PST
        ],
        currency="CAD",
        taxes=[GST, PST],
        discount_kind=DISCOUNT_FIXED,
        discount_value=D("100.00"),
    )
    gst, pst = figures.taxes
    assert (gst.base, gst.amount) == (D("1250.00"), D("62.50"))
    # The discount falls on PST's lines in proportion: 400 − round(100 × 400 / 1350).
    assert (pst.base, pst.amount) == (D("370.37"), D("25.93"))
    assert figures.tax_total == D("88.43") and figures.total == D("1338.43")


def test_each_tax_is_rounded_once_on_its_own_at_the_half_cent():
    figures = compute_invoice(
        lines=[LineInput(D("1"), D("0.10"))],
        currency="CAD",
        taxes=[TaxInput("A", D("5")), TaxInput("B", D("5"))],
    )
    # 0.005 each, half up to 0.01 each: 0.02 in all, where one rounding of the sum gives 0.01.
    assert [tax.amount for tax in figures.taxes] == [D("0.01"), D("0.01")]
    assert figures.total == D("0.12")


def test_a_line_not_taxable_carries_none_of_the_taxes():
    figures = compute_invoice(
        lines=[LineInput(D("1"), D("50"), taxable=False), LineInput(D("1"), D("50"))],
        currency="CAD",
        taxes=[GST, QST],
    )
    assert [tax.base for tax in figures.taxes] == [D("50.00"), D("50.00")]


@pytest.mark.parametrize("reason", ["tax-exempt client", "client abroad"])
def test_no_tax_applies_every_tax_is_zero(reason):
    figures = compute_invoice(
        lines=[LineInput(D("3"), D("100"))], currency="CAD", taxes=[GST, QST], tax_applies=False
    )
    assert [(t.label, t.base, t.amount) for t in figures.taxes] == [
        ("GST", D(0), D(0)),
        ("QST", D(0), D(0)),
    ]
    assert figures.total == D("300.00")


# --- Property: the figures equal a computation written here from SPEC.md ------------------
def cents(x: Decimal) -> Decimal:
    return x.quantize(D("0.01"), rounding=ROUND_HALF_UP)


rates = st.decimals(min_value=0, max_value=30, places=4)
line_strategy = st.tuples(
    st.decimals(min_value=0, max_value=10000, places=3),
    st.decimals(min_value=0, max_value=100000, places=4),
    st.decimals(min_value=0, max_value=100, places=3),
    st.booleans(),
    st.one_of(st.none(), st.frozensets(st.integers(min_value=0, max_value=2))),
)


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(line_strategy, max_size=10),
    tax_rates=st.lists(rates, min_size=0, max_size=3),
    percent=st.one_of(st.none(), st.decimals(min_value=0, max_value=100, places=3)),
    tax_applies=st.booleans(),
)
def test_figures_match_the_spec_for_any_set_of_taxes(lines, tax_rates, percent, tax_applies):
    taxes = [TaxInput(f"T{i}", rate) for i, rate in enumerate(tax_rates)]
    figures = compute_invoice(
        lines=[LineInput(q, p, discount_percent=d, taxable=t, taxes=s) for q, p, d, t, s in lines],
        currency="CAD",
        taxes=taxes,
        discount_kind=DISCOUNT_PERCENT if percent is not None else "",
        discount_value=percent or D(0),
        tax_applies=tax_applies,
    )
    amounts = [cents(q * p * (100 - d) / 100) for q, p, d, _t, _s in lines]
    subtotal = sum(amounts, D(0))
    discount = cents(subtotal * percent / 100) if percent is not None else D(0)
    expected = []
    for index, rate in enumerate(tax_rates):
        carries = [t and (s is None or index in s) for _q, _p, _d, t, s in lines]
        carried = sum((a for a, c in zip(amounts, carries, strict=True) if c), D(0))
        if not tax_applies:
            base = D(0)
        elif subtotal:
            base = carried - cents(discount * carried / subtotal)
        else:
            base = carried
        expected.append((base, cents(base * rate / 100)))
    assert [(t.base, t.amount) for t in figures.taxes] == expected
    assert figures.total == subtotal - discount + sum((a for _b, a in expected), D(0))
    assert all(base >= 0 for base, _amount in expected)
