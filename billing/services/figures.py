"""What an invoice is made of, as the operations take it: its lines and discount cleaned,
its figures computed (by billing.money, the one place money is computed), and the
snapshots its change history is written from."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol, TypeVar, overload

from django.core.exceptions import ValidationError
from django.utils import formats
from django.utils.translation import gettext as _

from otb.operations import InvalidInput, field_label
from settings_app.models import BusinessSettings, Tax
from settings_app.selectors import get_business_settings

from ..inputs import clean_decimal, require_minor_unit
from ..models import (
    DocumentLine,
    DocumentTax,
    Invoice,
    InvoiceLine,
    InvoiceTax,
    Service,
)
from ..money import (
    DISCOUNT_FIXED,
    DISCOUNT_NONE,
    DISCOUNT_PERCENT,
    MAX_AMOUNT,
    AmountTooLarge,
    LineInput,
    TaxInput,
    compute_invoice,
)
from ..rules import price_from_service, tax_set

MAX_QUANTITY = Decimal("99999999999.999")
MAX_UNIT_PRICE = Decimal("9999999999.9999")
MAX_LINES = 500

L = TypeVar("L", bound=DocumentLine)


@dataclass(frozen=True)
class LineData:
    """One invoice line as a caller gives it. With a ``service``, an empty description,
    unit, price or taxable flag is taken from the service."""

    description: str = ""
    quantity: Any = Decimal(1)
    unit_price: Any = None
    unit: str = ""
    discount_percent: Any = Decimal(0)
    taxable: bool | None = None
    service: Service | None = None
    # The labels of the document's taxes the line carries, when not all of them; None: the
    # service's taxes, or every tax of the document (SPEC: Several taxes).
    taxes: Sequence[str] | None = None


def document_taxes(
    client: Any, settings: BusinessSettings, *, default_set: Sequence[Tax] | None = None
) -> tuple[str, list[InvoiceTax]]:
    """The tax set a new document of ``client`` copies (``rules.tax_set``, with its
    ``default_set``): label, rate and registration number as they are today, which later
    settings never change."""
    basis, taxes = tax_set(client, settings, default_set=default_set)
    return basis, [
        InvoiceTax(tax=tax, label=tax.label, rate=tax.rate, number=tax.number) for tax in taxes
    ]


def copied_taxes(taxes: Iterable[DocumentTax]) -> list[InvoiceTax]:
    """Unsaved copies of a document's tax set, to compute figures on without touching it,
    or to give another document the same snapshot."""
    return [
        InvoiceTax(tax_id=tax.tax_id, label=tax.label, rate=tax.rate, number=tax.number)
        for tax in taxes
    ]


def _line_taxes(
    data: LineData, service: Service | None, taxes: Sequence[DocumentTax], where: str
) -> list[str] | None:
    """The labels of ``taxes`` a line carries, in the document's order; None for all."""
    labels = [tax.label for tax in taxes]
    if data.taxes is not None:
        if isinstance(data.taxes, str):
            raise InvalidInput.single(
                "taxes", _("%(where)s, taxes: give a list of labels.") % {"where": where}
            )
        unknown = [label for label in data.taxes if label not in labels]
        if unknown:
            raise InvalidInput.single(
                "taxes",
                _("%(where)s, taxes: “%(label)s” is not a tax of this document (%(taxes)s).")
                % {
                    "where": where,
                    "label": unknown[0],
                    "taxes": ", ".join(labels) or _("it has none"),
                },
            )
        chosen = set(data.taxes)
    elif service is not None and service.pk and (named := service_taxes(service)):
        chosen = {tax.label for tax in taxes if tax.tax_id in named}
    else:
        return None
    carried = [label for label in labels if label in chosen]
    return None if carried == labels else carried


def service_taxes(service: Service) -> set[int]:
    """The ids of the business's taxes ``service`` names (empty: it carries them all)."""
    prefetched = getattr(service, "_prefetched_objects_cache", {}).get("taxes")
    if prefetched is not None:
        return {tax.pk for tax in prefetched}
    return set(service.taxes.values_list("pk", flat=True))


@overload
def clean_lines(
    lines: Sequence[LineData],
    taxes: Sequence[DocumentTax] = (),
    *,
    currency: str,
    check_constraints: bool = True,
) -> list[InvoiceLine]: ...


@overload
def clean_lines(
    lines: Sequence[LineData],
    taxes: Sequence[DocumentTax] = (),
    *,
    currency: str,
    line_class: type[L],
    check_constraints: bool = True,
) -> list[L]: ...


def clean_lines(
    lines: Sequence[LineData],
    taxes: Sequence[DocumentTax] = (),
    *,
    currency: str,
    line_class: type[DocumentLine] = InvoiceLine,
    check_constraints: bool = True,
) -> list[Any]:
    """The lines of a document in ``currency`` whose tax set is ``taxes``, cleaned, as
    unsaved ``line_class`` (an invoice's or a quote's lines); each message names its line
    and field. A line of a service without a price typed takes the service's price in
    ``currency`` (``rules.price_from_service``).

    ``check_constraints=False`` leaves out the table's check constraints, which Django
    checks with a query each per line: for lines copied from ones already cleaned (a
    recurring schedule's template), whose fields' validators say the same in Python and
    which the database's own CHECK would refuse anyway."""
    if len(lines) > MAX_LINES:
        raise InvalidInput.single(
            "lines", _("Lines: a document can have at most %(n)d lines.") % {"n": MAX_LINES}
        )
    cleaned = []
    errors: dict[str, list[str]] = {}
    base_currency = None
    for index, data in enumerate(lines):
        where = _("Line %(n)d") % {"n": index + 1}
        service = data.service
        if service is not None and not isinstance(service, Service):
            errors[f"lines.{index}.service"] = [_("%(where)s: unknown service.") % {"where": where}]
            continue
        description = (data.description or "").strip() or (service.name if service else "")
        unit_price = data.unit_price
        if unit_price in (None, "") and service is not None:
            base_currency = base_currency or get_business_settings().default_currency
            unit_price = price_from_service(
                service, currency=currency, base_currency=base_currency
            ).unit_price
        taxable = data.taxable
        if taxable is None:
            taxable = service.taxable if service else True
        try:
            line = line_class(
                service=service,
                description=description,
                quantity=clean_decimal(
                    data.quantity,
                    field=f"lines.{index}.quantity",
                    label=_("%(where)s, quantity") % {"where": where},
                    decimal_places=3,
                    maximum=MAX_QUANTITY,
                ),
                unit=(data.unit or "").strip() or (service.unit if service else ""),
                unit_price=clean_decimal(
                    unit_price,
                    field=f"lines.{index}.unit_price",
                    label=_("%(where)s, unit price") % {"where": where},
                    decimal_places=4,
                    maximum=MAX_UNIT_PRICE,
                ),
                discount_percent=clean_decimal(
                    data.discount_percent if data.discount_percent not in (None, "") else 0,
                    field=f"lines.{index}.discount_percent",
                    label=_("%(where)s, discount") % {"where": where},
                    decimal_places=3,
                    maximum=Decimal(100),
                ),
                taxable=bool(taxable),
                position=index + 1,
            )
            line.taxes = _line_taxes(data, service, taxes, where)
            line.full_clean(
                exclude=["invoice", "quote", "schedule", "amount"],
                validate_constraints=check_constraints,
            )
        except InvalidInput as exc:
            errors.update(
                {
                    (f"lines.{index}.taxes" if key == "taxes" else key): messages
                    for key, messages in exc.errors.items()
                }
            )
            continue
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                label = field_label(line_class, field).lower()
                errors[f"lines.{index}.{field}"] = [
                    f"{where}, {label}: {message}" for message in messages
                ]
            continue
        cleaned.append(line)
    if errors:
        raise InvalidInput(errors)
    return cleaned


def clean_discount(
    kind: str, value: Any, currency: str, *, label: str | None = None
) -> tuple[str, Decimal]:
    """The document's one discount (percent or amount); ``label`` names it in a refusal
    (default "Invoice discount")."""
    label = label or _("Invoice discount")
    kind = kind or DISCOUNT_NONE
    if kind not in (DISCOUNT_NONE, DISCOUNT_PERCENT, DISCOUNT_FIXED):
        raise InvalidInput.single(
            "discount_kind",
            _("%(label)s: “%(kind)s” is not a kind of discount.") % {"label": label, "kind": kind},
        )
    if kind == DISCOUNT_NONE:
        return kind, Decimal("0.000")
    if kind == DISCOUNT_PERCENT:
        value = clean_decimal(
            value, field="discount_value", label=label, decimal_places=3, maximum=Decimal(100)
        )
    else:
        value = clean_decimal(
            value, field="discount_value", label=label, decimal_places=2, maximum=MAX_AMOUNT
        )
        require_minor_unit(value, currency, field="discount_value", label=label)
    return kind, value


class Figured(Protocol):
    """A document whose figures billing.money computes: an invoice, a quote."""

    currency: str
    discount_kind: str
    discount_value: Decimal
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    total: Decimal


def apply_figures(
    invoice: Figured,
    lines: Sequence[DocumentLine],
    taxes: Sequence[DocumentTax],
    settings: BusinessSettings | None = None,
    *,
    discount_label: str | None = None,
) -> None:
    """Compute every figure with billing.money and put it on the (unsaved) objects: each
    tax of the document's set on the lines that carry it. ``discount_label`` names the
    document's discount in a refusal (default "Invoice discount")."""
    positions = {tax.label: index for index, tax in enumerate(taxes)}
    try:
        figures = compute_invoice(
            lines=[
                LineInput(
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    discount_percent=line.discount_percent,
                    taxable=line.taxable,
                    taxes=None
                    if line.taxes is None
                    else frozenset(positions[label] for label in line.taxes if label in positions),
                )
                for line in lines
            ],
            currency=invoice.currency,
            taxes=[TaxInput(label=tax.label, rate=tax.rate, number=tax.number) for tax in taxes],
            discount_kind=invoice.discount_kind,
            discount_value=invoice.discount_value,
        )
    except AmountTooLarge as exc:
        raise InvalidInput.single("lines", _("Lines: %(problem)s") % {"problem": exc}) from None
    except ValueError:
        raise InvalidInput.single(
            "discount_value",
            _("%(label)s: cannot be more than the subtotal.")
            % {"label": discount_label or _("Invoice discount")},
        ) from None
    for line, amount in zip(lines, figures.line_amounts, strict=True):
        line.amount = amount
    for tax, tax_figures in zip(taxes, figures.taxes, strict=True):
        tax.base = tax_figures.base
        tax.amount = tax_figures.amount
    invoice.subtotal = figures.subtotal
    invoice.discount_total = figures.discount_total
    invoice.tax_total = figures.tax_total
    invoice.total = figures.total


def line_snapshot(line: DocumentLine) -> dict[str, Any]:
    return {
        "service": line.service.code if line.service is not None else None,
        "description": line.description,
        "quantity": str(line.quantity),
        "unit": line.unit,
        "unit_price": str(line.unit_price),
        "discount_percent": str(line.discount_percent),
        "taxable": line.taxable,
        "taxes": line.taxes,
        "amount": str(line.amount),
    }


def header_snapshot(invoice: Invoice) -> dict[str, Any]:
    return {
        "client": invoice.client.code,
        "currency": invoice.currency,
        "issue_date": invoice.issue_date.isoformat() if invoice.issue_date else None,
        "due_date": invoice.due_date.isoformat() if invoice.due_date else None,
        "notes": invoice.notes,
        "terms": invoice.terms,
        "discount_kind": invoice.discount_kind,
        "discount_value": str(invoice.discount_value),
        "subtotal": str(invoice.subtotal),
        "discount_total": str(invoice.discount_total),
        "tax_total": str(invoice.tax_total),
        "total": str(invoice.total),
    }


def check_dates(issue_date: datetime.date | None, due_date: datetime.date | None) -> None:
    if issue_date and due_date and due_date < issue_date:
        raise InvalidInput.single(
            "due_date",
            _("Due date: cannot be before the issue date (%(date)s).")
            % {"date": formats.date_format(issue_date)},
        )
