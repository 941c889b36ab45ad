"""The rules of SPEC.md that decide, without writing anything: an invoice's status, whether
tax applies, why an invoice is locked, what counts as paid, and what a client-credit payment
may draw. Each rule is one function here; services, pages, the admin, the API, the PDF and
the benchmark data ask this module. It imports no services.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from django.utils import formats
from django.utils.translation import gettext as _

from ledger.events import Event
from otb.countries import country_name
from otb.numbers import parse_plain
from otb.operations import InvalidInput
from settings_app.models import Tax
from settings_app.selectors import get_business_settings

from .errors import CreditInsufficient, InvalidTransition
from .models import (
    CreditNote,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    TaxBasis,
)
from .money import format_money

ZERO = Decimal("0.00")

# What a payment that is not reversed freezes on its invoice (SPEC: Invoice lifecycle,
# Locking): the form, the admin and the services all read this list.
LOCKED_FIELDS = ("client", "lines", "discount_kind", "discount_value", "issue_date", "due_date")


class InvoiceFacts(Protocol):
    """What the status depends on: an Invoice, or a row about to become one."""

    number: str | None
    cancelled_at: datetime.datetime | None
    total: Decimal
    amount_paid: Decimal
    amount_credited: Decimal
    due_date: datetime.date | None


def derive_status(invoice: InvoiceFacts, *, today: datetime.date) -> str:
    """The status of SPEC.md "Invoice lifecycle", from the facts alone: credited only when
    credit notes took all of the total (paid 60 and credited 40 of 100 is paid)."""
    if invoice.number is None:
        return InvoiceStatus.DRAFT
    if invoice.cancelled_at is not None:
        return InvoiceStatus.CANCELLED
    if invoice.amount_credited > 0 and invoice.amount_credited == invoice.total:
        return InvoiceStatus.CREDITED
    if invoice.total - invoice.amount_paid - invoice.amount_credited <= 0:
        return InvoiceStatus.PAID
    if invoice.due_date and today > invoice.due_date:
        return InvoiceStatus.OVERDUE
    if invoice.amount_paid > 0:
        return InvoiceStatus.PARTIAL
    return InvoiceStatus.PENDING


def untaxed_basis(client: Any, settings: Any) -> str | None:
    """SPEC: the default set applies unless the client is tax-exempt, or abroad where tax is
    charged only to local clients: why not (``TaxBasis``), or None when it applies."""
    if client.tax_exempt:
        return TaxBasis.EXEMPT
    if settings.tax_local_clients_only and client.country != settings.local_country:
        return TaxBasis.FOREIGN
    return None


def tax_applies(client: Any, settings: Any) -> bool:
    """Whether the default set applies to ``client`` (``untaxed_basis``)."""
    return untaxed_basis(client, settings) is None


def tax_set(
    client: Any, settings: Any, *, default_set: Sequence[Tax] | None = None
) -> tuple[str, list[Tax]]:
    """SPEC: Several taxes. The taxes a new document of ``client`` copies, and where they
    come from (``TaxBasis``): the client's own set (possibly empty), which the local-client
    and tax-exempt rules do not override; else the business's default set, unless those
    rules say no tax. Inactive taxes are never put on a new document. ``default_set``: the
    default set read once for many documents (``Tax.objects.default_set()``)."""
    if not client.uses_default_taxes:
        own = [tax for tax in client.taxes.all() if tax.is_active] if client.pk else []
        return TaxBasis.CLIENT, sorted(own, key=lambda tax: (tax.position, tax.pk))
    basis = untaxed_basis(client, settings)
    if basis is not None:
        return basis, []
    return TaxBasis.DEFAULT, list(Tax.objects.default_set() if default_set is None else default_set)


def no_tax_reason(invoice: Any, settings: Any = None) -> str | None:
    """Why an invoice charges no tax, said on it instead of "HST 13 % 0.00", from the basis
    its tax set was copied with (never from today's client): tax-exempt, abroad where tax is
    charged to local clients only, or a client whose own set is empty. None when taxed."""
    if invoice.tax_basis == TaxBasis.EXEMPT:
        return _("Tax-exempt")
    if invoice.tax_basis == TaxBasis.FOREIGN:
        settings = settings or get_business_settings()
        return _("No tax: client outside %(country)s") % {
            "country": country_name(settings.local_country)
        }
    if invoice.tax_basis == TaxBasis.CLIENT and not _has_taxes(invoice):
        return _("No tax")
    return None


def _has_taxes(invoice: Any) -> bool:
    prefetched = getattr(invoice, "_prefetched_objects_cache", {}).get("taxes")
    if prefetched is not None:
        return bool(prefetched)
    return bool(invoice.pk) and invoice.taxes.exists()


def has_live_payments(invoice: Any) -> bool:
    """Whether a payment that is not reversed is on the invoice: from the payments a page
    prefetched with it, else from the database (operations load the invoice fresh)."""
    if not invoice.pk:
        return False
    prefetched = getattr(invoice, "_prefetched_objects_cache", {}).get("payments")
    if prefetched is not None:
        return any(payment.status != PaymentStatus.REVERSED for payment in prefetched)
    return bool(invoice.payments.not_reversed().exists())


def has_issued_credit_notes(invoice: Any) -> bool:
    """Whether a credit note of the invoice is issued (SPEC: Credit notes, it locks the
    invoice like a payment): from its stored amount credited, kept by the money path."""
    return bool(invoice.pk) and invoice.amount_credited > 0


def invoice_lock_reason(invoice: Any, settings: Any = None) -> str | None:
    """Why the invoice's client, lines, discount and dates cannot change now, or None."""
    if invoice.is_cancelled:
        return _("Invoice %(number)s is cancelled.") % {"number": invoice.number}
    if has_live_payments(invoice):
        return _(
            "Invoice %(number)s has payments that are not reversed. Reverse them first to "
            "change or cancel it."
        ) % {"number": invoice.number or invoice}
    if has_issued_credit_notes(invoice):
        return _(
            "Invoice %(number)s has an issued credit note: it can no longer be changed or "
            "cancelled. Correct it with another credit note."
        ) % {"number": invoice.number}
    if not invoice.is_draft and (settings or get_business_settings()).lock_issued_invoices:
        return _(
            "Invoice %(number)s is issued, and the setting “lock invoices once issued” is on."
        ) % {"number": invoice.number}
    return None


def cancel_refusal(invoice: Any, settings: Any = None) -> str | None:
    """Why ``invoice`` cannot be cancelled now, or None: asked by the operation and by the
    pages, which then do not offer what would be refused."""
    if invoice.is_draft:
        return _("A draft is not cancelled: delete it instead.")
    return invoice_lock_reason(invoice, settings)


def credit_refusal(invoice: Any) -> str | None:
    """Why no credit note can be made for ``invoice`` now, or None (SPEC: Credit notes: it
    corrects an issued invoice, never for more than is not yet credited)."""
    if invoice.is_draft:
        return _("A draft is not credited: change or delete it instead.")
    if invoice.is_cancelled:
        return _("Invoice %(number)s is cancelled: there is nothing to credit.") % {
            "number": invoice.number
        }
    if invoice.amount_credited >= invoice.total:
        return _("Invoice %(number)s is credited in full.") % {"number": invoice.number}
    return None


def check_refund(*, client_code: str, amount: Decimal, available: Decimal, currency: str) -> None:
    """SPEC: Payments. A refund pays client credit back, and is refused beyond the
    client's available credit."""
    if amount > available:
        raise _beyond_credit(
            _(
                "Amount: client %(code)s has %(credit)s of credit available; a refund of "
                "%(amount)s would pay back more than that."
            ),
            client_code=client_code,
            amount=amount,
            available=available,
            currency=currency,
        )


def _beyond_credit(
    message: str, *, client_code: str, amount: Decimal, available: Decimal, currency: str
) -> CreditInsufficient:
    """The refusal of drawing ``amount`` on ``available`` credit, on the field "amount"."""
    values = {
        "code": client_code,
        "credit": format_money(max(available, ZERO), currency),
        "amount": format_money(amount, currency),
    }
    return CreditInsufficient(message % values, field="amount")


def delete_refusal(invoice: Any) -> str | None:
    """Why ``invoice`` cannot be deleted, or None: only drafts ever are, and not the draft
    an accepted quote was converted into (the two stay linked: SPEC, Quotes)."""
    if invoice.is_draft:
        # The reverse side of quotes.Quote.invoice, read without importing the quotes app.
        quote = type(invoice).objects.filter(pk=invoice.pk).values_list("quote__number", flat=True)
        number = quote.first() if invoice.pk else None
        if number:
            return _(
                "This draft was made from quote %(number)s, accepted, and stays linked to it: "
                "change it as needed and issue it, or cancel it once issued."
            ) % {"number": number}
        return None
    return _("Invoice %(number)s is issued: it can be cancelled, never deleted.") % {
        "number": invoice.number
    }


def amount_paid(*, counted: Decimal, total: Decimal, credited: Decimal = ZERO) -> Decimal:
    """SPEC: amount paid = the invoice's confirmed, non-reversed payments, up to its total
    less its amount credited (what is paid beyond it is the client's credit)."""
    return max(min(counted, total - credited), ZERO)


def moves_money(method: str) -> bool:
    """Whether a payment by ``method`` is money received. "Client credit" only moves credit
    already on the client's account to an invoice: it posts no ledger entry, sends no
    receipt and is not collected."""
    return method != PaymentMethod.CLIENT_CREDIT


def money_methods() -> list[str]:
    """The payment methods that are money received (``moves_money``), for queries."""
    return [method for method in PaymentMethod.values if moves_money(method)]


def payment_event(payment: Any, *, reversing: bool = False) -> str:
    """The money event of confirming ``payment`` (or of reversing it once confirmed)."""
    if moves_money(payment.method):
        return Event.PAYMENT_REVERSED if reversing else Event.PAYMENT_CONFIRMED
    return Event.CREDIT_APPLICATION_REVERSED if reversing else Event.CREDIT_APPLIED


def check_client_credit(
    *,
    client_code: str,
    amount: Decimal,
    balance_due: Decimal,
    available: Decimal,
    currency: str = "",
) -> None:
    """SPEC: a "client credit" payment pays at most the invoice's balance due, and is refused
    when the client's available credit is too small. Asked when the payment is recorded,
    pending or confirmed, and again when it is confirmed; the same refusal either way."""
    if amount > balance_due:
        raise CreditInsufficient(
            _("Amount: client credit can pay at most the balance due (%(due)s).")
            % {"due": format_money(balance_due, currency)},
            field="amount",
        )
    if amount > available:
        raise _beyond_credit(
            _(
                "Client %(code)s has %(credit)s of credit available; %(amount)s cannot be "
                "paid from it."
            ),
            client_code=client_code,
            amount=amount,
            available=available,
            currency=currency,
        )


def check_money_date(*, date: datetime.date, today: datetime.date, what: str) -> None:
    """Money that has come in (a confirmed payment) and a manual ledger entry are dated
    today at the latest, in the business's time zone: a confirmed payment dated 2099 would
    count as paid today, and the account would disagree with the reports until then. A
    pending payment may be post-dated, like a cheque, and is confirmed on or after its date.
    ``what``: "payment", "confirmation", "refund", "entry" or "cut_over" (the day an
    import's opening balances are dated)."""
    if date <= today:
        return
    values = {"date": formats.date_format(date), "today": formats.date_format(today)}
    if what == "confirmation":
        raise InvalidTransition(
            _("This payment is dated %(date)s: it can be confirmed on that day, not before.")
            % values
        )
    if what == "payment":
        message = _(
            "Date: a confirmed payment cannot be dated after today (%(today)s). Record it as "
            "pending, and confirm it on %(date)s."
        )
    elif what == "refund":
        message = _(
            "Date: a refund is recorded once it is paid, dated today (%(today)s) at the latest."
        )
    elif what == "cut_over":
        # An import's opening balances: what was owed on a day that has come.
        raise InvalidInput.single(
            "cut_over",
            _(
                "Cut-over day: %(date)s is after today (%(today)s); opening balances are "
                "what was owed on a day that has come."
            )
            % values,
        )
    else:
        message = _("Date: a ledger entry cannot be dated after today (%(today)s).")
    raise InvalidInput.single("date", message % values)


@dataclass(frozen=True)
class PriceFromService:
    """The unit price a line takes from its service, and the currency that price is in."""

    unit_price: Decimal
    currency: str


def price_from_service(service: Any, *, currency: str, base_currency: str) -> PriceFromService:
    """SPEC: Currencies. A line priced from ``service`` on a document in ``currency`` takes
    the service's price in that currency when it has one; else its default unit price,
    which is in the base currency: in another currency than the document's, a price the
    invoice form says to check (``service_price_warning``)."""
    for price in _service_prices(service):
        if price.currency == currency:
            return PriceFromService(price.unit_price, currency)
    return PriceFromService(service.unit_price, base_currency)


def _service_prices(service: Any) -> Any:
    prefetched = getattr(service, "_prefetched_objects_cache", {}).get("prices")
    if prefetched is not None:
        return prefetched
    return service.prices.all() if service.pk else []


def service_price_warning(
    service: Any, *, unit_price: Any, currency: str, base_currency: str
) -> str | None:
    """What the invoice form says next to a line of ``service`` on a document in
    ``currency`` whose price is (or, left empty, will be) the service's price in another
    currency: "DESIGN is priced in CAD: check the price". None when the service has a price
    in the document's currency, or the line's price was typed."""
    price = price_from_service(service, currency=currency, base_currency=base_currency)
    if price.currency == currency:
        return None
    if unit_price not in (None, ""):
        typed = unit_price if isinstance(unit_price, Decimal) else parse_plain(str(unit_price))
        if typed != price.unit_price:
            return None
    return _("%(code)s is priced in %(currency)s: check the price.") % {
        "code": service.code,
        "currency": price.currency,
    }


def has_billable_line(lines: Any) -> bool:
    """An issued invoice bills something: at least one of its lines has an amount other
    than 0.00. A line of quantity 0 alone would use up a number of the gapless series for
    an invoice of nothing."""
    return any(line.amount != 0 for line in lines)


def client_deletion_refusal(client: Any) -> str | None:
    """Why ``client`` cannot be deleted, or None. Only a client entered by mistake (no
    invoice, not even a draft, no payment, no ledger entry) is deleted; one with history is
    deactivated, so its books stay whole (SPEC: nothing financial is ever hard-deleted)."""
    from ledger.models import LedgerEntry

    from .models import Invoice, Payment

    has = [
        what
        for what, rows in (
            (_("invoices"), Invoice.objects.filter(client=client)),
            (_("payments"), Payment.objects.filter(client=client)),
            (_("ledger entries"), LedgerEntry.objects.filter(client=client)),
        )
        if rows.exists()
    ]
    if not has:
        return None
    return _(
        "Client %(code)s has %(history)s, so it cannot be deleted: its books must stay whole. "
        "Deactivate it instead (untick “Active”): it then no longer appears on new invoices."
    ) % {"code": client.code, "history": _(" and ").join(has)}


def base_currency_fixed() -> bool:
    """SPEC: the base currency cannot change once any base figure exists (a document or a
    payment with a frozen rate; every issued document and confirmed payment in the base
    currency has the rate 1)."""
    return (
        Invoice.objects.filter(exchange_rate__isnull=False).exists()
        or CreditNote.objects.filter(exchange_rate__isnull=False).exists()
        or Payment.objects.filter(exchange_rate__isnull=False).exists()
    )
