"""Operations on payments and on the client's account: payments recorded, confirmed and
reversed; client credit applied to an invoice; manual credits and debits."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from audit import recording as audit
from ledger.events import EntryKind, Event
from ledger.models import MEMO_MAX_LENGTH, LedgerEntry
from otb.operations import UNSET, InvalidInput, ensure_permitted, given, operation
from settings_app.selectors import business_today, get_business_settings

from .. import accounting
from ..errors import CreditInsufficient, InvalidTransition
from ..inputs import (
    clean_amount,
    clean_currency,
    clean_date,
    clean_decimal,
    clean_text,
    require_minor_unit,
)
from ..models import Client, Invoice, Payment, PaymentMethod, PaymentStatus
from ..money import MAX_AMOUNT, format_money
from ..rules import check_client_credit, check_money_date, payment_event
from ..selectors import available_credit
from . import locking
from .exchange import RATE_FIELDS, TypedRate, clean_typed_rate, freeze_rate

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def _check_credit(*, client: Client, invoice: Invoice | None, amount: Decimal) -> None:
    """SPEC: client credit in one currency never pays an invoice in another."""
    assert invoice is not None, "record_payment refuses client credit without an invoice"
    check_client_credit(
        client_code=client.code,
        amount=amount,
        balance_due=invoice.balance_due,
        available=available_credit(client, invoice.currency),
        currency=invoice.currency,
    )


def _freeze_payment_rate(payment: Payment, typed: TypedRate | None) -> None:
    """A payment counts from its confirmation: it keeps the rate of its date from then."""
    freeze_rate(payment, date=payment.date, settings=get_business_settings(), typed=typed)


def _payment_values(payment: Payment, *, reason: str = "") -> dict[str, str]:
    return {
        "method": payment.get_method_display(),
        "reference": f" {payment.reference}" if payment.reference else "",
        "where": (payment.invoice.number or "") if payment.invoice is not None else _("account"),
        "reason": reason,
    }


def _post_payment(payment: Payment, *, acting_user: User | None, reversing: bool = False) -> None:
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


def _clean_payment_fields(
    *, amount: Any, date: Any, method: Any, reference: Any, note: Any
) -> tuple[Decimal, datetime.date, str, str, str]:
    """What a payment is made of, checked the same way when it is recorded and when a
    pending one is corrected."""
    amount = clean_amount(amount)
    date = clean_date(date, field="date", label=_("Date"))
    if method not in PaymentMethod.values:
        raise InvalidInput.single(
            "method", _("Method: “%(method)s” is not a payment method.") % {"method": method}
        )
    reference = clean_text(reference or "", field="reference", label=_("Reference"), one_line=True)
    if len(reference) > 200:
        raise InvalidInput.single("reference", _("Reference: at most 200 characters."))
    note = clean_text(note or "", field="note", label=_("Note"))
    return amount, date, method, reference, note


@operation
def record_payment(
    *,
    amount: Any,
    date: Any,
    method: str,
    acting_user: User | None,
    client: Client | None = None,
    invoice: Invoice | None = None,
    reference: str = "",
    note: str = "",
    confirmed: bool = True,
    currency: str | None = None,
    exchange_rate: Any = None,
    rate_source: str = "",
) -> Payment:
    """Record money received, for an invoice or (without one) as credit on the account.

    Recorded as pending or directly as confirmed; only confirmed payments count as paid. A
    payment above the balance due pays the invoice in full; the rest is credit. Method
    "client credit" draws on that credit (in the invoice's currency) and is refused,
    pending or confirmed, when too little is available. A payment is in its invoice's
    currency; on account, in ``currency`` (default: the client's). Once confirmed it keeps
    the rate of its date, stored or typed in (``exchange_rate``), and its base amount.
    """
    ensure_permitted(acting_user, "billing.add_payment", _("record payments"))
    if confirmed:
        ensure_permitted(acting_user, "billing.confirm_payment", _("confirm payments"))
    amount, date, method, reference, note = _clean_payment_fields(
        amount=amount, date=date, method=method, reference=reference, note=note
    )
    typed_rate = clean_typed_rate(exchange_rate, None, rate_source)
    if currency is not None:
        currency = clean_currency(currency)
    if confirmed:
        check_money_date(date=date, today=business_today(), what="payment")
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
        invoice = locking.lock_invoice(invoice.pk)
        if client is not None and client.pk != invoice.client_id:
            raise InvalidInput.single(
                "invoice",
                _("Invoice: %(number)s belongs to %(code)s, not to %(other)s.")
                % {"number": invoice, "code": invoice.client.code, "other": client.code},
            )
        client = invoice.client
        if currency is not None and currency != invoice.currency:
            raise InvalidInput.single(
                "currency",
                _("Currency: invoice %(number)s is in %(currency)s; pay it in %(currency)s.")
                % {"number": invoice, "currency": invoice.currency},
            )
        currency = invoice.currency
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
        assert client is not None  # refused above when neither was given
        client = locking.lock_clients([client.pk])[0]
        currency = currency or client.default_currency
    require_minor_unit(amount, currency, field="amount", label=_("Amount"))
    if method == PaymentMethod.CLIENT_CREDIT:
        _check_credit(client=client, invoice=invoice, amount=amount)

    now = timezone.now()
    payment = Payment(
        client=client,
        invoice=invoice,
        currency=currency,
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
        _freeze_payment_rate(payment, typed_rate)
    payment.save()
    if confirmed:
        _post_payment(payment, acting_user=acting_user)
    audit.created(payment)
    return payment


@operation
def confirm_payment(
    *,
    payment: Payment,
    acting_user: User | None,
    exchange_rate: Any = None,
    rate_source: str = "",
) -> Payment:
    """Confirm a pending payment: from now on it counts as paid, at the rate of its date
    (stored, or ``exchange_rate`` typed in)."""
    ensure_permitted(acting_user, "billing.confirm_payment", _("confirm payments"))
    typed_rate = clean_typed_rate(exchange_rate, None, rate_source)
    payment = locking.lock_payment(payment.pk)
    before = audit.snapshot(payment)
    if payment.status == PaymentStatus.REVERSED:
        raise InvalidTransition(_("A reversed payment cannot be confirmed again."))
    if payment.status == PaymentStatus.CONFIRMED:
        raise InvalidTransition(_("This payment is already confirmed."))
    check_money_date(date=payment.date, today=business_today(), what="confirmation")
    if payment.method == PaymentMethod.CLIENT_CREDIT:
        _check_credit(client=payment.client, invoice=payment.invoice, amount=payment.amount)
    _freeze_payment_rate(payment, typed_rate)
    payment.status = PaymentStatus.CONFIRMED
    payment.confirmed_at = timezone.now()
    payment.confirmed_by = acting_user
    payment.save(update_fields=["status", "confirmed_at", "confirmed_by", *RATE_FIELDS])
    _post_payment(payment, acting_user=acting_user)
    audit.changed(payment, before)
    return payment


@operation
def update_payment(
    *,
    payment: Payment,
    acting_user: User | None,
    amount: Any = UNSET,
    date: Any = UNSET,
    method: Any = UNSET,
    reference: Any = UNSET,
    note: Any = UNSET,
) -> Payment:
    """Correct a pending payment: its amount, date, method, reference and note (the change
    is in its history). A confirmed payment has counted: it is reversed and entered again."""
    ensure_permitted(acting_user, "billing.change_payment", _("correct payments"))
    payment = locking.lock_payment(payment.pk)
    before = audit.snapshot(payment)
    if payment.status != PaymentStatus.PENDING:
        raise InvalidTransition(
            _(
                "Only a pending payment can be corrected. A confirmed payment has counted: "
                "reverse it and record it again."
            )
            if payment.status == PaymentStatus.CONFIRMED
            else _("A reversed payment cannot be corrected.")
        )
    current = {
        "amount": payment.amount,
        "date": payment.date,
        "method": payment.method,
        "reference": payment.reference,
        "note": payment.note,
    }
    requested = given(amount=amount, date=date, method=method, reference=reference, note=note)
    values = _clean_payment_fields(**(current | requested))
    if payment.invoice is None and values[2] == PaymentMethod.CLIENT_CREDIT:
        raise InvalidInput.single(
            "method", _("Method: a payment from client credit must pay an invoice.")
        )
    require_minor_unit(values[0], payment.currency, field="amount", label=_("Amount"))
    if values[2] == PaymentMethod.CLIENT_CREDIT:
        _check_credit(client=payment.client, invoice=payment.invoice, amount=values[0])
    payment.amount, payment.date, payment.method, payment.reference, payment.note = values
    payment.save(update_fields=list(current))
    audit.changed(payment, before)
    return payment


@operation
def reverse_payment(*, payment: Payment, reason: str, acting_user: User | None) -> Payment:
    """Mark a payment reversed (bounced cheque, charge-back, mistake); it is never deleted."""
    ensure_permitted(acting_user, "billing.reverse_payment", _("reverse payments"))
    reason = clean_text(reason or "", field="reason", label=_("Reason")).strip()
    if not reason:
        raise InvalidInput.single("reason", _("Reason: say why the payment is reversed."))
    payment = locking.lock_payment(payment.pk)
    before = audit.snapshot(payment)
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
    audit.changed(payment, before)
    return payment


@operation
def apply_client_credit(
    *, invoice: Invoice, acting_user: User | None, amount: Any = None, date: Any = None
) -> Payment:
    """Pay ``invoice`` from the client's credit: ``amount``, or as much as the credit and
    the balance due allow."""
    if amount is None:
        locked = locking.lock_invoice(invoice.pk)
        amount = min(available_credit(locked.client, locked.currency), locked.balance_due)
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


# --- Manual entries on the client's account ---------------------------------------------


def _post_manual(
    *,
    client: Client,
    amount: Any,
    memo: Any,
    acting_user: User | None,
    date: Any,
    event: str,
    sign: int,
    currency: str | None,
    label: str | None = None,
) -> LedgerEntry:
    """``label``: what the amount is called in a refusal ("Amount")."""
    label = label or _("Amount")
    ensure_permitted(acting_user, "ledger.add_ledgerentry", _("post manual ledger entries"))
    if currency is not None:
        currency = clean_currency(currency)
    amount = clean_amount(amount, field="amount", label=label)
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
    if date is not None:
        check_money_date(date=date, today=business_today(), what="entry")
    # Serialises with every other operation on this client's account.
    client = locking.lock_clients([client.pk])[0]
    currency = currency or client.default_currency
    require_minor_unit(amount, currency, field="amount", label=label)
    if event == Event.IMPORTED_BALANCE:
        _refuse_second_opening_balance(client, currency)
    entry = accounting.post(
        event,
        client=client,
        amount=sign * amount,
        memo=memo,
        acting_user=acting_user,
        date=date,
        currency=currency,
    )
    assert entry is not None  # a manual event always posts its entry (ledger.events)
    audit.created(entry)
    return entry


@operation
def post_manual_credit(
    *,
    client: Client,
    amount: Any,
    memo: str,
    acting_user: User | None,
    date: Any = None,
    currency: str | None = None,
) -> LedgerEntry:
    """Put ``amount`` on the client's account in their favour, in ``currency`` (default:
    the client's)."""
    return _post_manual(
        client=client,
        amount=amount,
        memo=memo,
        acting_user=acting_user,
        date=date,
        event=Event.MANUAL_CREDIT,
        sign=1,
        currency=currency,
    )


@operation
def post_manual_debit(
    *,
    client: Client,
    amount: Any,
    memo: str,
    acting_user: User | None,
    date: Any = None,
    currency: str | None = None,
) -> LedgerEntry:
    """Charge ``amount`` to the client's account, in ``currency`` (default: the client's)."""
    return _post_manual(
        client=client,
        amount=amount,
        memo=memo,
        acting_user=acting_user,
        date=date,
        event=Event.MANUAL_DEBIT,
        sign=-1,
        currency=currency,
    )


def _refuse_second_opening_balance(client: Client, currency: str) -> None:
    """A client's account opens once per currency: a file imported twice would otherwise
    charge its balances twice."""
    first = LedgerEntry.objects.filter(
        client=client, currency=currency, kind=EntryKind.IMPORTED_BALANCE
    ).first()
    if first is not None:
        raise InvalidInput.single(
            "amount",
            _(
                "Opening balance: client %(code)s already has one in %(currency)s, of "
                "%(amount)s on %(date)s; correct it with a manual credit or debit."
            )
            % {
                "code": client.code,
                "currency": currency,
                "amount": format_money(-first.amount, currency),
                "date": formats.date_format(first.date),
            },
        )


@operation
def post_opening_balance(
    *,
    client: Client,
    owed: Any,
    acting_user: User | None,
    date: Any = None,
    currency: str | None = None,
    memo: str | None = None,
) -> LedgerEntry:
    """Open the client's account with what it owed on the cut-over day (``date``) when its
    books came from another product: ``owed`` above zero is owed, below zero is credit the
    client had in hand, in ``currency`` (default: the client's). Once per currency."""
    owed = clean_decimal(
        owed,
        field="amount",
        label=_("Opening balance"),
        decimal_places=2,
        minimum=-MAX_AMOUNT,
        maximum=MAX_AMOUNT,
    )
    if owed == 0:
        raise InvalidInput.single(
            "amount", _("Opening balance: zero opens nothing; leave the client out.")
        )
    return _post_manual(
        client=client,
        amount=abs(owed),
        memo=memo or _("Balance brought in on the cut-over day"),
        acting_user=acting_user,
        date=date,
        event=Event.IMPORTED_BALANCE,
        sign=-1 if owed > 0 else 1,
        currency=currency,
        label=_("Opening balance"),
    )
