"""Plain decimal notation, the one way numbers are read (otb.numbers; issue 16, item 2)."""

from decimal import Decimal as D

import pytest

from otb.numbers import NumberRefused, parse_plain, plain_decimal, plain_text


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("1234.56", D("1234.56")),
        (" 12 ", D("12")),
        ("-3", D("-3")),
        ("+0.5", D("0.5")),
        (".25", D("0.25")),
        ("7.", D("7")),
    ],
)
def test_plain_notation_is_read(text, number):
    assert parse_plain(text) == number


@pytest.mark.parametrize(
    "text",
    ["1e5", "1E3", "2e-2", "Infinity", "-inf", "NaN", "1,000", "1 000", "0x10", "١٢٣", "", "."],
)
def test_anything_else_is_not_a_number(text):
    assert parse_plain(text) is None


def test_the_refusal_names_the_field_and_shows_how_to_write_it():
    with pytest.raises(NumberRefused, match="^Amount: “1e5” is not a number; write it like"):
        plain_decimal("1e5", label="Amount", decimal_places=2)


@pytest.mark.parametrize(
    ("number", "text"),
    [(D("12.500"), "12.5"), (D("95.0000"), "95"), (D("0.0125"), "0.0125"), (D("1E+2"), "100")],
)
def test_numbers_are_shown_without_trailing_zeros(number, text):
    assert plain_text(number) == text
