"""The exchange rate a document freezes when it is issued, and its figures in the base
currency (SPEC: Currencies and exchange rates). Issuing never needs the network: the rate
is one stored (typed in, or imported from the ECB by ``manage.py import_rates``) or one
the user types in while issuing."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.utils import formats
from django.utils.translation import gettext as _

from audit import recording as audit
from otb.operations import InvalidInput, ensure_permitted, operation
from rates.models import MAX_RATE, RATE_DECIMALS, SOURCE_TYPED
from rates.selectors import rate_on
from settings_app.models import BusinessSettings
from settings_app.selectors import get_business_settings

from .. import accounting
from ..inputs import clean_date, clean_decimal, clean_text
from ..models import (
    CreditNote,
    CreditNoteStatus,
    CreditNoteTax,
    Invoice,
    InvoiceStatus,
    InvoiceTax,
    Payment,
    PaymentStatus,
)
from ..money import BaseFigures, TaxFigures, figures_of, remaining_in_base, to_base

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# A document with base figures (quotes will be one too); a payment freezes a rate too.
Document = Invoice | CreditNote
RateHolder = Document | Payment

RATE_FIELDS = ("exchange_rate", "rate_date", "rate_source")
BASE_FIELDS = ("subtotal_in_base", "discount_in_base", "tax_in_base", "total_in_base")


@dataclass(frozen=True)
class TypedRate:
    """A rate the user typed in while issuing: its date is the document's unless given."""

    rate: Decimal
    date: datetime.date | None
    source: str


def clean_typed_rate(rate: Any, date: Any = None, source: Any = "") -> TypedRate | None:
    """The rate a user typed in, or None when the field was left empty."""
    if rate in (None, ""):
        return None
    label = _("Exchange rate")
    return TypedRate(
        rate=clean_decimal(
            rate,
            field="exchange_rate",
            label=label,
            decimal_places=RATE_DECIMALS,
            minimum_exclusive=True,
            maximum=MAX_RATE,
        ),
        date=clean_date(date, field="rate_date", label=_("Rate date"), required=False),
        source=clean_text(source or "", field="rate_source", label=_("Rate source"))[:100]
        or SOURCE_TYPED,
    )


def freeze_rate(
    document: RateHolder,
    *,
    date: datetime.date,
    settings: BusinessSettings,
    typed: TypedRate | None = None,
) -> None:
    """Put on ``document`` the rate it keeps for good: 1 in the base currency; else the one
    typed in, or the newest stored on or before ``date``. Refused, saying where to enter
    one, when there is none."""
    base = settings.default_currency
    if document.currency == base:
        document.exchange_rate, document.rate_date, document.rate_source = Decimal(1), date, ""
        return
    if typed is not None:
        document.exchange_rate = typed.rate
        document.rate_date = typed.date or date
        document.rate_source = typed.source
        return
    stored = rate_on(document.currency, date, base_currency=base)
    if stored is None:
        raise InvalidInput.single(
            "exchange_rate",
            _(
                "Exchange rate: there is no rate of %(currency)s in %(base)s on or before "
                "%(date)s. Enter one on the Exchange rates page, import the ECB's rates "
                "(manage.py import_rates), or type the rate in here."
            )
            % {"currency": document.currency, "base": base, "date": formats.date_format(date)},
        )
    document.exchange_rate = stored.rate
    document.rate_date = stored.date
    document.rate_source = stored.source


def _figures(document: Document, taxes: Sequence[InvoiceTax | CreditNoteTax]):
    return figures_of(
        subtotal=document.subtotal,
        discount_total=document.discount_total,
        taxes=[TaxFigures(label=t.label, rate=t.rate, base=t.base, amount=t.amount) for t in taxes],
    )


def apply_base_figures(
    document: Document,
    taxes: Sequence[InvoiceTax | CreditNoteTax],
    *,
    base_currency: str,
    exactly: BaseFigures | None = None,
) -> None:
    """Put the base figures of ``document`` (and of each of its ``taxes``) on the unsaved
    objects, at its frozen rate (``money.to_base``); ``exactly``: figures already decided
    (what remains of a credited invoice). Nothing when it has no rate."""
    if document.exchange_rate is None:
        return
    base = exactly or to_base(
        _figures(document, taxes), rate=document.exchange_rate, base_currency=base_currency
    )
    document.subtotal_in_base = base.subtotal
    document.discount_in_base = base.discount_total
    document.tax_in_base = base.tax_total
    document.total_in_base = base.total
    for tax, amount in zip(taxes, base.taxes, strict=True):
        tax.amount_in_base = amount


def stored_base(document: Document, taxes: Sequence[InvoiceTax | CreditNoteTax]) -> BaseFigures:
    return BaseFigures(
        subtotal=document.subtotal_in_base,
        discount_total=document.discount_in_base,
        taxes=[tax.amount_in_base for tax in taxes],
    )


def credit_note_base(
    note: CreditNote,
    taxes: Sequence[CreditNoteTax],
    *,
    invoice: Invoice,
    issued_notes: Sequence[CreditNote],
    takes_all_that_remains: bool,
    base_currency: str,
) -> None:
    """SPEC: a credit note uses the frozen rate of the invoice it credits. The one that
    credits all that remains takes exactly the base figures the invoice has left, so an
    invoice credited in parts nets to zero in the base currency to the cent."""
    note.exchange_rate = invoice.exchange_rate
    note.rate_date = invoice.rate_date
    note.rate_source = invoice.rate_source
    exactly = None
    if invoice.exchange_rate is not None and takes_all_that_remains:
        exactly = remaining_in_base(
            stored_base(invoice, list(invoice.taxes.all())),
            [stored_base(n, list(n.taxes.all())) for n in issued_notes],
        )
    apply_base_figures(note, taxes, base_currency=base_currency, exactly=exactly)


@dataclass(frozen=True)
class MissingRate:
    """An issued document in a foreign currency that has no rate yet."""

    document: Invoice | CreditNote | Payment
    filled_with: Decimal | None = None


def documents_without_rate() -> list[Invoice | CreditNote | Payment]:
    """Issued documents and payments that counted, with no frozen rate (from before rates
    were kept), oldest first."""
    invoices = Invoice.objects.exclude(status=InvoiceStatus.DRAFT).filter(
        exchange_rate__isnull=True
    )
    notes = CreditNote.objects.filter(status=CreditNoteStatus.ISSUED, exchange_rate__isnull=True)
    payments = Payment.objects.exclude(status=PaymentStatus.PENDING).filter(
        exchange_rate__isnull=True
    )
    found: list[Invoice | CreditNote | Payment] = [
        *invoices.order_by("issue_date", "sequence"),
        *notes.select_related("invoice").order_by("issue_date", "sequence"),
        *payments.order_by("date", "pk"),
    ]
    return found


@operation
def fill_missing_rates(*, acting_user: User | None) -> list[MissingRate]:
    """``manage.py check_rates --fill``: give each issued document without a rate the newest
    stored rate on or before its issue date (a credit note its invoice's), and its base
    figures. Those still without one are returned with ``filled_with`` None."""
    ensure_permitted(acting_user, "billing.change_invoice", _("change invoices"))
    settings = get_business_settings()
    results = []
    filled_payments = []
    for document in documents_without_rate():
        if isinstance(document, Payment):
            payment = Payment.objects.select_for_update().get(pk=document.pk)
            before = audit.snapshot(payment)
            try:
                freeze_rate(payment, date=payment.date, settings=settings)
            except InvalidInput:
                results.append(MissingRate(payment))
                continue
            payment.save(update_fields=list(RATE_FIELDS))
            audit.changed(payment, before)
            filled_payments.append(payment)
            results.append(MissingRate(payment, filled_with=payment.exchange_rate))
            continue
        model = type(document)
        document = model.objects.select_for_update().get(pk=document.pk)
        before = audit.snapshot(document, ("taxes",))
        taxes = list(document.taxes.all())
        if isinstance(document, CreditNote):
            invoice = Invoice.objects.get(pk=document.invoice_id)
            if invoice.exchange_rate is None:
                results.append(MissingRate(document))
                continue
            document.exchange_rate = invoice.exchange_rate
            document.rate_date = invoice.rate_date
            document.rate_source = invoice.rate_source
        else:
            try:
                freeze_rate(document, date=document.issue_date, settings=settings)
            except InvalidInput:
                results.append(MissingRate(document))
                continue
        apply_base_figures(document, taxes, base_currency=settings.default_currency)
        document.save(update_fields=[*RATE_FIELDS, *BASE_FIELDS])
        if taxes:
            type(taxes[0]).objects.bulk_update(taxes, ["amount_in_base"])
        if isinstance(document, Invoice):
            filled_payments.extend(document.payments.all())  # valued at its rate now
        audit.changed(document, before, ("taxes",))
        results.append(MissingRate(document, filled_with=document.exchange_rate))
    # Their base amounts, what they settle and their gains, by the one money path.
    accounting.value_payments_again(filled_payments)
    return results
