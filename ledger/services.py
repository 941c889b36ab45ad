"""Writes to the client ledger. Entries are only ever added (SPEC: Client ledger)."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db.models import F
from django.utils.translation import gettext as _

from billing.inputs import clean_amount, clean_date, require_minor_unit
from billing.models import Client, Invoice, Payment
from billing.money import MAX_AMOUNT, format_money
from otb.operations import DomainError, InvalidInput, ensure_permitted, operation
from settings_app.selectors import business_today

from .models import EntryKind, LedgerEntry

MEMO_MAX_LENGTH = LedgerEntry._meta.get_field("memo").max_length


def post_entry(
    *,
    client: Client,
    kind: str,
    amount: Decimal,
    memo: str,
    acting_user,
    invoice: Invoice | None = None,
    payment: Payment | None = None,
    date: datetime.date | None = None,
) -> LedgerEntry:
    """Append one entry. Called by the operations that change what a client owes, inside
    their transaction; it is not an operation of its own."""
    entry = LedgerEntry.objects.create(
        client=client,
        kind=kind,
        amount=amount,
        currency=invoice.currency if invoice is not None else client.default_currency,
        memo=memo[:MEMO_MAX_LENGTH],
        invoice=invoice,
        payment=payment,
        created_by=acting_user,
        date=date or business_today(),
    )
    # In the database, not from the object in hand: another transaction may have moved it.
    # The bounds make the balance column's range a refusal, not a value SQLite stores and
    # cannot read back (or MariaDB refuses with an error).
    moved = Client.objects.filter(
        pk=client.pk, balance__gte=-MAX_AMOUNT - amount, balance__lte=MAX_AMOUNT - amount
    ).update(balance=F("balance") + amount)
    if not moved:
        raise InvalidInput.single(
            "amount",
            _(
                "Amount: this would take the balance of client %(code)s beyond the largest "
                "amount the books can hold (%(max)s)."
            )
            % {"code": client.code, "max": format_money(MAX_AMOUNT)},
        )
    return entry


def _post_manual(*, client, amount, memo, acting_user, date, kind, sign) -> LedgerEntry:
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
    try:
        client = Client.objects.select_for_update().get(pk=client.pk)
    except Client.DoesNotExist:
        raise DomainError(_("That client no longer exists."), code="not_found") from None
    require_minor_unit(amount, client.default_currency, field="amount", label=_("Amount"))
    return post_entry(
        client=client,
        kind=kind,
        amount=sign * amount,
        memo=memo,
        acting_user=acting_user,
        date=date,
    )


@operation
def post_manual_credit(
    *,
    client: Client,
    amount: Decimal,
    memo: str,
    acting_user,
    date: datetime.date | None = None,
) -> LedgerEntry:
    """Put ``amount`` on the client's account in their favour."""
    return _post_manual(
        client=client,
        amount=amount,
        memo=memo,
        acting_user=acting_user,
        date=date,
        kind=EntryKind.MANUAL_CREDIT,
        sign=1,
    )


@operation
def post_manual_debit(
    *,
    client: Client,
    amount: Decimal,
    memo: str,
    acting_user,
    date: datetime.date | None = None,
) -> LedgerEntry:
    """Charge ``amount`` to the client's account."""
    return _post_manual(
        client=client,
        amount=amount,
        memo=memo,
        acting_user=acting_user,
        date=date,
        kind=EntryKind.MANUAL_DEBIT,
        sign=-1,
    )
