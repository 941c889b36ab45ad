"""The only writer of the ledger: appends entries and moves the balances they change.

Called by ``billing.accounting`` (the one path for money events) inside the transaction of
the operation that caused the event, and by nothing else.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils.translation import gettext as _

from otb.fields import MAX_AMOUNT
from otb.operations import InvalidInput

from .models import Account, LedgerEntry

MEMO_MAX_LENGTH: int = LedgerEntry._meta.get_field("memo").max_length  # type: ignore[assignment]


@dataclass(frozen=True)
class Posting:
    """One entry to append."""

    client_id: int
    kind: str
    amount: Decimal
    currency: str
    memo: str
    date: datetime.date
    created_by: Any = None
    invoice_id: int | None = None
    payment_id: int | None = None


def append(posting: Posting, *, client_label: str) -> LedgerEntry:
    """Append one entry and move its client's balance in its currency, in the caller's
    transaction. Refuses (InvalidInput on "amount") an entry that would take the balance
    beyond what the column holds; ``client_label`` names the client in that message."""
    entry = LedgerEntry.objects.create(
        client_id=posting.client_id,
        kind=posting.kind,
        amount=posting.amount,
        currency=posting.currency,
        memo=posting.memo[:MEMO_MAX_LENGTH],
        invoice_id=posting.invoice_id,
        payment_id=posting.payment_id,
        created_by=posting.created_by,
        date=posting.date,
    )
    _move_balance(posting.client_id, posting.currency, posting.amount, client_label)
    return entry


def _move_balance(client_id: int, currency: str, amount: Decimal, client_label: str) -> None:
    # In the database, not from an object in hand: another transaction may have moved it.
    # The bounds make the column's range a refusal, not a value SQLite stores and cannot
    # read back (or MariaDB refuses with an error).
    account = Account.objects.filter(client_id=client_id, currency=currency)
    moved = account.filter(
        balance__gte=-MAX_AMOUNT - amount, balance__lte=MAX_AMOUNT - amount
    ).update(balance=F("balance") + amount)
    if moved:
        return
    if not account.exists() and abs(amount) <= MAX_AMOUNT:
        try:
            # A savepoint: on a race with another first entry the outer transaction
            # stays usable, and the row that won is moved instead.
            with transaction.atomic():
                Account.objects.create(client_id=client_id, currency=currency, balance=amount)
            return
        except IntegrityError:
            return _move_balance(client_id, currency, amount, client_label)
    raise InvalidInput.single(
        "amount",
        _(
            "Amount: this would take the balance of client %(code)s beyond the largest "
            "amount the books can hold (%(max)s)."
        )
        % {"code": client_label, "max": f"{MAX_AMOUNT:,}"},
    )


def store_balances() -> None:
    """Every account's balance summed again from the entries: after entries were written in
    bulk (the benchmark data), as the migration that made the accounts did."""
    Account.objects.all().delete()
    sums = (
        LedgerEntry.objects.order_by()
        .values("client_id", "currency")
        .annotate(total=Sum("amount"))
        .values_list("client_id", "currency", "total")
    )
    Account.objects.bulk_create(
        (
            Account(client_id=client_id, currency=currency, balance=Decimal(total))
            for client_id, currency, total in sums
        ),
        batch_size=5000,
    )
