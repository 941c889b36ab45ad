"""The only writer of the ledger: appends entries and moves the balances they change.

Called by ``billing.accounting`` (the one path for money events) inside the transaction of
the operation that caused the event, and by nothing else: ``append`` for each live event,
``append_many`` for history loaded in bulk and for invoices issued in a batch.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Field, Model
from django.utils import timezone
from django.utils.translation import gettext as _

from otb.fields import MAX_AMOUNT, ZERO
from otb.operations import InvalidInput

from .events import EntryKind
from .models import MEMO_MAX_LENGTH, Account, LedgerEntry


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
    credit_note_id: int | None = None
    refund_id: int | None = None
    recorded_at: datetime.datetime | None = None
    """When the entry was recorded, for history loaded in bulk (``append_many``); None: now.
    A live event's entry is recorded when it happens: ``append`` refuses any other time."""


def append(posting: Posting, *, client_label: str) -> LedgerEntry:
    """Append one entry and move its client's balance in its currency, in the caller's
    transaction. Refuses (InvalidInput on "amount") an entry that would take the balance
    beyond what the column holds; ``client_label`` names the client in that message."""
    if posting.recorded_at is not None:
        raise ValueError("A live entry is recorded now; recorded_at is for append_many.")
    entry = LedgerEntry.objects.create(
        client_id=posting.client_id,
        kind=posting.kind,
        amount=posting.amount,
        currency=posting.currency,
        memo=posting.memo[:MEMO_MAX_LENGTH],
        invoice_id=posting.invoice_id,
        payment_id=posting.payment_id,
        credit_note_id=posting.credit_note_id,
        refund_id=posting.refund_id,
        created_by=posting.created_by,
        date=posting.date,
    )
    _move_balance(posting.client_id, posting.currency, posting.amount, client_label)
    if posting.kind == EntryKind.IMPORTED_BALANCE:
        _open_once(entry, client_label)
    return entry


def _open_once(entry: LedgerEntry, client_label: str) -> None:
    """A balance brought in opens its client's account in its currency once: the account
    keeps the entry that opened it, set only where none has (one UPDATE, so two imports at
    once take turns on the row and the second finds it set)."""
    opened = Account.objects.filter(
        client_id=entry.client_id, currency=entry.currency, opened_by__isnull=True
    ).update(opened_by=entry)
    if not opened:
        raise _open_already(client_label, entry.currency)


def _open_already(client_label: str, currency: str) -> InvalidInput:
    return InvalidInput.single(
        "amount",
        _("Opening balance: the account of client %(code)s in %(currency)s is open already.")
        % {"code": client_label, "currency": currency},
    )


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
    raise _beyond_the_books(client_label)


def _beyond_the_books(client_label: str) -> InvalidInput:
    return InvalidInput.single(
        "amount",
        _(
            "Amount: this would take the balance of client %(code)s beyond the largest "
            "amount the books can hold (%(max)s)."
        )
        % {"code": client_label, "max": f"{MAX_AMOUNT:,}"},
    )


def append_many(postings: Iterable[Posting]) -> int:
    """Append many entries at once and move every balance they touch, in one transaction:
    for history loaded in bulk (``billing.accounting.post_in_bulk``), where ``append``'s
    statements for each entry would multiply the time of a load of millions, and for a
    batch of invoices issued at once (``billing.accounting.issue_in_bulk``, the recurring
    run). Returns how many entries were written.

    The balances the entries touch are read under a lock and checked first: an entry, or a
    balance it would make, beyond what the column holds is refused (InvalidInput on
    "amount", the client named by its id) and nothing is written. Then each account moves
    by the sum of its entries, or is opened with it.
    """
    postings = list(postings)
    if not postings:
        return 0
    moves: dict[tuple[int, str], Decimal] = {}
    for posting in postings:
        if abs(posting.amount) > MAX_AMOUNT:
            raise _beyond_the_books(f"#{posting.client_id}")
        key = (posting.client_id, posting.currency)
        moves[key] = moves.get(key, ZERO) + posting.amount
    with transaction.atomic():
        # Locked in the order of the unique index, so that two loads cannot deadlock.
        held = {
            (client_id, currency): balance
            for client_id, currency, balance in Account.objects.select_for_update()
            .filter(client_id__in={client_id for client_id, _currency in moves})
            .order_by("client_id", "currency")
            .values_list("client_id", "currency", "balance")
        }
        for (client_id, currency), amount in moves.items():
            if abs(held.get((client_id, currency), ZERO) + amount) > MAX_AMOUNT:
                raise _beyond_the_books(f"#{client_id}")
        _insert_entries(postings)
        _move_balances(moves)
        _open_in_bulk(postings)
    return len(postings)


def _open_in_bulk(postings: list[Posting]) -> None:
    """The accounts the balances brought in among ``postings`` open, each once (as
    ``_open_once``): two into one account in one load are refused like a second later."""
    for client_id, currency in {
        (p.client_id, p.currency) for p in postings if p.kind == EntryKind.IMPORTED_BALANCE
    }:
        entries = LedgerEntry.objects.filter(
            client_id=client_id, currency=currency, kind=EntryKind.IMPORTED_BALANCE
        ).order_by("-id")
        newest = entries.first()
        assert newest is not None  # inserted just now
        if entries.count() > 1:
            raise _open_already(f"#{client_id}", currency)
        _open_once(newest, f"#{client_id}")


def _column(model: type[Model], name: str) -> str:
    """The quoted column of the model's concrete field ``name``."""
    field = model._meta.get_field(name)
    assert isinstance(field, Field) and field.column
    return connection.ops.quote_name(field.column)


def _move_balances(moves: dict[tuple[int, str], Decimal]) -> None:
    # One statement adds each sum to its account, or opens the account with it (also one
    # that another transaction's first entry opened meanwhile: no row to lock before).
    # Django's bulk_update would write a CASE of every account: quadratic in MariaDB.
    table = connection.ops.quote_name(Account._meta.db_table)
    client, currency, balance = (
        _column(Account, name) for name in ("client", "currency", "balance")
    )
    if connection.vendor == "mysql":
        on_conflict = f"ON DUPLICATE KEY UPDATE {balance} = {balance} + VALUES({balance})"
    else:
        on_conflict = (
            f"ON CONFLICT ({client}, {currency}) "
            f"DO UPDATE SET {balance} = {table}.{balance} + excluded.{balance}"
        )
    sql = f"INSERT INTO {table} ({client}, {currency}, {balance}) VALUES (%s, %s, %s) {on_conflict}"
    with connection.cursor() as cursor:
        cursor.executemany(
            sql, [(client_id, code, amount) for (client_id, code), amount in sorted(moves.items())]
        )


def _insert_entries(postings: list[Posting]) -> None:
    # Plain tuples in one multi-row INSERT (executemany): a model instance per entry would
    # cost more than the database does, and bulk_create would stamp every entry "recorded
    # now" (auto_now_add), which history is not.
    columns = [
        _column(LedgerEntry, name)
        for name in (
            "client",
            "date",
            "kind",
            "amount",
            "currency",
            "memo",
            "invoice",
            "payment",
            "credit_note",
            "refund",
            "created_by",
            "created_at",
        )
    ]
    ops = connection.ops
    sql = (
        f"INSERT INTO {ops.quote_name(LedgerEntry._meta.db_table)} "
        f"({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
    )
    now = timezone.now()
    rows = [
        (
            p.client_id,
            ops.adapt_datefield_value(p.date),
            p.kind,
            p.amount,
            p.currency,
            p.memo[:MEMO_MAX_LENGTH],
            p.invoice_id,
            p.payment_id,
            p.credit_note_id,
            p.refund_id,
            p.created_by.pk if p.created_by is not None else None,
            ops.adapt_datetimefield_value(p.recorded_at or now),
        )
        for p in postings
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def close_accounts(client_id: int) -> None:
    """Remove a client's accounts before the client itself is deleted: only a client
    without a single ledger entry is, so each of its balances is 0.00."""
    if LedgerEntry.objects.filter(client_id=client_id).exists():
        raise ValueError("a client with ledger entries keeps its accounts")
    Account.objects.filter(client_id=client_id).delete()
