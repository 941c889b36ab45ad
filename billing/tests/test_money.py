"""The money rules of SPEC.md, with the cases that broke other billing products."""

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing.money import (
    DISCOUNT_FIXED,
    DISCOUNT_PERCENT,
    AmountTooLarge,
    LineInput,
    TaxInput,
    compute_invoice,
    round_money,
)

D = Decimal
# billing.money's refusal of a fixed discount above the subtotal (a plain ValueError).
DISCOUNT_ABOVE_SUBTOTAL = r"^The discount cannot be more than the subtotal\.$"


def figures(lines, rate="0", **kwargs):
    return compute_invoice(
        lines=[LineInput(D(q), D(p), D(d), t) for q, p, d, t in lines],
        currency=kwargs.pop("currency", "CAD"),
        taxes=[TaxInput("Tax", D(rate))],
        **kwargs,
    )


def test_tax_is_computed_once_on_the_invoice_not_per_line():
    # Per line: 12.78 + 2.56 = 15.34. On the invoice: round(66.66 × 23 %) = 15.33.
    f = figures([("1", "55.55", "0", True), ("1", "11.11", "0", True)], rate="23")
    assert f.subtotal == D("66.66")
    assert f.tax_total == D("15.33")
    assert f.total == D("81.99")


def test_several_quantities_at_24_percent():
    f = figures(
        [("4", "19.80", "0", True), ("2", "14.85", "0", True), ("1", "7.24", "0", True)],
        rate="24",
    )
    assert f.line_amounts == [D("79.20"), D("29.70"), D("7.24")]
    assert f.subtotal == D("116.14")
    assert f.tax_total == D("27.87")  # 27.8736
    assert f.total == D("144.01")


def test_discount_comes_before_tax():
    f = figures(
        [("1", "8500.00", "0", True)],
        rate="19",
        discount_kind=DISCOUNT_FIXED,
        discount_value=D("7500.00"),
    )
    assert f.discount_total == D("7500.00")
    assert f.taxes[0].base == D("1000.00")
    assert f.tax_total == D("190.00")
    assert f.total == D("1190.00")


def test_quebec_rate_rounds_half_up():
    # 140.00 × 9.975 % = 13.965: half up gives 13.97 (binary floats give 13.96).
    f = figures([("1", "140.00", "0", True)], rate="9.975")
    assert f.tax_total == D("13.97")
    assert f.total == D("153.97")


def test_fractional_hours():
    f = figures([("1.5", "85.00", "0", True)])
    assert f.line_amounts == [D("127.50")]


@pytest.mark.parametrize(
    ("unit_price", "expected"),
    [("0.005", "0.01"), ("0.0049", "0.00"), ("2.675", "2.68"), ("1.005", "1.01")],
)
def test_half_cent_boundary_rounds_up(unit_price, expected):
    assert figures([("1", unit_price, "0", True)]).line_amounts == [D(expected)]


def test_line_discount_and_invoice_discount_with_a_non_taxable_line():
    # Line 1: 10 h × 80.00 less 10 % = 720.00 (taxable); line 2: materials 280.00 (not).
    # Subtotal 1000.00; 5 % invoice discount = 50.00, of which the taxable share is
    # round(50.00 × 720 / 1000) = 36.00, so the taxable base is 684.00; 13 % = 88.92.
    f = figures(
        [("10", "80.00", "10", True), ("1", "280.00", "0", False)],
        rate="13",
        discount_kind=DISCOUNT_PERCENT,
        discount_value=D("5"),
    )
    assert f.line_amounts == [D("720.00"), D("280.00")]
    assert f.subtotal == D("1000.00")
    assert f.discount_total == D("50.00")
    assert f.taxes[0].base == D("684.00")
    assert f.tax_total == D("88.92")
    assert f.total == D("1038.92")


def test_exempt_client_pays_no_tax():
    f = figures([("1", "100.00", "0", True)], rate="13", tax_applies=False)
    assert f.tax_total == D("0.00")
    assert f.total == D("100.00")


def test_fixed_discount_above_subtotal_is_refused():
    with pytest.raises(ValueError, match=DISCOUNT_ABOVE_SUBTOTAL) as refused:
        figures(
            [("1", "10.00", "0", True)], discount_kind=DISCOUNT_FIXED, discount_value=D("10.01")
        )
    # Not AmountTooLarge (also a ValueError): the services put that one on the lines.
    assert refused.type is ValueError


def test_zero_decimal_currency_rounds_to_whole_units():
    f = figures([("1", "100.5", "0", True)], rate="10", currency="JPY")
    assert f.line_amounts == [D("101.00")]
    assert f.tax_total == D("10.00")


def test_amount_too_large_for_storage_is_refused():
    with pytest.raises(AmountTooLarge):
        figures([("99999999999.999", "9999999999.9999", "0", True)])


def test_round_money_is_half_up():
    assert round_money(D("0.125"), "EUR") == D("0.13")
    assert round_money(D("-0.125"), "EUR") == D("-0.13")


# --- Property: the stored figures equal an independent recomputation -------------------
quantities = st.decimals(min_value=0, max_value=10000, places=3)
prices = st.decimals(min_value=0, max_value=100000, places=4)
percents = st.decimals(min_value=0, max_value=100, places=3)
lines_strategy = st.lists(st.tuples(quantities, prices, percents, st.booleans()), max_size=12)


def cents(x: Decimal) -> Decimal:
    return x.quantize(D("0.01"), rounding=ROUND_HALF_UP)


@settings(max_examples=300, deadline=None)
@given(
    lines=lines_strategy,
    rate=st.decimals(min_value=0, max_value=30, places=4),
    discount=st.one_of(
        st.tuples(st.just(""), st.just(D(0))),
        st.tuples(st.just(DISCOUNT_PERCENT), percents),
        st.tuples(st.just(DISCOUNT_FIXED), st.decimals(min_value=0, max_value=5000, places=2)),
    ),
    tax_applies=st.booleans(),
)
def test_figures_match_an_independent_recomputation(lines, rate, discount, tax_applies):
    kind, value = discount
    # Written from the spec's text, in integer cents where possible.
    amounts = [cents(q * p * (100 - d) / 100) for q, p, d, _ in lines]
    subtotal = sum(amounts, D(0))
    if kind == DISCOUNT_FIXED and value > subtotal:
        with pytest.raises(ValueError, match=DISCOUNT_ABOVE_SUBTOTAL):
            figures(
                [(str(q), str(p), str(d), t) for q, p, d, t in lines],
                rate=str(rate),
                discount_kind=kind,
                discount_value=value,
            )
        return
    disc = cents(subtotal * value / 100) if kind == DISCOUNT_PERCENT else value
    taxable = sum((a for a, line in zip(amounts, lines, strict=True) if line[3]), D(0))
    if not tax_applies:
        base = D(0)
    elif subtotal == 0:
        base = taxable
    else:
        base = taxable - cents(disc * taxable / subtotal)
    tax = cents(base * rate / 100)

    f = figures(
        [(str(q), str(p), str(d), t) for q, p, d, t in lines],
        rate=str(rate),
        discount_kind=kind,
        discount_value=value,
        tax_applies=tax_applies,
    )
    assert f.line_amounts == amounts
    assert f.subtotal == subtotal
    assert f.discount_total == disc
    assert f.tax_total == tax
    assert f.total == subtotal - disc + tax
    assert f.total >= 0


def test_amounts_are_shown_rounded_half_up_to_the_minor_unit():
    from billing.money import format_money

    assert format_money(D("2.50"), "JPY") == "3 JPY"
    assert format_money(D("1234.5"), "CAD") == "1,234.50 CAD"
