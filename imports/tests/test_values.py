"""Reading a cell: numbers as spreadsheets write them (a hypothesis test: every way of
writing an amount reads back as that amount), yes or no, countries."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imports.values import decimal_mark_of, read_country, read_number, read_yes_no
from otb.operations import InvalidInput


def _grouped(digits: str, mark: str) -> str:
    head = len(digits) % 3 or 3
    return mark.join([digits[:head], *(digits[i : i + 3] for i in range(head, len(digits), 3))])


STYLES = {
    # name: (thousands separator, decimal mark, the file's delimiter)
    "plain": ("", ".", ","),
    "english": (",", ".", ","),
    "german": (".", ",", ";"),
    "french": ("\u00a0", ",", ";"),
    "swiss-ish": (" ", ".", ","),
}


@given(
    amount=st.decimals(
        min_value=Decimal("-999999999.99"), max_value=Decimal("999999999.99"), places=2
    ),
    style=st.sampled_from(sorted(STYLES)),
    decimals=st.booleans(),
    accountant=st.booleans(),
    sign=st.sampled_from(["", "$", "€ "]),
)
def test_every_way_of_writing_an_amount_reads_back_as_it(amount, style, decimals, accountant, sign):
    thousands, mark, delimiter = STYLES[style]
    if not decimals:
        amount = amount.quantize(Decimal(1))
    whole, _dot, fraction = f"{abs(amount):f}".partition(".")
    text = sign + _grouped(whole, thousands) if thousands else sign + whole
    if fraction:
        text += mark + fraction
    if amount < 0:
        text = f"({text})" if accountant else "-" + text
    assert (
        read_number(text, field="x", label="X", decimal_mark=decimal_mark_of(delimiter)) == amount
    )


@pytest.mark.parametrize(
    ("text", "mark", "expected"),
    [
        ("1.250", ",", Decimal("1250")),  # a semicolon file: the point groups thousands
        ("1.250", ".", Decimal("1.250")),
        ("1,250", ".", Decimal("1250")),
        ("1,250", ",", Decimal("1.250")),
        ("0.125", ",", Decimal("0.125")),  # no thousands group starts with 0
        ("12,5", ".", Decimal("12.5")),  # two digits: never a thousands group
        (".5", ".", Decimal("0.5")),
        ("+3", ".", Decimal("3")),
    ],
)
def test_a_number_that_reads_two_ways_goes_by_the_file_s_decimal_mark(text, mark, expected):
    assert read_number(text, field="x", label="X", decimal_mark=mark) == expected


@pytest.mark.parametrize(
    "text", ["abc", "1..2", "1,2,3", "12 50", "(-12)", "-(12)", "١٢٣", "1E5", "", "12-", "1,25.0,5"]
)
def test_what_is_no_number_is_refused_naming_the_field(text):
    with pytest.raises(InvalidInput) as refused:
        read_number(text, field="unit_price", label="Unit price")
    assert refused.value.field == "unit_price"
    assert refused.value.message.startswith("Unit price: ")


@pytest.mark.parametrize(
    ("text", "expected"), [("Yes", True), ("x", True), ("0", False), ("Archived", False)]
)
def test_yes_and_no(text, expected):
    assert read_yes_no(text, field="f", label="F") is expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("de", "DE"),
        ("DEU", "DE"),
        ("Germany", "DE"),
        ("Federal Republic of Germany", "DE"),
        ("United Kingdom of Great Britain and Northern Ireland", "GB"),
        ("united states of america", "US"),
        ("Viet Nam", "VN"),
        ("Vietnam", "VN"),
        ("UK", "GB"),
        ("Great Britain", "GB"),
        ("USA", "US"),
        ("Deutschland", "DE"),
        ("Bundesrepublik Deutschland", "DE"),
        ("Schweiz", "CH"),
        ("Suisse", "CH"),
        ("Royaume-Uni", "GB"),
        ("España", "ES"),
        ("Österreich", "AT"),
    ],
)
def test_countries_by_code_or_english_name(text, code):
    assert read_country(text, field="country", label="Country") == code


def test_an_unknown_country_is_refused():
    with pytest.raises(InvalidInput, match="“Atlantis” is no country we know"):
        read_country("Atlantis", field="country", label="Country")
