"""Operations on credit notes (SPEC: Credit notes): a draft made from an issued invoice (in
full, for some lines or quantities, or for an amount), changed or deleted while a draft,
and issued: numbered from its own gapless series and posted through the one money path,
which lowers its invoice's balance due.

The figures come from ``billing.money`` (``credit_for_lines``, ``credit_for_amount``,
``remaining_to_credit``). A draft keeps what was asked (the kind, the quantities, the
amount) and is computed again when it is issued, against what its invoice has not yet
credited then, under the invoice's lock: two credit notes issued at once never credit more
than the total.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from audit import recording as audit
from ledger.events import Event
from otb.numbers import format_number
from otb.operations import UNSET, InvalidInput, ensure_permitted, given, operation
from settings_app.selectors import business_today, get_business_settings

from .. import accounting
from ..errors import InvalidTransition, NotFound
from ..inputs import clean_amount, clean_date, clean_decimal, clean_text, require_minor_unit
from ..models import (
    CreditKind,
    CreditNote,
    CreditNoteLine,
    CreditNoteStatus,
    CreditNoteTax,
    Invoice,
    InvoiceLine,
)
from ..money import (
    ZERO,
    CreditTooLarge,
    InvoiceFigures,
    LineInput,
    TaxFigures,
    check_within_remaining,
    credit_for_amount,
    credit_for_lines,
    figures_of,
    format_money,
    remaining_to_credit,
)
from ..rules import credit_refusal
from . import locking
from .exchange import credit_note_base

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# The name of the credit note number counter's row.
COUNTER_NAME = "credit_note"
RELATED = ("lines", "taxes")


@dataclass(frozen=True)
class CreditLineData:
    """A quantity of one line of the invoice to credit."""

    invoice_line: Any
    """The InvoiceLine, or its id."""
    quantity: Any


@dataclass
class Credit:
    """What a credit note would be: its figures and its unsaved lines and taxes."""

    figures: InvoiceFigures
    lines: list[CreditNoteLine]
    taxes: list[CreditNoteTax]


def invoice_figures(invoice: Invoice) -> InvoiceFigures:
    """The stored figures of an issued invoice."""
    return figures_of(
        subtotal=invoice.subtotal,
        discount_total=invoice.discount_total,
        taxes=[_tax_figures(tax) for tax in invoice.taxes.all()],
    )


def _tax_figures(tax: Any) -> TaxFigures:
    return TaxFigures(
        label=tax.label, rate=tax.rate, number=tax.number, base=tax.base, amount=tax.amount
    )


def _issued_notes(invoice: Invoice) -> list[CreditNote]:
    return list(
        invoice.credit_notes.filter(status=CreditNoteStatus.ISSUED).prefetch_related(
            "taxes", "lines"
        )
    )


def remaining(invoice: Invoice) -> InvoiceFigures:
    """What ``invoice`` has not yet credited (``money.remaining_to_credit``)."""
    notes = _issued_notes(invoice)
    return _remaining(invoice, notes)


def _remaining(invoice: Invoice, notes: list[CreditNote]) -> InvoiceFigures:
    return remaining_to_credit(
        invoice_figures(invoice),
        [
            figures_of(
                subtotal=note.subtotal,
                discount_total=note.discount_total,
                taxes=[_tax_figures(tax) for tax in note.taxes.all()],
            )
            for note in notes
        ],
    )


@dataclass(frozen=True)
class LineLeft:
    """What is left to credit of one invoice line."""

    line: InvoiceLine
    quantity: Decimal
    amount: Decimal


def lines_left(invoice: Invoice, notes: list[CreditNote] | None = None) -> list[LineLeft]:
    """Each line of ``invoice`` with the quantity and amount its issued credit notes have
    not yet credited."""
    notes = _issued_notes(invoice) if notes is None else notes
    credited: dict[int, tuple[Decimal, Decimal]] = {}
    for note in notes:
        for credited_line in note.lines.all():
            key = credited_line.invoice_line_id
            if key is not None:
                quantity, amount = credited.get(key, (Decimal(0), ZERO))
                credited[key] = (quantity + credited_line.quantity, amount + credited_line.amount)
    left = []
    for line in invoice.lines.all():
        quantity, amount = credited.get(line.pk, (Decimal(0), ZERO))
        left.append(LineLeft(line, line.quantity - quantity, line.amount - amount))
    return left


def _copied_line(source: InvoiceLine, *, quantity: Decimal, amount: Decimal) -> CreditNoteLine:
    return CreditNoteLine(
        invoice_line=source,
        description=source.description,
        quantity=quantity,
        unit=source.unit,
        unit_price=source.unit_price,
        discount_percent=source.discount_percent,
        taxable=source.taxable,
        taxes=source.taxes,
        amount=amount,
    )


def _free_line(invoice: Invoice, amount: Decimal, *, remainder: bool) -> CreditNoteLine:
    text = (
        _("Remainder of invoice %(number)s")
        if remainder
        else _("Credit on invoice %(number)s of %(date)s")
    )
    return CreditNoteLine(
        description=text % {"number": invoice.number, "date": _date(invoice.issue_date)},
        quantity=Decimal(1),
        unit_price=amount,
        amount=amount,
    )


def _all_that_remains(
    invoice: Invoice, left: list[LineLeft], notes: list[CreditNote], rest: InvoiceFigures
) -> Credit:
    """The credit note that credits all that remains takes exactly the remaining figures,
    per tax. Its lines are what is left of each invoice line; after a credit of an amount,
    which credited no line in particular, one line of the remaining subtotal."""
    if _credited_by_lines(notes):
        lines = [
            _copied_line(item.line, quantity=item.quantity, amount=item.amount)
            for item in left
            if item.quantity or item.amount
        ]
    else:
        lines = [_free_line(invoice, rest.subtotal, remainder=True)]
    return _credit(rest, lines)


def _credited_by_lines(notes: list[CreditNote]) -> bool:
    """Whether every issued credit note credited lines of the invoice (none credited an
    amount, which credits no line in particular): then what is left of each line adds up
    to the remaining subtotal."""
    return all(line.invoice_line_id is not None for note in notes for line in note.lines.all())


def _credit(figures: InvoiceFigures, lines: list[CreditNoteLine]) -> Credit:
    for position, line in enumerate(lines, start=1):
        line.position = position
    taxes = [
        CreditNoteTax(
            position=position,
            label=tax.label,
            rate=tax.rate,
            number=tax.number,
            base=tax.base,
            amount=tax.amount,
        )
        for position, tax in enumerate(figures.taxes, start=1)
    ]
    return Credit(figures=figures, lines=lines, taxes=taxes)


def _too_large(exc: CreditTooLarge, invoice: Invoice, field: str) -> InvalidInput:
    return InvalidInput.single(
        field,
        _(
            "%(what)s: this would credit more than invoice %(number)s has left to credit "
            "(%(left)s). Credit at most that, or choose “all that remains”."
        )
        % {
            "what": _("Amount") if field == "amount" else _("Lines"),
            "number": invoice.number,
            "left": format_money(exc.remaining.total, invoice.currency),
        },
    )


def compute_credit(
    invoice: Invoice,
    *,
    kind: str,
    lines: Sequence[CreditLineData] = (),
    amount: Any = None,
) -> tuple[Credit, Decimal | None]:
    """The figures, lines and taxes of a credit note of ``kind`` on ``invoice`` (issued,
    read under its lock by the operations), against what its issued credit notes left;
    and the amount asked, cleaned. Raises InvalidInput naming the field."""
    refusal = credit_refusal(invoice)
    if refusal:
        raise InvalidTransition(refusal)
    notes = _issued_notes(invoice)
    rest = _remaining(invoice, notes)
    left = lines_left(invoice, notes)
    currency = invoice.currency
    if kind == CreditKind.FULL:
        return _all_that_remains(invoice, left, notes, rest), None
    if kind == CreditKind.AMOUNT:
        gross = clean_amount(amount, field="amount", label=_("Amount to credit"))
        require_minor_unit(gross, currency, field="amount", label=_("Amount to credit"))
        if gross == rest.total:
            return _all_that_remains(invoice, left, notes, rest), gross
        figures = credit_for_amount(
            gross=gross, currency=currency, invoice=invoice_figures(invoice)
        )
        try:
            check_within_remaining(figures, rest)
        except CreditTooLarge as exc:
            raise _too_large(exc, invoice, "amount") from None
        return _credit(figures, [_free_line(invoice, figures.subtotal, remainder=False)]), gross
    if kind != CreditKind.LINES:
        raise InvalidInput.single(
            "kind", _("Credits: “%(kind)s” is not a kind of credit note.") % {"kind": kind}
        )
    chosen = _chosen_quantities(invoice, left, lines)
    every_quantity_left = all(
        chosen.get(item.line.pk, Decimal(0)) == item.quantity for item in left if item.quantity
    )
    if chosen and every_quantity_left and _credited_by_lines(notes):
        return _all_that_remains(invoice, left, notes, rest), None
    taxes = list(invoice.taxes.all())
    positions = {tax.label: index for index, tax in enumerate(taxes)}
    picked = [item for item in left if item.line.pk in chosen]
    inputs = [
        LineInput(
            quantity=chosen[item.line.pk],
            unit_price=item.line.unit_price,
            discount_percent=item.line.discount_percent,
            taxable=item.line.taxable,
            taxes=None
            if item.line.taxes is None
            else frozenset(positions[label] for label in item.line.taxes if label in positions),
        )
        for item in picked
    ]
    figures = credit_for_lines(lines=inputs, currency=currency, invoice=invoice_figures(invoice))
    if figures.total <= 0:
        raise InvalidInput.single("lines", _("Lines: these quantities credit nothing."))
    try:
        check_within_remaining(figures, rest)
    except CreditTooLarge as exc:
        raise _too_large(exc, invoice, "lines") from None
    credit_lines = [
        _copied_line(item.line, quantity=chosen[item.line.pk], amount=amount)
        for item, amount in zip(picked, figures.line_amounts, strict=True)
    ]
    return _credit(figures, credit_lines), None


def _chosen_quantities(
    invoice: Invoice, left: list[LineLeft], lines: Sequence[CreditLineData]
) -> dict[int, Decimal]:
    """The quantities asked per invoice line, each checked against what is left of it."""
    by_id = {item.line.pk: item for item in left}
    chosen: dict[int, Decimal] = {}
    errors: dict[str, list[str]] = {}
    for index, data in enumerate(lines):
        where = _("Line %(n)d") % {"n": index + 1}
        line_id = getattr(data.invoice_line, "pk", data.invoice_line)
        item = by_id.get(line_id) if isinstance(line_id, int) else None
        if item is None:
            errors[f"lines.{index}.invoice_line"] = [
                _("%(where)s: not a line of invoice %(number)s.")
                % {"where": where, "number": invoice.number}
            ]
            continue
        try:
            quantity = clean_decimal(
                data.quantity,
                field=f"lines.{index}.quantity",
                label=_("%(where)s, quantity") % {"where": where},
                decimal_places=3,
            )
        except InvalidInput as exc:
            errors.update(exc.errors)
            continue
        if line_id in chosen:
            errors[f"lines.{index}.invoice_line"] = [
                _("%(where)s: that invoice line is already in this credit note.") % {"where": where}
            ]
        elif quantity > item.quantity:
            errors[f"lines.{index}.quantity"] = [
                _("%(where)s, quantity: at most %(left)s of “%(line)s” is left to credit.")
                % {
                    "where": where,
                    "left": format_number(item.quantity),
                    "line": item.line.description,
                }
            ]
        elif quantity:
            chosen[line_id] = quantity
    if errors:
        raise InvalidInput(errors)
    if not chosen:
        raise InvalidInput.single(
            "lines", _("Lines: give a quantity to credit for at least one line.")
        )
    return chosen


def _save(note: CreditNote, credit: Credit) -> None:
    figures = credit.figures
    note.subtotal = figures.subtotal
    note.discount_total = figures.discount_total
    note.tax_total = figures.tax_total
    note.total = figures.total
    note.save()
    note.lines.all().delete()
    note.taxes.all().delete()
    for line in credit.lines:
        line.credit_note = note
    for tax in credit.taxes:
        tax.credit_note = note
    CreditNoteLine.objects.bulk_create(credit.lines)
    CreditNoteTax.objects.bulk_create(credit.taxes)


def _same_figures(figures: InvoiceFigures, other: InvoiceFigures) -> bool:
    return (
        figures.subtotal == other.subtotal
        and figures.discount_total == other.discount_total
        and [t.amount for t in figures.taxes] == [t.amount for t in other.taxes]
    )


def _lock(invoice_pk: int) -> Invoice:
    invoice = locking.lock_invoice(invoice_pk)
    return Invoice.objects.prefetch_related("taxes", "lines").get(pk=invoice.pk)


@operation
def create_credit_note(
    *,
    invoice: Invoice,
    acting_user: User | None,
    kind: str = CreditKind.FULL,
    lines: Sequence[CreditLineData] = (),
    amount: Any = None,
    reason: str = "",
) -> CreditNote:
    """A draft credit note of ``invoice``: all that remains, quantities of its ``lines``,
    or a gross ``amount``. It has the invoice's client, currency and tax set."""
    ensure_permitted(acting_user, "billing.add_creditnote", _("make credit notes"))
    if not isinstance(invoice, Invoice):
        raise InvalidInput.single("invoice", _("Invoice: choose an issued invoice."))
    invoice = _lock(invoice.pk)
    credit, asked = compute_credit(invoice, kind=kind, lines=lines, amount=amount)
    note = CreditNote(
        invoice=invoice,
        client=invoice.client,
        currency=invoice.currency,
        kind=kind,
        amount_asked=asked,
        tax_basis=invoice.tax_basis,
        reason=clean_text(reason or "", field="reason", label=_("Reason")),
        created_by=acting_user,
    )
    _save(note, credit)
    audit.created(note, RELATED)
    return note


def _lock_note(note_pk: int) -> tuple[Invoice, CreditNote]:
    """Lock the credit note's client and invoice, then the credit note (the lock order)."""
    invoice_id = CreditNote.objects.filter(pk=note_pk).values_list("invoice_id", flat=True).first()
    if invoice_id is None:
        raise NotFound(_("That credit note no longer exists."))
    invoice = _lock(invoice_id)
    note = CreditNote.objects.select_for_update().get(pk=note_pk)
    return invoice, note


def _asked_lines(note: CreditNote) -> list[CreditLineData]:
    return [
        CreditLineData(invoice_line=line.invoice_line_id, quantity=line.quantity)
        for line in note.lines.all()
    ]


def _check_draft(note: CreditNote) -> None:
    if not note.is_draft:
        raise InvalidTransition(
            _("Credit note %(number)s is issued: it never changes.") % {"number": note.number}
        )


@operation
def update_credit_note(
    *,
    credit_note: CreditNote,
    acting_user: User | None,
    kind: str = UNSET,
    lines: Sequence[CreditLineData] = UNSET,
    amount: Any = UNSET,
    reason: str = UNSET,
) -> CreditNote:
    """Change a draft credit note; its figures are computed again."""
    ensure_permitted(acting_user, "billing.change_creditnote", _("change credit notes"))
    requested = given(kind=kind, lines=lines, amount=amount, reason=reason)
    invoice, note = _lock_note(credit_note.pk)
    _check_draft(note)
    before = audit.snapshot(note, RELATED)
    kind = requested.get("kind", note.kind)
    credit, asked = compute_credit(
        invoice,
        kind=kind,
        lines=requested.get("lines", _asked_lines(note)),
        amount=requested.get("amount", note.amount_asked),
    )
    note.kind = kind
    note.amount_asked = asked
    if "reason" in requested:
        note.reason = clean_text(requested["reason"] or "", field="reason", label=_("Reason"))
    _save(note, credit)
    audit.changed(note, before, RELATED)
    return note


@operation
def delete_credit_note(*, credit_note: CreditNote, acting_user: User | None) -> None:
    """A draft credit note may be deleted; an issued one never changes."""
    ensure_permitted(acting_user, "billing.delete_creditnote", _("delete credit notes"))
    _invoice, note = _lock_note(credit_note.pk)
    _check_draft(note)
    audit.deleted(note, RELATED)
    note.delete()


@operation
def issue_credit_note(
    *, credit_note: CreditNote, acting_user: User | None, issue_date: Any = None
) -> CreditNote:
    """Number a draft credit note from its own gapless series and post it to the client's
    ledger (+total): its invoice's balance due falls, and what it credits beyond that
    becomes client credit. Computed again first against what the invoice has left to
    credit now, under the invoice's lock, so concurrent credit notes never credit more
    than the total."""
    ensure_permitted(acting_user, "billing.issue_creditnote", _("issue credit notes"))
    issue_date = clean_date(issue_date, field="issue_date", label=_("Issue date"), required=False)
    invoice, note = _lock_note(credit_note.pk)
    _check_draft(note)
    before = audit.snapshot(note, RELATED)
    settings = get_business_settings()
    today = business_today(settings)
    asked_lines = _asked_lines(note)
    if note.kind == CreditKind.LINES and any(line.invoice_line is None for line in asked_lines):
        raise InvalidTransition(
            _(
                "A line of invoice %(number)s this draft credits has changed since it was "
                "made: change the draft's lines, or delete it and make a new one."
            )
            % {"number": invoice.number}
        )
    credit, _asked = compute_credit(
        invoice, kind=note.kind, lines=asked_lines, amount=note.amount_asked
    )
    note.issue_date = issue_date or today
    _check_issue_date(note.issue_date, invoice=invoice, today=today)
    notes = _issued_notes(invoice)
    credit_note_base(
        note,
        credit.taxes,
        invoice=invoice,
        issued_notes=notes,
        takes_all_that_remains=_same_figures(credit.figures, _remaining(invoice, notes)),
        base_currency=settings.default_currency,
    )
    _save(note, credit)
    note.sequence = locking.next_in_series(COUNTER_NAME)
    note.number = f"{settings.credit_note_number_prefix}{note.sequence:04d}"
    note.status = CreditNoteStatus.ISSUED
    note.issued_at = timezone.now()
    note.issued_by = acting_user
    note.save()
    accounting.post(
        Event.CREDIT_NOTE_ISSUED,
        client=invoice.client,
        amount=note.total,
        invoice=invoice,
        credit_note=note,
        acting_user=acting_user,
        date=note.issue_date,
        values={"number": note.number, "invoice": invoice.number},
        today=today,
    )
    audit.changed(note, before, RELATED)
    return note


def _date(day: datetime.date | None) -> str:
    return formats.date_format(day) if day is not None else ""


def _check_issue_date(date: datetime.date, *, invoice: Invoice, today: datetime.date) -> None:
    assert invoice.issue_date is not None, "only issued invoices are credited"
    values = {
        "date": _date(date),
        "today": _date(today),
        "invoice": invoice.number,
        "issued": _date(invoice.issue_date),
    }
    if date > today:
        raise InvalidInput.single(
            "issue_date",
            _("Issue date: a credit note cannot be dated after today (%(today)s).") % values,
        )
    if date < invoice.issue_date:
        raise InvalidInput.single(
            "issue_date",
            _(
                "Issue date: a credit note cannot be dated before its invoice %(invoice)s "
                "(%(issued)s)."
            )
            % values,
        )
