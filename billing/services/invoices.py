"""Operations on invoices: drafts made, changed and deleted; invoices issued (numbered and
posted to the client's ledger), changed after issue, and cancelled."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.utils import timezone
from django.utils.translation import gettext as _

from audit import recording as audit
from ledger.events import Event
from otb.dates import days_after
from otb.operations import UNSET, InvalidInput, ensure_permitted, given, operation
from settings_app.models import BusinessSettings
from settings_app.selectors import business_today, get_business_settings

from .. import accounting
from ..errors import InvalidTransition, InvoiceLocked
from ..inputs import clean_currency, clean_date, clean_text
from ..models import (
    Client,
    DocumentTax,
    Invoice,
    InvoiceChange,
    InvoiceLine,
    InvoiceStatus,
    InvoiceTax,
)
from ..money import DISCOUNT_NONE
from ..rules import (
    LOCKED_FIELDS,
    cancel_refusal,
    delete_refusal,
    has_billable_line,
    invoice_lock_reason,
)
from . import locking
from .exchange import TypedRate, apply_base_figures, clean_typed_rate, freeze_rate
from .figures import (
    LineData,
    apply_figures,
    check_dates,
    clean_discount,
    clean_lines,
    copied_taxes,
    document_taxes,
    header_snapshot,
    line_snapshot,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# The name of the invoice number counter's row.
COUNTER_NAME = "invoice"
# What an invoice's audit records hold besides its own fields.
INVOICE_RELATED = ("lines", "taxes")


@dataclass
class DraftParts:
    """A draft invoice built in memory (``build_draft``), not saved: the invoice with its
    figures, its lines and its tax set."""

    invoice: Invoice
    lines: list[InvoiceLine]
    taxes: list[InvoiceTax]


@operation
def create_draft(
    *,
    client: Client,
    acting_user: User | None,
    lines: Sequence[LineData] = (),
    notes: str = "",
    terms: str | None = None,
    discount_kind: str = DISCOUNT_NONE,
    discount_value: Any = 0,
    issue_date: Any = None,
    due_date: Any = None,
    currency: str | None = None,
    tax_set: tuple[str, Sequence[DocumentTax]] | None = None,
) -> Invoice:
    """A new draft for ``client``, in ``currency`` (default: the client's), with the
    client's tax set as it is today copied onto it (``rules.tax_set``; later settings
    changes never touch it), or ``tax_set`` (its basis and taxes), a snapshot another
    document took (a quote converted)."""
    ensure_permitted(acting_user, "billing.add_invoice", _("create invoices"))
    if not isinstance(client, Client):
        raise InvalidInput.single("client", _("Client: choose a client."))
    parts = build_draft(
        client=locking.lock_clients([client.pk])[0],
        settings=get_business_settings(),
        acting_user=acting_user,
        lines=lines,
        notes=notes,
        terms=terms,
        discount_kind=discount_kind,
        discount_value=discount_value,
        issue_date=issue_date,
        due_date=due_date,
        currency=currency,
        tax_set=tax_set,
    )
    parts.invoice.save()
    _save_rows([parts])
    audit.created(parts.invoice, INVOICE_RELATED)
    return parts.invoice


def build_draft(
    *,
    client: Client,
    settings: BusinessSettings,
    acting_user: User | None,
    lines: Sequence[LineData] = (),
    notes: str = "",
    terms: str | None = None,
    discount_kind: str = DISCOUNT_NONE,
    discount_value: Any = 0,
    issue_date: Any = None,
    due_date: Any = None,
    currency: str | None = None,
    tax_set: tuple[str, Sequence[DocumentTax]] | None = None,
    check_constraints: bool = True,
) -> DraftParts:
    """The draft ``create_draft`` makes, built in memory from the locked ``client``: every
    input cleaned (InvalidInput naming its field), its figures computed; nothing saved.
    ``check_constraints``: ``clean_lines``'s."""
    currency = clean_currency(currency) if currency else client.default_currency
    discount_kind, discount_value = clean_discount(discount_kind, discount_value, currency)
    issue_date = clean_date(issue_date, field="issue_date", label=_("Issue date"), required=False)
    due_date = clean_date(due_date, field="due_date", label=_("Due date"), required=False)
    check_dates(issue_date, due_date)
    if not client.is_active:
        raise InvalidInput.single(
            "client", _("Client: %(code)s is inactive.") % {"code": client.code}
        )
    if tax_set is None:
        tax_basis, taxes = document_taxes(client, settings)
    else:
        tax_basis, taxes = tax_set[0], copied_taxes(tax_set[1])
    cleaned_lines = clean_lines(
        lines, taxes, currency=currency, check_constraints=check_constraints
    )
    invoice = Invoice(
        client=client,
        currency=currency,
        notes=clean_text(notes or "", field="notes", label=_("Notes")),
        terms=clean_text(
            settings.payment_terms_text if terms is None else terms,
            field="terms",
            label=_("Payment terms"),
        ),
        discount_kind=discount_kind,
        discount_value=discount_value,
        issue_date=issue_date,
        due_date=due_date,
        created_by=acting_user,
        tax_basis=tax_basis,
    )
    apply_figures(invoice, cleaned_lines, taxes)
    return DraftParts(invoice=invoice, lines=cleaned_lines, taxes=taxes)


def save_batch(
    *,
    issued: Sequence[DraftParts],
    drafts: Sequence[DraftParts],
    settings: BusinessSettings,
    acting_user: User | None,
    today: datetime.date,
) -> None:
    """Save many invoices built by ``build_draft`` at once, in a few statements however
    many (the recurring run's batch): ``drafts`` as drafts, and ``issued``, each prepared by
    ``prepare_issue``, issued as ``issue_invoice`` issues one: numbered in their order from
    one take of the counter (``locking.next_numbers``, held to the end of the transaction)
    and posted through ``accounting.issue_in_bulk``. The caller holds the clients' locks
    and writes the audit records."""
    if issued:
        first = locking.next_numbers(COUNTER_NAME, len(issued))
        for offset, parts in enumerate(issued):
            number_invoice(
                invoice=parts.invoice,
                sequence=first + offset,
                settings=settings,
                acting_user=acting_user,
            )
        accounting.issue_in_bulk(
            [parts.invoice for parts in issued], acting_user=acting_user, today=today
        )
    Invoice.objects.bulk_create([parts.invoice for parts in drafts])
    _save_rows([*issued, *drafts])


def _save_rows(invoices: Sequence[DraftParts]) -> None:
    """The lines and the tax sets of invoices just saved, one INSERT for each kind."""
    lines: list[InvoiceLine] = []
    taxes: list[InvoiceTax] = []
    for parts in invoices:
        for line in parts.lines:
            line.invoice = parts.invoice
            lines.append(line)
        taxes.extend(_placed(parts.invoice, parts.taxes))
    InvoiceLine.objects.bulk_create(lines)
    InvoiceTax.objects.bulk_create(taxes)


def _save_taxes(invoice: Invoice, taxes: list[InvoiceTax]) -> None:
    InvoiceTax.objects.bulk_create(_placed(invoice, taxes))


def _placed(invoice: Invoice, taxes: Sequence[InvoiceTax]) -> Sequence[InvoiceTax]:
    """``taxes`` given to ``invoice``, in their order."""
    for position, tax in enumerate(taxes, start=1):
        tax.invoice = invoice
        tax.position = position
    return taxes


def preview_invoice(
    *,
    client: Client,
    lines: Sequence[LineData],
    discount_kind: str = DISCOUNT_NONE,
    discount_value: Any = 0,
    invoice: Invoice | None = None,
    currency: str | None = None,
) -> dict[str, Any]:
    """The figures a new draft (or ``invoice`` after an edit) would get, by the same rules and
    the same function as saving, without saving anything: the invoice form's live totals.
    Raises InvalidInput like create_draft would."""
    if not isinstance(client, Client):
        raise InvalidInput.single("client", _("Client: choose a client."))
    settings = get_business_settings()
    if currency:
        currency = clean_currency(currency)
    elif invoice is not None:
        currency = invoice.currency
    else:
        currency = client.default_currency
    kind, value = clean_discount(discount_kind, discount_value, currency)
    draft = Invoice(client=client, currency=currency, discount_kind=kind, discount_value=value)
    if invoice is not None and (invoice.number is not None or invoice.client_id == client.pk):
        # An invoice being edited keeps its own tax set (a draft takes its new client's).
        taxes = copied_taxes(invoice.taxes.all())
    else:
        _basis, taxes = document_taxes(client, settings)
    cleaned_lines = clean_lines(lines, taxes, currency=currency)
    apply_figures(draft, cleaned_lines, taxes)
    return {
        "currency": draft.currency,
        "lines": [line.amount for line in cleaned_lines],
        "subtotal": draft.subtotal,
        "discount_total": draft.discount_total,
        "taxes": [
            {
                "label": tax.label,
                "rate": tax.rate,
                "number": tax.number,
                "base": tax.base,
                "amount": tax.amount,
            }
            for tax in taxes
        ],
        "total": draft.total,
    }


@operation
def update_invoice(
    *,
    invoice: Invoice,
    acting_user: User | None,
    client: Client = UNSET,
    lines: Sequence[LineData] = UNSET,
    notes: str = UNSET,
    terms: str = UNSET,
    discount_kind: str = UNSET,
    discount_value: Any = UNSET,
    issue_date: Any = UNSET,
    due_date: Any = UNSET,
    currency: str = UNSET,
) -> Invoice:
    """Change a draft, or an issued invoice that is not locked (whose currency never
    changes). On an issued invoice every
    change is recorded with its old and new value, and a change of total is posted to the
    client's ledger. Notes and terms may change even on a locked invoice."""
    ensure_permitted(acting_user, "billing.change_invoice", _("change invoices"))
    requested = given(
        client=client,
        lines=lines,
        notes=notes,
        terms=terms,
        discount_kind=discount_kind,
        discount_value=discount_value,
        issue_date=issue_date,
        due_date=due_date,
        currency=currency,
    )
    if "client" in requested and not isinstance(requested["client"], Client):
        raise InvalidInput.single("client", _("Client: choose a client."))
    new_client = requested.get("client")
    invoice = locking.lock_invoice(invoice.pk, also_clients=[new_client.pk] if new_client else [])
    settings = get_business_settings()
    old_header = header_snapshot(invoice)
    old_lines = [line_snapshot(line) for line in invoice.lines.select_related("service")]
    old_client = invoice.client
    before = audit.snapshot(invoice, INVOICE_RELATED)
    if new_client is not None and new_client.pk == invoice.client_id:
        del requested["client"]
    # The tax set is the invoice's own; a draft moved to another client takes that client's.
    retaxed = invoice.is_draft and "client" in requested
    if retaxed:
        new_client = Client.objects.get(pk=requested["client"].pk)
        tax_basis, taxes = document_taxes(new_client, settings)
    else:
        taxes = list(invoice.taxes.all())

    if "lines" in requested:
        new_lines = clean_lines(
            requested["lines"],
            taxes,
            currency=clean_currency(requested["currency"])
            if "currency" in requested
            else invoice.currency,
        )
        if not new_lines and not invoice.is_draft:
            raise InvalidInput.single(
                "lines",
                _("Lines: an issued invoice keeps at least one line; cancel it instead."),
            )
        if [line_snapshot(line) | {"amount": None} for line in new_lines] == [
            old | {"amount": None} for old in old_lines
        ]:
            del requested["lines"]
    if "currency" in requested:
        requested["currency"] = clean_currency(requested["currency"])
    for field in ("issue_date", "due_date", "discount_kind", "discount_value", "currency"):
        if field in requested and requested[field] == getattr(invoice, field):
            del requested[field]
    if "currency" in requested and not invoice.is_draft:
        raise InvalidInput.single(
            "currency",
            _(
                "Currency: invoice %(number)s was issued in %(currency)s and keeps it; credit "
                "it and make a new invoice in the other currency."
            )
            % {"number": invoice.number, "currency": invoice.currency},
        )

    touched_locked = [field for field in LOCKED_FIELDS if field in requested]
    if touched_locked:
        reason = invoice_lock_reason(invoice, settings)
        if reason:
            raise InvoiceLocked(reason, field=touched_locked[0])

    if "client" in requested:
        new_client = Client.objects.get(pk=requested["client"].pk)
        if not new_client.is_active:
            raise InvalidInput.single(
                "client", _("Client: %(code)s is inactive.") % {"code": new_client.code}
            )
        # The invoice keeps its currency: the prices were typed in it.
        invoice.client = new_client
    if "notes" in requested:
        invoice.notes = clean_text(requested["notes"] or "", field="notes", label=_("Notes"))
    if "terms" in requested:
        invoice.terms = clean_text(requested["terms"] or "", field="terms", label=_("Terms"))
    if "currency" in requested:
        invoice.currency = requested["currency"]
    if {"discount_kind", "discount_value", "currency"} & requested.keys():
        invoice.discount_kind, invoice.discount_value = clean_discount(
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
    check_dates(invoice.issue_date, invoice.due_date)

    line_objects = new_lines if "lines" in requested else list(invoice.lines.all())
    if retaxed and "lines" not in requested:
        # The kept lines carry what they carried of the new set.
        labels = [tax.label for tax in taxes]
        for line in line_objects:
            if line.taxes is not None:
                kept = [label for label in labels if label in line.taxes]
                line.taxes = None if kept == labels else kept
        InvoiceLine.objects.bulk_update(line_objects, ["taxes"])
    old_total = invoice.total
    # Figures are computed again only when what they are made of changes: a note on a paid,
    # locked or cancelled invoice keeps every figure it has.
    if any(
        field in requested
        for field in ("client", "lines", "discount_kind", "discount_value", "currency")
    ):
        apply_figures(invoice, line_objects, taxes)
        if not invoice.is_draft and "lines" in requested and not has_billable_line(line_objects):
            raise InvalidInput.single(
                "lines",
                _("Lines: an issued invoice keeps a line with an amount; cancel it instead."),
            )
        if retaxed:
            invoice.tax_basis = tax_basis
            invoice.taxes.all().delete()
            _save_taxes(invoice, taxes)
        else:
            # An issued invoice keeps the rate it froze: its base figures follow its own.
            apply_base_figures(invoice, taxes, base_currency=settings.default_currency)
            InvoiceTax.objects.bulk_update(taxes, ["base", "amount", "amount_in_base"])
    if invoice.is_draft:
        invoice.save()
    if "lines" in requested:
        invoice.lines.all().delete()
        for line in line_objects:
            line.invoice = invoice
        InvoiceLine.objects.bulk_create(line_objects)
    elif "currency" in requested:
        # Amounts rounded to the new currency's minor unit: stored as computed.
        InvoiceLine.objects.bulk_update(line_objects, ["amount"])

    if not invoice.is_draft:
        _record_change(
            invoice=invoice,
            acting_user=acting_user,
            old_header=old_header,
            old_lines=old_lines,
            new_lines=[line_snapshot(line) for line in line_objects],
        )
        _post_change(
            invoice=invoice,
            old_client=old_client,
            old_total=old_total,
            acting_user=acting_user,
            today=business_today(settings),
        )
    audit.changed(invoice, before, INVOICE_RELATED)
    return invoice


def _record_change(
    *,
    invoice: Invoice,
    acting_user: User | None,
    old_header: dict[str, Any],
    old_lines: list[dict[str, Any]],
    new_lines: list[dict[str, Any]],
) -> None:
    new_header = header_snapshot(invoice)
    changes = {
        field: {"old": old_header[field], "new": new_header[field]}
        for field in new_header
        if old_header[field] != new_header[field]
    }
    if old_lines != new_lines:
        changes["lines"] = {"old": old_lines, "new": new_lines}
    if changes:
        InvoiceChange.objects.create(invoice=invoice, changed_by=acting_user, changes=changes)


def _post_change(
    *,
    invoice: Invoice,
    old_client: Client,
    old_total: Decimal,
    acting_user: User | None,
    today: datetime.date,
) -> None:
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
def duplicate_invoice(*, invoice: Invoice, acting_user: User | None) -> Invoice:
    """A new draft with the same client, lines, discount, notes and terms as ``invoice``
    (any status): the next month's job, or a cancelled invoice made again. It takes today's
    tax set and no dates, as any new draft does; a line keeps the taxes it carried that
    are in the new set."""
    source = Invoice.objects.select_related("client").get(pk=invoice.pk)
    _basis, taxes = document_taxes(source.client, get_business_settings())
    labels = {tax.label for tax in taxes}
    lines = [
        LineData(
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
            unit=line.unit,
            discount_percent=line.discount_percent,
            taxable=line.taxable,
            service=line.service,
            taxes=None
            if line.taxes is None
            else [label for label in line.taxes if label in labels],
        )
        for line in source.lines.select_related("service").order_by("position", "pk")
    ]
    return create_draft(
        client=source.client,
        acting_user=acting_user,
        lines=lines,
        notes=source.notes,
        terms=source.terms,
        discount_kind=source.discount_kind,
        discount_value=source.discount_value,
        currency=source.currency,
    )


@operation
def delete_draft(*, invoice: Invoice, acting_user: User | None) -> None:
    """Drafts may be deleted; issued invoices never are (they are cancelled)."""
    ensure_permitted(acting_user, "billing.delete_invoice", _("delete invoices"))
    invoice = locking.lock_invoice(invoice.pk)
    refusal = delete_refusal(invoice)
    if refusal:
        raise InvalidTransition(refusal)
    audit.deleted(invoice, INVOICE_RELATED)
    invoice.delete()


@operation
def issue_invoice(
    *,
    invoice: Invoice,
    acting_user: User | None,
    issue_date: Any = None,
    due_date: Any = None,
    exchange_rate: Any = None,
    rate_date: Any = None,
    rate_source: str = "",
) -> Invoice:
    """Give a draft the next number, its dates, its exchange rate and base figures, and
    post it to the client's ledger.

    Numbers are gapless and unique under any concurrency (``locking.next_in_series``). A
    draft in another currency than the base one freezes the rate typed in
    (``exchange_rate``, with its date and source), or the newest stored on or before its
    issue date; without either it is refused (``exchange.freeze_rate``).
    """
    ensure_permitted(acting_user, "billing.issue_invoice", _("issue invoices"))
    issue_date = clean_date(issue_date, field="issue_date", label=_("Issue date"), required=False)
    due_date = clean_date(due_date, field="due_date", label=_("Due date"), required=False)
    typed_rate = clean_typed_rate(exchange_rate, rate_date, rate_source)
    invoice = locking.lock_invoice(invoice.pk)
    before = audit.snapshot(invoice, INVOICE_RELATED)
    settings = get_business_settings()
    if not invoice.is_draft:
        raise InvalidTransition(
            _("Invoice %(number)s is already issued.") % {"number": invoice.number}
        )
    today = business_today(settings)
    taxes = list(invoice.taxes.all())
    prepare_issue(
        invoice,
        list(invoice.lines.all()),
        taxes,
        settings=settings,
        today=today,
        issue_date=issue_date,
        due_date=due_date,
        typed_rate=typed_rate,
    )
    InvoiceTax.objects.bulk_update(taxes, ["amount_in_base"])
    number_invoice(
        invoice=invoice,
        sequence=locking.next_in_series(COUNTER_NAME),
        settings=settings,
        acting_user=acting_user,
    )
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
    audit.changed(invoice, before, INVOICE_RELATED)
    return invoice


def prepare_issue(
    invoice: Invoice,
    lines: Sequence[InvoiceLine],
    taxes: Sequence[InvoiceTax],
    *,
    settings: BusinessSettings,
    today: datetime.date,
    issue_date: datetime.date | None = None,
    due_date: datetime.date | None = None,
    typed_rate: TypedRate | None = None,
) -> None:
    """Give the draft ``invoice`` (in memory, with its ``lines`` and its tax set ``taxes``)
    what issuing it gives before its number: its issue date (``issue_date``, else its own,
    else ``today``), its due date (``due_date``, else its own if not before the issue
    date, else the settings' payment terms after the issue date), its exchange rate frozen
    (``exchange.freeze_rate``) and its base figures. Refused (a DomainError, nothing
    saved) for an inactive client, a draft with nothing to bill, dates out of order, or a
    foreign currency without a rate; a refused draft is left as it was."""
    if not invoice.client.is_active:
        raise InvalidInput.single(
            "client", _("Client: %(code)s is inactive.") % {"code": invoice.client.code}
        )
    if not lines:
        raise InvalidTransition(_("Add at least one line before issuing the invoice."))
    if not has_billable_line(lines):
        raise InvalidTransition(
            _(
                "Every line of this draft comes to 0.00: give a line a quantity and a price "
                "before issuing the invoice."
            )
        )
    issue_date = issue_date or invoice.issue_date or today
    due_date = (
        due_date
        or (invoice.due_date if invoice.due_date and invoice.due_date >= issue_date else None)
        or days_after(
            issue_date, settings.payment_terms_days, field="issue_date", label=_("Issue date")
        )
    )
    check_dates(issue_date, due_date)
    # The figures stand as the draft was saved: its tax set was copied when it was made.
    # The rate first: a refusal leaves the draft in memory as it was.
    freeze_rate(invoice, date=issue_date, settings=settings, typed=typed_rate)
    invoice.issue_date, invoice.due_date = issue_date, due_date
    apply_base_figures(invoice, taxes, base_currency=settings.default_currency)


def number_invoice(
    *, invoice: Invoice, sequence: int, settings: BusinessSettings, acting_user: User | None
) -> None:
    """Give ``invoice`` its place ``sequence`` in the gapless series, its number as the
    settings write it (prefix and four digits at least), and who issued it when."""
    invoice.sequence = sequence
    invoice.number = f"{settings.invoice_number_prefix}{sequence:04d}"
    invoice.issued_at = timezone.now()
    invoice.issued_by = acting_user


@operation
def cancel_invoice(*, invoice: Invoice, acting_user: User | None, reason: str = "") -> Invoice:
    """Cancel an issued invoice that has no payment left (its number is never reused)."""
    ensure_permitted(acting_user, "billing.cancel_invoice", _("cancel invoices"))
    invoice = locking.lock_invoice(invoice.pk)
    before = audit.snapshot(invoice)
    refusal = cancel_refusal(invoice)
    if refusal:
        raise (InvalidTransition if invoice.is_draft else InvoiceLocked)(refusal)
    today = business_today()
    invoice.cancelled_at = timezone.now()
    invoice.cancelled_on = today
    invoice.cancelled_by = acting_user
    invoice.cancel_reason = clean_text(reason or "", field="reason", label=_("Reason"))
    accounting.post(
        Event.INVOICE_CANCELLED,
        client=invoice.client,
        amount=invoice.total,
        invoice=invoice,
        acting_user=acting_user,
        values={"number": invoice.number},
        today=today,
    )
    audit.changed(invoice, before)
    return invoice


@operation
def refresh_overdue(*, today: datetime.date | None = None) -> int:
    """Move issued invoices whose due date has passed to overdue. Idempotent."""
    today = today or business_today()
    moving = list(
        Invoice.objects.past_due_but_not_marked(today=today)
        .select_for_update()
        .values_list("pk", "number", "status")
    )
    count = accounting.mark_overdue(today=today)
    for pk, number, status in moving:
        audit.changed_values(
            Invoice,
            object_id=pk,
            object_repr=number,
            before={"status": status},
            after={"status": InvoiceStatus.OVERDUE},
        )
    return count
