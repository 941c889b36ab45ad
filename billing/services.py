"""The operations of billing: every write to clients, services, invoices and payments.

Each is one function, one transaction (``@operation``), used by every caller: the admin, the
pages, the commands and the API. Each re-reads the rows it changes with ``select_for_update``,
checks the rule of SPEC.md, changes state, posts the ledger entry, records who did it, and
raises ``DomainError`` (nothing changed) when the rule refuses.

Rows are locked in one fixed order, so two operations can never wait on each other in a
circle: client(s) by ascending id, then the invoice, then the payment, then the number
counter.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ledger.events import Event
from ledger.models import LedgerEntry
from otb.operations import InvalidInput, StaleRead, ensure_permitted, operation
from settings_app.selectors import business_today, get_business_settings

from . import accounting
from .errors import CreditInsufficient, InvalidTransition, InvoiceLocked, NotFound
from .inputs import clean_amount, clean_date, clean_decimal, require_minor_unit
from .models import (
    Client,
    Invoice,
    InvoiceChange,
    InvoiceLine,
    InvoiceNumberCounter,
    InvoiceTax,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Service,
)
from .money import (
    DISCOUNT_FIXED,
    DISCOUNT_NONE,
    DISCOUNT_PERCENT,
    MAX_AMOUNT,
    AmountTooLarge,
    LineInput,
    TaxInput,
    compute_invoice,
)
from .rules import (
    LOCKED_FIELDS,
    check_client_credit,
    derive_status,
    invoice_lock_reason,
    payment_event,
    tax_applies,
)
from .selectors import available_credit

__all__ = [  # the rules and errors callers have always found here
    "CreditInsufficient",
    "InvalidTransition",
    "InvoiceLocked",
    "NotFound",
    "derive_status",
    "invoice_lock_reason",
    "tax_applies",
]

COUNTER_NAME = "invoice"
MAX_QUANTITY = Decimal("99999999999.999")
MAX_UNIT_PRICE = Decimal("9999999999.9999")
MAX_LINES = 500


# --- Inputs -----------------------------------------------------------------------------
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


_UNSET: Any = object()


def _clean_lines(lines: Sequence[LineData]) -> list[InvoiceLine]:
    if len(lines) > MAX_LINES:
        raise InvalidInput.single(
            "lines", _("An invoice can have at most %(n)d lines.") % {"n": MAX_LINES}
        )
    cleaned = []
    errors: dict[str, list[str]] = {}
    for index, data in enumerate(lines):
        where = _("Line %(n)d") % {"n": index + 1}
        service = data.service
        if service is not None and not isinstance(service, Service):
            errors[f"lines.{index}.service"] = [_("%(where)s: unknown service.") % {"where": where}]
            continue
        description = (data.description or "").strip() or (service.name if service else "")
        unit_price = data.unit_price
        if unit_price in (None, "") and service is not None:
            unit_price = service.unit_price
        taxable = data.taxable
        if taxable is None:
            taxable = service.taxable if service else True
        try:
            line = InvoiceLine(
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
            line.full_clean(exclude=["invoice", "amount"])
        except InvalidInput as exc:
            errors.update(exc.errors)
            continue
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                label = InvoiceLine._meta.get_field(field).verbose_name
                errors[f"lines.{index}.{field}"] = [
                    f"{where}, {label}: {message}" for message in messages
                ]
            continue
        cleaned.append(line)
    if errors:
        raise InvalidInput(errors)
    return cleaned


def _clean_discount(kind: str, value, currency: str) -> tuple[str, Decimal]:
    kind = kind or DISCOUNT_NONE
    if kind not in (DISCOUNT_NONE, DISCOUNT_PERCENT, DISCOUNT_FIXED):
        raise InvalidInput.single(
            "discount_kind",
            _("Invoice discount: “%(kind)s” is not a kind of discount.") % {"kind": kind},
        )
    if kind == DISCOUNT_NONE:
        return kind, Decimal("0.000")
    label = _("Invoice discount")
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


def _clean_text(value, *, field: str, label: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput.single(field, _("%(label)s: must be text.") % {"label": label})
    if len(value) > 20000:
        raise InvalidInput.single(
            field, _("%(label)s: at most 20000 characters.") % {"label": label}
        )
    return value


def _full_clean(instance, **kwargs) -> None:
    try:
        instance.full_clean(**kwargs)
    except ValidationError as exc:
        raise InvalidInput.from_validation_error(exc, type(instance)) from None


# --- Clients and services ---------------------------------------------------------------
def _save_unique_code(instance) -> None:
    """Save a client or service. full_clean checked the code is free, but another request
    may have taken it since: the unique index then refuses, and that is the user's answer
    too, not a server error."""
    try:
        with transaction.atomic():  # a savepoint: the outer transaction stays usable
            instance.save()
    except IntegrityError:
        label = _label_of(instance, "code")
        raise InvalidInput.single(
            "code",
            _("%(label)s: %(code)s is already taken.") % {"label": label, "code": instance.code},
        ) from None


def _label_of(instance, field: str) -> str:
    return str(instance._meta.get_field(field).verbose_name).capitalize()


CLIENT_FIELDS = {
    "code",
    "name",
    "contact_person",
    "email",
    "phone",
    "address",
    "country",
    "tax_exempt",
    "default_currency",
    "notes",
    "is_active",
}
SERVICE_FIELDS = {"code", "name", "description", "unit", "unit_price", "taxable", "is_active"}


def _check_fields(fields: dict, allowed: set[str]) -> None:
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"unknown fields: {', '.join(sorted(unknown))}")


def _normalise_client_fields(fields: dict) -> dict:
    for key in ("code", "country", "default_currency"):
        if isinstance(fields.get(key), str):
            fields[key] = fields[key].strip().upper()
    return fields


@operation
def create_client(*, acting_user, **fields) -> Client:
    ensure_permitted(acting_user, "billing.add_client", _("add clients"))
    _check_fields(fields, CLIENT_FIELDS)
    fields = _normalise_client_fields(fields)
    if not fields.get("default_currency"):
        fields["default_currency"] = get_business_settings().default_currency
    client = Client(**fields)
    _full_clean(client)
    _save_unique_code(client)
    return client


@operation
def update_client(*, client: Client, acting_user, **fields) -> Client:
    ensure_permitted(acting_user, "billing.change_client", _("change clients"))
    _check_fields(fields, CLIENT_FIELDS)
    fields = _normalise_client_fields(fields)
    client = _lock_clients([client.pk])[0]
    new_currency = fields.get("default_currency", client.default_currency)
    if new_currency != client.default_currency and (
        client.invoices.exists() or client.payments.exists() or client.ledger_entries.exists()
    ):
        raise InvalidInput.single(
            "default_currency",
            _(
                "Currency: %(code)s already has invoices, payments or ledger entries in "
                "%(currency)s; its account stays in that currency."
            )
            % {"code": client.code, "currency": client.default_currency},
        )
    for key, value in fields.items():
        setattr(client, key, value)
    _full_clean(client)
    _save_unique_code(client)
    return client


@operation
def create_service(*, acting_user, **fields) -> Service:
    ensure_permitted(acting_user, "billing.add_service", _("add services"))
    _check_fields(fields, SERVICE_FIELDS)
    if isinstance(fields.get("code"), str):
        fields["code"] = fields["code"].strip().upper()
    if "unit_price" in fields:
        fields["unit_price"] = clean_decimal(
            fields["unit_price"],
            field="unit_price",
            label=_("Default unit price"),
            decimal_places=4,
            maximum=MAX_UNIT_PRICE,
        )
    service = Service(**fields)
    _full_clean(service)
    _save_unique_code(service)
    return service


@operation
def update_service(*, service: Service, acting_user, **fields) -> Service:
    ensure_permitted(acting_user, "billing.change_service", _("change services"))
    _check_fields(fields, SERVICE_FIELDS)
    service = Service.objects.select_for_update().get(pk=service.pk)
    if isinstance(fields.get("code"), str):
        fields["code"] = fields["code"].strip().upper()
    if "unit_price" in fields:
        fields["unit_price"] = clean_decimal(
            fields["unit_price"],
            field="unit_price",
            label=_("Default unit price"),
            decimal_places=4,
            maximum=MAX_UNIT_PRICE,
        )
    for key, value in fields.items():
        setattr(service, key, value)
    _full_clean(service)
    _save_unique_code(service)
    return service


# --- Locking and reading ----------------------------------------------------------------
def _lock_clients(client_ids) -> list[Client]:
    """Lock clients in ascending id order (the first step of the lock order)."""
    ids = sorted({int(pk) for pk in client_ids})
    clients = list(Client.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    if len(clients) != len(ids):
        raise NotFound(_("That client no longer exists."))
    return clients


def _lock_invoice(invoice_pk, *, also_clients=()) -> Invoice:
    """Lock the invoice's client (and ``also_clients``), then the invoice."""
    try:
        client_id = Invoice.objects.values_list("client_id", flat=True).get(pk=invoice_pk)
    except Invoice.DoesNotExist:
        raise NotFound(_("That invoice no longer exists.")) from None
    _lock_clients([client_id, *also_clients])
    invoice = Invoice.objects.select_for_update().select_related("client").get(pk=invoice_pk)
    if invoice.client_id != client_id:
        # Moved to another client between the read and the locks. Locking that client now,
        # after the invoice, would break the lock order (clients, then invoices) and could
        # deadlock with an operation that keeps it; the operation starts over instead, and
        # reads the new client before it locks anything.
        raise StaleRead(f"invoice {invoice_pk} moved to another client")
    return invoice


def _apply_figures(invoice: Invoice, lines: list[InvoiceLine], taxes: list[InvoiceTax], settings):
    """Compute every figure with billing.money and put it on the (unsaved) objects.

    A draft decides again whether tax applies: its client or the settings may have changed
    since it was saved. An issued invoice keeps the decision it was issued with."""
    if invoice.number is None:
        invoice.tax_applied = tax_applies(invoice.client, settings)
    try:
        figures = compute_invoice(
            lines=[
                LineInput(
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    discount_percent=line.discount_percent,
                    taxable=line.taxable,
                )
                for line in lines
            ],
            currency=invoice.currency,
            taxes=[TaxInput(label=tax.label, rate=tax.rate) for tax in taxes],
            tax_applies=invoice.tax_applied,
            discount_kind=invoice.discount_kind,
            discount_value=invoice.discount_value,
        )
    except AmountTooLarge as exc:
        raise InvalidInput.single("lines", _("Lines: %(problem)s") % {"problem": exc}) from None
    except ValueError:
        raise InvalidInput.single(
            "discount_value",
            _("Invoice discount: cannot be more than the subtotal."),
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


def _line_snapshot(line: InvoiceLine) -> dict:
    return {
        "service": line.service.code if line.service_id else None,
        "description": line.description,
        "quantity": str(line.quantity),
        "unit": line.unit,
        "unit_price": str(line.unit_price),
        "discount_percent": str(line.discount_percent),
        "taxable": line.taxable,
        "amount": str(line.amount),
    }


def _header_snapshot(invoice: Invoice) -> dict:
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


# --- Invoices ---------------------------------------------------------------------------
@operation
def create_draft(
    *,
    client: Client,
    acting_user,
    lines: Sequence[LineData] = (),
    notes: str = "",
    terms: str | None = None,
    discount_kind: str = DISCOUNT_NONE,
    discount_value: Any = 0,
    issue_date: Any = None,
    due_date: Any = None,
) -> Invoice:
    """A new draft for ``client``, in the client's currency, with the tax label and rate of
    today's settings copied onto it (later settings changes never touch it)."""
    ensure_permitted(acting_user, "billing.add_invoice", _("create invoices"))
    if not isinstance(client, Client):
        raise InvalidInput.single("client", _("Client: choose a client."))
    settings = get_business_settings()
    cleaned_lines = _clean_lines(lines)
    discount_kind, discount_value = _clean_discount(
        discount_kind, discount_value, client.default_currency
    )
    issue_date = clean_date(issue_date, field="issue_date", label=_("Issue date"), required=False)
    due_date = clean_date(due_date, field="due_date", label=_("Due date"), required=False)
    _check_dates(issue_date, due_date)
    client = _lock_clients([client.pk])[0]
    if not client.is_active:
        raise InvalidInput.single(
            "client", _("Client: %(code)s is inactive.") % {"code": client.code}
        )
    invoice = Invoice(
        client=client,
        currency=client.default_currency,
        notes=_clean_text(notes or "", field="notes", label=_("Notes")),
        terms=_clean_text(
            settings.payment_terms_text if terms is None else terms,
            field="terms",
            label=_("Payment terms"),
        ),
        discount_kind=discount_kind,
        discount_value=discount_value,
        issue_date=issue_date,
        due_date=due_date,
        created_by=acting_user,
    )
    taxes = _taxes_from_settings(settings)
    _apply_figures(invoice, cleaned_lines, taxes, settings)
    invoice.save()
    for line in cleaned_lines:
        line.invoice = invoice
    InvoiceLine.objects.bulk_create(cleaned_lines)
    for position, tax in enumerate(taxes, start=1):
        tax.invoice = invoice
        tax.position = position
    InvoiceTax.objects.bulk_create(taxes)
    return invoice


def _taxes_from_settings(settings) -> list[InvoiceTax]:
    """The tax a new invoice copies from today's settings (none when the rate is 0)."""
    if settings.tax_rate > 0:
        return [InvoiceTax(label=settings.tax_label or _("Tax"), rate=settings.tax_rate)]
    return []


def preview_invoice(
    *,
    client: Client,
    lines: Sequence[LineData],
    discount_kind: str = DISCOUNT_NONE,
    discount_value: Any = 0,
    invoice: Invoice | None = None,
) -> dict:
    """The figures a new draft (or ``invoice`` after an edit) would get, by the same rules and
    the same function as saving, without saving anything: the invoice form's live totals.
    Raises InvalidInput like create_draft would."""
    if not isinstance(client, Client):
        raise InvalidInput.single("client", _("Client: choose a client."))
    settings = get_business_settings()
    kind, value = _clean_discount(discount_kind, discount_value, client.default_currency)
    draft = Invoice(
        client=client, currency=client.default_currency, discount_kind=kind, discount_value=value
    )
    if invoice is not None and invoice.number is not None:
        # An issued invoice being edited: its figures follow its own tax decision.
        draft.number, draft.tax_applied = invoice.number, invoice.tax_applied
    cleaned_lines = _clean_lines(lines)
    if invoice is not None:
        taxes = [InvoiceTax(label=tax.label, rate=tax.rate) for tax in invoice.taxes.all()]
    else:
        taxes = _taxes_from_settings(settings)
    _apply_figures(draft, cleaned_lines, taxes, settings)
    return {
        "currency": draft.currency,
        "lines": [line.amount for line in cleaned_lines],
        "subtotal": draft.subtotal,
        "discount_total": draft.discount_total,
        "taxes": [
            {"label": tax.label, "rate": tax.rate, "base": tax.base, "amount": tax.amount}
            for tax in taxes
        ],
        "total": draft.total,
    }


def _check_dates(issue_date, due_date) -> None:
    if issue_date and due_date and due_date < issue_date:
        raise InvalidInput.single(
            "due_date",
            _("Due date: cannot be before the issue date (%(date)s).")
            % {"date": issue_date.isoformat()},
        )


@operation
def update_invoice(
    *,
    invoice: Invoice,
    acting_user,
    client: Client = _UNSET,
    lines: Sequence[LineData] = _UNSET,
    notes: str = _UNSET,
    terms: str = _UNSET,
    discount_kind: str = _UNSET,
    discount_value: Any = _UNSET,
    issue_date: Any = _UNSET,
    due_date: Any = _UNSET,
) -> Invoice:
    """Change a draft, or an issued invoice that is not locked. On an issued invoice every
    change is recorded with its old and new value, and a change of total is posted to the
    client's ledger. Notes and terms may change even on a locked invoice."""
    ensure_permitted(acting_user, "billing.change_invoice", _("change invoices"))
    requested = {
        name: value
        for name, value in {
            "client": client,
            "lines": lines,
            "notes": notes,
            "terms": terms,
            "discount_kind": discount_kind,
            "discount_value": discount_value,
            "issue_date": issue_date,
            "due_date": due_date,
        }.items()
        if value is not _UNSET
    }
    if "client" in requested and not isinstance(requested["client"], Client):
        raise InvalidInput.single("client", _("Client: choose a client."))
    new_client = requested.get("client")
    invoice = _lock_invoice(invoice.pk, also_clients=[new_client.pk] if new_client else [])
    settings = get_business_settings()
    old_header = _header_snapshot(invoice)
    old_lines = [_line_snapshot(line) for line in invoice.lines.select_related("service")]
    old_client = invoice.client

    if "lines" in requested:
        new_lines = _clean_lines(requested["lines"])
        if not new_lines and not invoice.is_draft:
            raise InvalidInput.single(
                "lines",
                _("Lines: an issued invoice keeps at least one line; cancel it instead."),
            )
        if [_line_snapshot(line) | {"amount": None} for line in new_lines] == [
            old | {"amount": None} for old in old_lines
        ]:
            del requested["lines"]
    if new_client is not None and new_client.pk == invoice.client_id:
        del requested["client"]
    for field in ("issue_date", "due_date", "discount_kind", "discount_value"):
        if field in requested and requested[field] == getattr(invoice, field):
            del requested[field]

    touched_locked = [field for field in LOCKED_FIELDS if field in requested]
    if touched_locked:
        reason = invoice_lock_reason(invoice, settings)
        if reason:
            raise InvoiceLocked(reason, field=touched_locked[0])

    if "client" in requested:
        new_client = Client.objects.get(pk=new_client.pk)
        if not new_client.is_active:
            raise InvalidInput.single(
                "client", _("Client: %(code)s is inactive.") % {"code": new_client.code}
            )
        if new_client.default_currency != invoice.currency:
            # The prices were typed in the invoice's currency; they would become other money.
            raise InvalidInput.single(
                "client",
                _(
                    "Client: %(code)s is billed in %(other)s and this invoice is in "
                    "%(currency)s; make a new invoice for %(code)s."
                )
                % {
                    "code": new_client.code,
                    "other": new_client.default_currency,
                    "currency": invoice.currency,
                },
            )
        invoice.client = new_client
    if "notes" in requested:
        invoice.notes = _clean_text(requested["notes"] or "", field="notes", label=_("Notes"))
    if "terms" in requested:
        invoice.terms = _clean_text(requested["terms"] or "", field="terms", label=_("Terms"))
    if "discount_kind" in requested or "discount_value" in requested:
        invoice.discount_kind, invoice.discount_value = _clean_discount(
            requested.get("discount_kind", invoice.discount_kind),
            requested.get("discount_value", invoice.discount_value),
            invoice.currency,
        )
    for field, label in (("issue_date", _("Issue date")), ("due_date", _("Due date"))):
        if field in requested:
            value = clean_date(
                requested[field], field=field, label=label, required=not invoice.is_draft
            )
            setattr(invoice, field, value)
    _check_dates(invoice.issue_date, invoice.due_date)

    line_objects = new_lines if "lines" in requested else list(invoice.lines.all())
    old_total = invoice.total
    # Figures are computed again only when what they are made of changes: a note on a paid,
    # locked or cancelled invoice must not re-decide its tax from today's client and settings.
    if any(field in requested for field in ("client", "lines", "discount_kind", "discount_value")):
        taxes = list(invoice.taxes.all())
        _apply_figures(invoice, line_objects, taxes, settings)
        InvoiceTax.objects.bulk_update(taxes, ["base", "amount"])
    if invoice.is_draft:
        invoice.save()
    if "lines" in requested:
        invoice.lines.all().delete()
        for line in line_objects:
            line.invoice = invoice
        InvoiceLine.objects.bulk_create(line_objects)

    if not invoice.is_draft:
        _record_change(
            invoice=invoice,
            acting_user=acting_user,
            old_header=old_header,
            old_lines=old_lines,
            new_lines=[_line_snapshot(line) for line in line_objects],
        )
        _post_change(
            invoice=invoice,
            old_client=old_client,
            old_total=old_total,
            acting_user=acting_user,
            today=business_today(settings),
        )
    return invoice


def _record_change(*, invoice, acting_user, old_header, old_lines, new_lines) -> None:
    new_header = _header_snapshot(invoice)
    changes = {
        field: {"old": old_header[field], "new": new_header[field]}
        for field in new_header
        if old_header[field] != new_header[field]
    }
    if old_lines != new_lines:
        changes["lines"] = {"old": old_lines, "new": new_lines}
    if changes:
        InvoiceChange.objects.create(invoice=invoice, changed_by=acting_user, changes=changes)


def _post_change(*, invoice, old_client, old_total, acting_user, today) -> None:
    """Post what the change did to what the client owes: the total moved between clients,
    or the difference on the same client (nothing when the total stayed; the event still
    saves the invoice and its status and spans, which the dates may have changed)."""
    if old_client.pk != invoice.client_id:
        accounting.post(
            Event.INVOICE_MOVED_AWAY,
            client=old_client,
            amount=old_total,
            invoice=invoice,
            acting_user=acting_user,
            date=today,
            values={"number": invoice.number, "code": invoice.client.code},
            today=today,
        )
        accounting.post(
            Event.INVOICE_MOVED_HERE,
            client=invoice.client,
            amount=-invoice.total,
            invoice=invoice,
            acting_user=acting_user,
            date=today,
            values={"number": invoice.number, "code": old_client.code},
            today=today,
        )
    else:
        accounting.post(
            Event.INVOICE_CHANGED,
            client=invoice.client,
            amount=-(invoice.total - old_total),
            invoice=invoice,
            acting_user=acting_user,
            date=today,
            values={"number": invoice.number, "old": old_total, "new": invoice.total},
            today=today,
        )


@operation
def delete_draft(*, invoice: Invoice, acting_user) -> None:
    """Drafts may be deleted; issued invoices never are (they are cancelled)."""
    ensure_permitted(acting_user, "billing.delete_invoice", _("delete invoices"))
    invoice = _lock_invoice(invoice.pk)
    if not invoice.is_draft:
        raise InvalidTransition(
            _("Invoice %(number)s is issued: it can be cancelled, never deleted.")
            % {"number": invoice.number}
        )
    invoice.delete()


@operation
def issue_invoice(
    *, invoice: Invoice, acting_user, issue_date: Any = None, due_date: Any = None
) -> Invoice:
    """Give a draft the next number, its dates, and post it to the client's ledger.

    Numbers are gapless and unique under any concurrency: the counter row is locked with
    SELECT ... FOR UPDATE inside this transaction, so a second issuer waits until the first
    commits (and then reads its number) or rolls back (and the number is given again).
    """
    ensure_permitted(acting_user, "billing.issue_invoice", _("issue invoices"))
    issue_date = clean_date(issue_date, field="issue_date", label=_("Issue date"), required=False)
    due_date = clean_date(due_date, field="due_date", label=_("Due date"), required=False)
    invoice = _lock_invoice(invoice.pk)
    settings = get_business_settings()
    if not invoice.is_draft:
        raise InvalidTransition(
            _("Invoice %(number)s is already issued.") % {"number": invoice.number}
        )
    if not invoice.client.is_active:
        raise InvalidInput.single(
            "client", _("Client: %(code)s is inactive.") % {"code": invoice.client.code}
        )
    lines = list(invoice.lines.all())
    if not lines:
        raise InvalidTransition(_("Add at least one line before issuing the invoice."))
    today = business_today(settings)
    invoice.issue_date = issue_date or invoice.issue_date or today
    invoice.due_date = (
        due_date
        or (
            invoice.due_date
            if invoice.due_date and invoice.due_date >= invoice.issue_date
            else None
        )
        or invoice.issue_date + datetime.timedelta(days=settings.payment_terms_days)
    )
    _check_dates(invoice.issue_date, invoice.due_date)
    # The client may have changed country or tax status since the draft was saved: the
    # figures are computed again, and the rows written only where they changed.
    taxes = list(invoice.taxes.all())
    saved_lines = [line.amount for line in lines]
    saved_taxes = [(tax.base, tax.amount) for tax in taxes]
    _apply_figures(invoice, lines, taxes, settings)
    changed_lines = [
        line for line, old in zip(lines, saved_lines, strict=True) if line.amount != old
    ]
    if changed_lines:
        InvoiceLine.objects.bulk_update(changed_lines, ["amount"])
    changed_taxes = [
        tax for tax, old in zip(taxes, saved_taxes, strict=True) if (tax.base, tax.amount) != old
    ]
    if changed_taxes:
        InvoiceTax.objects.bulk_update(changed_taxes, ["base", "amount"])

    counter = InvoiceNumberCounter.objects.select_for_update().get(name=COUNTER_NAME)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    invoice.sequence = counter.last_number
    invoice.number = f"{settings.invoice_number_prefix}{counter.last_number:04d}"
    invoice.issued_at = timezone.now()
    invoice.issued_by = acting_user
    accounting.post(
        Event.INVOICE_ISSUED,
        client=invoice.client,
        amount=-invoice.total,
        invoice=invoice,
        acting_user=acting_user,
        date=invoice.issue_date,
        values={"number": invoice.number},
        today=today,
    )
    return invoice


@operation
def cancel_invoice(*, invoice: Invoice, acting_user, reason: str = "") -> Invoice:
    """Cancel an issued invoice that has no payment left (its number is never reused)."""
    ensure_permitted(acting_user, "billing.cancel_invoice", _("cancel invoices"))
    invoice = _lock_invoice(invoice.pk)
    if invoice.is_draft:
        raise InvalidTransition(_("A draft is not cancelled: delete it instead."))
    reason_locked = invoice_lock_reason(invoice)
    if reason_locked:
        raise InvoiceLocked(reason_locked)
    invoice.cancelled_at = timezone.now()
    invoice.cancelled_by = acting_user
    invoice.cancel_reason = _clean_text(reason or "", field="reason", label=_("Reason"))
    accounting.post(
        Event.INVOICE_CANCELLED,
        client=invoice.client,
        amount=invoice.total,
        invoice=invoice,
        acting_user=acting_user,
        values={"number": invoice.number},
    )
    return invoice


@operation
def refresh_overdue(*, today: datetime.date | None = None) -> int:
    """Move issued invoices whose due date has passed to overdue. Idempotent."""
    return accounting.mark_overdue(today=today or business_today())


# --- Payments ---------------------------------------------------------------------------
def _check_credit(*, client: Client, invoice: Invoice, amount: Decimal) -> None:
    check_client_credit(
        client_code=client.code,
        amount=amount,
        balance_due=invoice.balance_due,
        available=available_credit(client),
    )


def _payment_values(payment: Payment, *, reason: str = "") -> dict[str, str]:
    return {
        "method": payment.get_method_display(),
        "reference": f" {payment.reference}" if payment.reference else "",
        "where": payment.invoice.number if payment.invoice_id else _("account"),
        "reason": reason,
    }


def _post_payment(payment: Payment, *, acting_user, reversing: bool = False) -> None:
    """Confirming a payment, or reversing a confirmed one, is a money event."""
    accounting.post(
        payment_event(payment, reversing=reversing),
        client=payment.client,
        amount=-payment.amount if reversing else payment.amount,
        invoice=payment.invoice,
        payment=payment,
        acting_user=acting_user,
        date=None if reversing else payment.date,
        values=_payment_values(payment, reason=payment.reversal_reason),
    )


@operation
def record_payment(
    *,
    amount: Any,
    date: Any,
    method: str,
    acting_user,
    client: Client | None = None,
    invoice: Invoice | None = None,
    reference: str = "",
    note: str = "",
    confirmed: bool = True,
) -> Payment:
    """Record money received, for an invoice or (without one) as credit on the account.

    Recorded as pending or directly as confirmed; only confirmed payments count as paid. A
    payment above the balance due pays the invoice in full; the rest is credit. Method
    "client credit" draws on that credit and is refused, pending or confirmed, when too
    little is available.
    """
    ensure_permitted(acting_user, "billing.add_payment", _("record payments"))
    if confirmed:
        ensure_permitted(acting_user, "billing.confirm_payment", _("confirm payments"))
    amount = clean_amount(amount)
    date = clean_date(date, field="date", label=_("Date"))
    if method not in PaymentMethod.values:
        raise InvalidInput.single(
            "method", _("Method: “%(method)s” is not a payment method.") % {"method": method}
        )
    reference = _clean_text(reference or "", field="reference", label=_("Reference"))
    if len(reference) > 200:
        raise InvalidInput.single("reference", _("Reference: at most 200 characters."))
    note = _clean_text(note or "", field="note", label=_("Note"))
    if invoice is None and client is None:
        raise InvalidInput.single("client", _("Client: choose a client or an invoice."))
    if invoice is not None and not isinstance(invoice, Invoice):
        raise InvalidInput.single("invoice", _("Invoice: choose an invoice."))
    if client is not None and not isinstance(client, Client):
        raise InvalidInput.single("client", _("Client: choose a client."))
    if method == PaymentMethod.CLIENT_CREDIT and invoice is None:
        raise InvalidInput.single(
            "invoice", _("Invoice: a payment from client credit must pay an invoice.")
        )

    if invoice is not None:
        invoice = _lock_invoice(invoice.pk)
        if client is not None and client.pk != invoice.client_id:
            raise InvalidInput.single(
                "invoice",
                _("Invoice: %(number)s belongs to %(code)s, not to %(other)s.")
                % {"number": invoice, "code": invoice.client.code, "other": client.code},
            )
        client = invoice.client
        if invoice.is_draft:
            raise InvalidTransition(_("Issue the invoice before recording a payment on it."))
        if invoice.is_cancelled:
            raise InvalidTransition(
                _("Invoice %(number)s is cancelled: it cannot be paid.")
                % {"number": invoice.number}
            )
        if invoice.balance_due <= 0:
            raise InvalidTransition(
                _(
                    "Invoice %(number)s is already paid. Record the payment without an invoice "
                    "to put it on the client's account as credit."
                )
                % {"number": invoice.number}
            )
    else:
        client = _lock_clients([client.pk])[0]
    require_minor_unit(amount, client.default_currency, field="amount", label=_("Amount"))
    if method == PaymentMethod.CLIENT_CREDIT:
        _check_credit(client=client, invoice=invoice, amount=amount)

    now = timezone.now()
    payment = Payment.objects.create(
        client=client,
        invoice=invoice,
        amount=amount,
        date=date,
        method=method,
        reference=reference,
        note=note,
        status=PaymentStatus.CONFIRMED if confirmed else PaymentStatus.PENDING,
        created_by=acting_user,
        confirmed_at=now if confirmed else None,
        confirmed_by=acting_user if confirmed else None,
    )
    if confirmed:
        _post_payment(payment, acting_user=acting_user)
    return payment


def _lock_payment(payment_pk) -> Payment:
    """Lock the payment's client, its invoice, then the payment."""
    try:
        row = Payment.objects.values("client_id", "invoice_id").get(pk=payment_pk)
    except Payment.DoesNotExist:
        raise NotFound(_("That payment no longer exists.")) from None
    _lock_clients([row["client_id"]])
    if row["invoice_id"]:
        Invoice.objects.select_for_update().filter(pk=row["invoice_id"]).first()
    return (
        Payment.objects.select_for_update().select_related("client", "invoice").get(pk=payment_pk)
    )


@operation
def confirm_payment(*, payment: Payment, acting_user) -> Payment:
    """Confirm a pending payment: from now on it counts as paid."""
    ensure_permitted(acting_user, "billing.confirm_payment", _("confirm payments"))
    payment = _lock_payment(payment.pk)
    if payment.status == PaymentStatus.REVERSED:
        raise InvalidTransition(_("A reversed payment cannot be confirmed again."))
    if payment.status == PaymentStatus.CONFIRMED:
        raise InvalidTransition(_("This payment is already confirmed."))
    if payment.method == PaymentMethod.CLIENT_CREDIT:
        _check_credit(client=payment.client, invoice=payment.invoice, amount=payment.amount)
    payment.status = PaymentStatus.CONFIRMED
    payment.confirmed_at = timezone.now()
    payment.confirmed_by = acting_user
    payment.save(update_fields=["status", "confirmed_at", "confirmed_by"])
    _post_payment(payment, acting_user=acting_user)
    return payment


@operation
def reverse_payment(*, payment: Payment, reason: str, acting_user) -> Payment:
    """Mark a payment reversed (bounced cheque, charge-back, mistake); it is never deleted."""
    ensure_permitted(acting_user, "billing.reverse_payment", _("reverse payments"))
    reason = _clean_text(reason or "", field="reason", label=_("Reason")).strip()
    if not reason:
        raise InvalidInput.single("reason", _("Reason: say why the payment is reversed."))
    payment = _lock_payment(payment.pk)
    if payment.status == PaymentStatus.REVERSED:
        raise InvalidTransition(_("This payment is already reversed."))
    was_confirmed = payment.status == PaymentStatus.CONFIRMED
    payment.status = PaymentStatus.REVERSED
    payment.reversed_at = timezone.now()
    payment.reversed_by = acting_user
    payment.reversal_reason = reason
    payment.save(update_fields=["status", "reversed_at", "reversed_by", "reversal_reason"])
    if was_confirmed:
        # A pending payment never counted: reversing it changes nothing of the books.
        _post_payment(payment, acting_user=acting_user, reversing=True)
    return payment


@operation
def apply_client_credit(
    *, invoice: Invoice, acting_user, amount: Any = None, date: Any = None
) -> Payment:
    """Pay ``invoice`` from the client's credit: ``amount``, or as much as the credit and
    the balance due allow."""
    if amount is None:
        locked = _lock_invoice(invoice.pk)
        amount = min(available_credit(locked.client), locked.balance_due)
        if amount <= 0:
            raise CreditInsufficient(
                _("Client %(code)s has no credit available.") % {"code": locked.client.code}
            )
    return record_payment(
        invoice=invoice,
        amount=amount,
        date=date or business_today(),
        method=PaymentMethod.CLIENT_CREDIT,
        acting_user=acting_user,
        confirmed=True,
    )


# --- Manual ledger entries --------------------------------------------------------------
MEMO_MAX_LENGTH = LedgerEntry._meta.get_field("memo").max_length


def _post_manual(*, client, amount, memo, acting_user, date, event: str, sign: int):
    ensure_permitted(acting_user, "ledger.add_ledgerentry", _("post manual ledger entries"))
    amount = clean_amount(amount, field="amount")
    if memo is not None and not isinstance(memo, str):
        raise InvalidInput.single("memo", _("Memo: must be text."))
    memo = (memo or "").strip()
    if not memo:
        raise InvalidInput.single("memo", _("Memo: say what this entry is for."))
    if len(memo) > MEMO_MAX_LENGTH:
        raise InvalidInput.single(
            "memo", _("Memo: at most %(n)d characters.") % {"n": MEMO_MAX_LENGTH}
        )
    date = clean_date(date, field="date", label=_("Date"), required=False)
    # Serialises with every other operation on this client's account.
    client = _lock_clients([client.pk])[0]
    require_minor_unit(amount, client.default_currency, field="amount", label=_("Amount"))
    return accounting.post(
        event,
        client=client,
        amount=sign * amount,
        memo=memo,
        acting_user=acting_user,
        date=date,
    )


@operation
def post_manual_credit(
    *, client: Client, amount: Any, memo: str, acting_user, date: Any = None
) -> LedgerEntry:
    """Put ``amount`` on the client's account in their favour."""
    return _post_manual(
        client=client,
        amount=amount,
        memo=memo,
        acting_user=acting_user,
        date=date,
        event=Event.MANUAL_CREDIT,
        sign=1,
    )


@operation
def post_manual_debit(
    *, client: Client, amount: Any, memo: str, acting_user, date: Any = None
) -> LedgerEntry:
    """Charge ``amount`` to the client's account."""
    return _post_manual(
        client=client,
        amount=amount,
        memo=memo,
        acting_user=acting_user,
        date=date,
        event=Event.MANUAL_DEBIT,
        sign=-1,
    )
