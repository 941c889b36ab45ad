"""The money rules of SPEC.md ("Money"), in one place.

Every figure of an invoice is computed here, by ``compute_invoice``, and stored; pages, PDFs,
e-mails, exports and the API show the stored figures. Rounding is ROUND_HALF_UP to the
currency's minor unit, at exactly the points the spec names and nowhere else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, localcontext

# The currency tables live below every app; the names stay importable from here.
from otb.currencies import CURRENCIES, CURRENCY_CHOICES, MINOR_UNIT_DECIMALS  # noqa: F401
from otb.fields import MAX_AMOUNT
from otb.numbers import format_number, plain_text

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
HUNDRED = Decimal(100)


class AmountTooLarge(ValueError):
    """A computed figure does not fit the amount columns."""


def minor_unit(currency: str) -> Decimal:
    return Decimal(1).scaleb(-MINOR_UNIT_DECIMALS.get(currency, 2))


def round_money(value: Decimal, currency: str) -> Decimal:
    """Round half up to the currency's minor unit, returned with 2 decimals as stored."""
    return value.quantize(minor_unit(currency), rounding=ROUND_HALF_UP).quantize(CENT)


@dataclass(frozen=True)
class LineInput:
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal = Decimal(0)
    taxable: bool = True
    # Which of the document's taxes a taxable line carries, by their position in ``taxes``
    # (PST on materials only, say); None: every one of them (SPEC: Several taxes).
    taxes: frozenset[int] | None = None

    def carries(self, tax_index: int) -> bool:
        return self.taxable and (self.taxes is None or tax_index in self.taxes)


@dataclass(frozen=True)
class TaxInput:
    label: str
    rate: Decimal
    # The business's registration number for this tax, printed beside it.
    number: str = ""


@dataclass(frozen=True)
class TaxFigures:
    label: str
    rate: Decimal
    base: Decimal
    amount: Decimal
    number: str = ""


@dataclass(frozen=True)
class InvoiceFigures:
    line_amounts: list[Decimal]
    subtotal: Decimal
    discount_total: Decimal
    taxes: list[TaxFigures] = field(default_factory=list)

    @property
    def tax_total(self) -> Decimal:
        return sum((t.amount for t in self.taxes), ZERO)

    @property
    def total(self) -> Decimal:
        return self.subtotal - self.discount_total + self.tax_total


DISCOUNT_NONE = ""
DISCOUNT_PERCENT = "percent"
DISCOUNT_FIXED = "fixed"


def line_amount(line: LineInput, currency: str) -> Decimal:
    """round(quantity × unit price × (1 − line discount / 100))"""
    exact = line.quantity * line.unit_price * (HUNDRED - line.discount_percent) / HUNDRED
    return round_money(exact, currency)


def compute_invoice(
    *,
    lines: Sequence[LineInput],
    currency: str,
    taxes: Sequence[TaxInput] = (),
    tax_applies: bool = True,
    discount_kind: str = DISCOUNT_NONE,
    discount_value: Decimal = Decimal(0),
) -> InvoiceFigures:
    """Every figure of an invoice, rounded at the points SPEC.md names.

    Each tax t of ``taxes`` is charged on the lines that carry it (``LineInput.carries``):
    base_t = T_t − round(discount × T_t / subtotal), tax_t = round(base_t × rate_t / 100).
    ``tax_applies`` is False when the client is tax-exempt or, with "apply tax only to local
    clients", abroad: the taxes then have a base and an amount of 0.
    Raises ``ValueError`` for a fixed discount above the subtotal and ``AmountTooLarge``
    when a figure does not fit the amount columns.
    """
    # Enough digits that no intermediate product (14 digits × 14 digits × a percentage) is
    # ever rounded by the context: the only rounding is round_money's.
    with localcontext() as ctx:
        ctx.prec = 80
        amounts = [line_amount(line, currency) for line in lines]
        subtotal = sum(amounts, ZERO)

        if discount_kind == DISCOUNT_PERCENT:
            discount = round_money(subtotal * discount_value / HUNDRED, currency)
        elif discount_kind == DISCOUNT_FIXED:
            if discount_value > subtotal:
                raise ValueError("The discount cannot be more than the subtotal.")
            discount = round_money(discount_value, currency)
        else:
            discount = ZERO

        tax_figures = []
        for index, tax in enumerate(taxes):
            # T_t: the amounts of the lines carrying this tax.
            carried = sum(
                (
                    amount
                    for amount, line in zip(amounts, lines, strict=True)
                    if line.carries(index)
                ),
                ZERO,
            )
            if not tax_applies:
                base = ZERO
            elif subtotal:
                # The invoice discount falls on the lines carrying t and the others in
                # proportion: base_t = T_t − round(discount × T_t / subtotal).
                base = carried - round_money(discount * carried / subtotal, currency)
            else:
                base = carried
            # Rounded once per tax per document; never a tax on another tax.
            amount = round_money(base * tax.rate / HUNDRED, currency)
            tax_figures.append(
                TaxFigures(
                    label=tax.label, rate=tax.rate, base=base, amount=amount, number=tax.number
                )
            )
        figures = InvoiceFigures(
            line_amounts=amounts, subtotal=subtotal, discount_total=discount, taxes=tax_figures
        )
        for amount in [*amounts, subtotal, figures.total]:
            if abs(amount) > MAX_AMOUNT:
                raise AmountTooLarge(
                    f"An amount of {amount} is more than the largest amount that can be "
                    f"stored ({MAX_AMOUNT})."
                )
        return figures


def format_money(amount: Decimal | None, currency: str = "") -> str:
    """How every page, PDF and e-mail writes an amount: grouped thousands, the currency's
    decimals, the code after it ("1,190.00 CAD"). The one place to change for locales."""
    if amount is None:
        return ""
    places = MINOR_UNIT_DECIMALS.get(currency, 2)
    # Half up to the minor unit first: format() alone would round half to even.
    exact = Decimal(amount).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = f"{exact:,.{places}f}"
    return f"{text} {currency}" if currency else text


def plain_decimal(value: Decimal) -> str:
    """A quantity, unit price or rate without trailing zeros or exponent: 1.500 -> "1.5",
    100.0000 -> "100", 9.975 -> "9.975" (as forms show it: ``otb.numbers.plain_text``)."""
    return plain_text(Decimal(value))


def format_price(value: Decimal, currency: str = "") -> str:
    """A unit price: at least the currency's decimals ("6,400.00"), more when it has them."""
    return format_number(value, min_places=MINOR_UNIT_DECIMALS.get(currency, 2))


# --- Credit notes (SPEC: Credit notes) ----------------------------------------------------


class CreditTooLarge(ValueError):
    """A credit note would credit more than is not yet credited on its invoice."""

    def __init__(self, remaining: InvoiceFigures):
        super().__init__(f"at most {remaining.total} can still be credited")
        self.remaining = remaining


def figures_of(
    *, subtotal: Decimal, discount_total: Decimal, taxes: Sequence[TaxFigures]
) -> InvoiceFigures:
    """Stored figures as an InvoiceFigures (no lines): an invoice's, or a credit note's."""
    return InvoiceFigures(
        line_amounts=[], subtotal=subtotal, discount_total=discount_total, taxes=list(taxes)
    )


def remaining_to_credit(
    invoice: InvoiceFigures, credited: Sequence[InvoiceFigures]
) -> InvoiceFigures:
    """What an invoice has not yet credited: its figures less those of its issued credit
    notes, field by field and tax by tax (the credit notes carry the invoice's taxes in its
    order). The credit note that credits all that remains takes exactly these."""
    taxes = [
        TaxFigures(
            label=tax.label,
            rate=tax.rate,
            number=tax.number,
            base=tax.base - sum((note.taxes[i].base for note in credited), ZERO),
            amount=tax.amount - sum((note.taxes[i].amount for note in credited), ZERO),
        )
        for i, tax in enumerate(invoice.taxes)
    ]
    return figures_of(
        subtotal=invoice.subtotal - sum((note.subtotal for note in credited), ZERO),
        discount_total=invoice.discount_total
        - sum((note.discount_total for note in credited), ZERO),
        taxes=taxes,
    )


def credit_for_lines(
    *,
    lines: Sequence[LineInput],
    currency: str,
    invoice: InvoiceFigures,
) -> InvoiceFigures:
    """A credit note for quantities of an invoice's lines: each line amount as on an
    invoice, and the invoice's discount carried in proportion, round(discount × subtotal /
    invoice subtotal), which then falls on the lines carrying each tax as on an invoice."""
    with localcontext() as ctx:
        ctx.prec = 80
        subtotal = sum((line_amount(line, currency) for line in lines), ZERO)
        discount = (
            round_money(invoice.discount_total * subtotal / invoice.subtotal, currency)
            if invoice.subtotal
            else ZERO
        )
    return compute_invoice(
        lines=lines,
        currency=currency,
        taxes=[TaxInput(label=t.label, rate=t.rate, number=t.number) for t in invoice.taxes],
        discount_kind=DISCOUNT_FIXED if discount else DISCOUNT_NONE,
        discount_value=discount,
    )


def credit_for_amount(*, gross: Decimal, currency: str, invoice: InvoiceFigures) -> InvoiceFigures:
    """A credit note for a gross amount, taxes included, split in the invoice's proportions:
    each tax's base and amount and the discount are round(invoice figure × gross / invoice
    total); the subtotal is what makes the total the amount asked. Its one line is the
    subtotal."""
    with localcontext() as ctx:
        ctx.prec = 80

        def share(figure: Decimal) -> Decimal:
            return round_money(figure * gross / invoice.total, currency) if invoice.total else ZERO

        taxes = [
            TaxFigures(
                label=t.label,
                rate=t.rate,
                number=t.number,
                base=share(t.base),
                amount=share(t.amount),
            )
            for t in invoice.taxes
        ]
        discount = share(invoice.discount_total)
        subtotal = gross - sum((t.amount for t in taxes), ZERO) + discount
    return InvoiceFigures(
        line_amounts=[subtotal], subtotal=subtotal, discount_total=discount, taxes=taxes
    )


def check_within_remaining(figures: InvoiceFigures, remaining: InvoiceFigures) -> None:
    """A credit note never credits more than is not yet credited: its total, and each of
    its figures (a rounding cent per tax would otherwise leave a negative remainder).
    Raises CreditTooLarge."""
    pairs = [
        (figures.total, remaining.total),
        (figures.subtotal, remaining.subtotal),
        (figures.discount_total, remaining.discount_total),
        *((t.amount, r.amount) for t, r in zip(figures.taxes, remaining.taxes, strict=True)),
        *((t.base, r.base) for t, r in zip(figures.taxes, remaining.taxes, strict=True)),
    ]
    if any(figure > left for figure, left in pairs):
        raise CreditTooLarge(remaining)


# --- Base currency (SPEC: Currencies and exchange rates) ----------------------------------


@dataclass(frozen=True)
class BaseFigures:
    """A document's figures in the base currency: each one converted once, at the rate
    frozen when it was issued; the total is their sum, so they always add up."""

    subtotal: Decimal
    discount_total: Decimal
    taxes: list[Decimal] = field(default_factory=list)

    @property
    def tax_total(self) -> Decimal:
        return sum(self.taxes, ZERO)

    @property
    def total(self) -> Decimal:
        return self.subtotal - self.discount_total + self.tax_total


def to_base(figures: InvoiceFigures, *, rate: Decimal, base_currency: str) -> BaseFigures:
    """base subtotal, base discount and base tax per tax = round(figure × rate) to the base
    currency's minor unit, half up; base total = base subtotal − base discount + Σ base
    taxes. Nothing else converts a document's figures; reports add these stored ones."""
    with localcontext() as ctx:
        ctx.prec = 80

        def convert(amount: Decimal) -> Decimal:
            return round_money(amount * rate, base_currency)

        return BaseFigures(
            subtotal=convert(figures.subtotal),
            discount_total=convert(figures.discount_total),
            taxes=[convert(tax.amount) for tax in figures.taxes],
        )


def remaining_in_base(invoice: BaseFigures, credited: Sequence[BaseFigures]) -> BaseFigures:
    """What an invoice's base figures have not yet credited: the credit note that credits
    all that remains takes exactly these, so a fully credited invoice nets to zero in the
    base currency too, to the cent (no second rounding, SPEC)."""
    return BaseFigures(
        subtotal=invoice.subtotal - sum((note.subtotal for note in credited), ZERO),
        discount_total=invoice.discount_total
        - sum((note.discount_total for note in credited), ZERO),
        taxes=[
            amount - sum((note.taxes[i] for note in credited), ZERO)
            for i, amount in enumerate(invoice.taxes)
        ],
    )


@dataclass(frozen=True)
class PaymentInBase:
    """A payment's amount in the base currency at its own rate, what it settles of its
    invoice's base total, and the realised exchange difference (gain > 0, loss < 0)."""

    amount: Decimal
    settled: Decimal
    difference: Decimal


def payment_in_base(
    *,
    amount: Decimal,
    applied: Decimal,
    payment_rate: Decimal,
    invoice_rate: Decimal,
    base_currency: str,
    clears: bool,
    base_left: Decimal,
) -> PaymentInBase:
    """SPEC: a payment's base amount is round(amount × its own rate). The part of it that
    pays its invoice (``applied``) settles round(applied × the invoice's rate), except the
    payment that clears the invoice, which settles exactly what is left of its base total
    (``base_left``: the base total less the base already settled and credited). What it
    leaves as client credit is valued at its own rate, with no gain or loss on it; the
    difference is the gain or loss on the part applied."""
    with localcontext() as ctx:
        ctx.prec = 80
        in_base = round_money(amount * payment_rate, base_currency)
        credit_in_base = round_money((amount - applied) * payment_rate, base_currency)
        settled = base_left if clears else round_money(applied * invoice_rate, base_currency)
    return PaymentInBase(
        amount=in_base, settled=settled, difference=in_base - credit_in_base - settled
    )


def allocate(total: Decimal, weights: Sequence[Decimal], currency: str) -> list[Decimal]:
    """``total`` shared over ``weights`` (each ≥ 0) in proportion, in the currency's minor
    units, by largest remainder: each share is rounded down, and the units left go one each
    to the largest remainders (the earlier weight first on a tie), so the shares always add
    up to ``total`` exactly (SPEC: Exports and imports, a line's share of a document's base
    subtotal, discount or tax). With no weight above zero, the shares are equal."""
    if not weights:
        return []
    unit = minor_unit(currency)
    units = int((total / unit).to_integral_value())
    sign, units = (-1 if units < 0 else 1), abs(units)
    shares_of = [Decimal(1)] * len(weights) if not any(weights) else list(weights)
    whole = sum(shares_of, Decimal(0))
    floors: list[int] = []
    remainders: list[tuple[Decimal, int]] = []
    for position, weight in enumerate(shares_of):
        exact = Decimal(units) * weight / whole
        floor = int(exact)  # weights ≥ 0: truncation is the floor
        floors.append(floor)
        remainders.append((exact - floor, position))
    for _remainder, position in sorted(remainders, key=lambda found: (-found[0], found[1]))[
        : units - sum(floors)
    ]:
        floors[position] += 1
    return [(sign * floor * unit).quantize(CENT) for floor in floors]
