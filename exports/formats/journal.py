"""The books as a plain-text accounting journal, in the syntax hledger and ledger share
(SPEC: Exports and imports).

Every document and every movement of money is a transaction whose postings add up to zero
in each currency:

- an invoice: the client's receivable (``assets:receivable:CODE``) + total; income −(subtotal
  − discount); each tax −its amount;
- a credit note, and a cancellation on the day it was made: the same, the other way;
- a payment received: money received + amount, the receivable −amount; its reversal, a
  refund paid or reversed, the other way or again; a manual credit or debit: the receivable
  against the adjustments account;
- a realised exchange difference (of a payment in another currency, in the base currency):
  the exchange differences account −gain against the conversion account;
- what clients owed when the range starts: their receivables against the opening balances.

Amounts are in each document's own currency (a commodity each), so a client's receivable in
USD is the client's USD ledger. The balances equal the reports for the range: the
receivables equal −(the clients' ledger balances) at the end date, income equals the
revenue report's income, each tax its tax report figure, and the exchange differences
account the exchange gains report (exports/tests/test_journal_balances.py). One exception,
said in the README: an issued invoice changed after the range counts with its figures as
they are now, as the reports count it, so its receivable differs from the ledger's until
the change.

Accounts and commodities are declared first (``hledger check -s`` passes); transactions
follow in date order (``hledger check ordereddates`` passes).
"""

from __future__ import annotations

import datetime
import heapq
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from billing.models import Client
from exports.books import (
    ADJUSTMENT,
    CANCELLATION,
    CREDIT_NOTE,
    MONEY,
    OPENING,
    Books,
    Document,
    ExchangeDifference,
    Movement,
    Opening,
)

ZERO = Decimal("0.00")
INDENT = "    "
# The column the amounts end at: wide enough for most account names; a longer one keeps
# its two spaces.
AMOUNT_END = 72
TRANSACTIONS_PER_CHUNK = 200


@dataclass(frozen=True)
class Transaction:
    date: datetime.date
    code: str
    payee: str
    note: str
    postings: tuple[tuple[str, Decimal, str], ...]
    """(account, amount, currency), in the order written."""
    comment: str = ""


def write(books: Books) -> Iterator[bytes]:
    """The journal of ``books``, streamed a few hundred transactions at a time."""
    openings = books.openings()
    yield _header(books, openings).encode()
    pending: list[str] = []
    for transaction in _transactions(books, openings):
        pending.append(_format(transaction))
        if len(pending) >= TRANSACTIONS_PER_CHUNK:
            yield "".join(pending).encode()
            pending = []
    yield "".join(pending).encode()


def _transactions(books: Books, openings: list[Opening]) -> Iterator[Transaction]:
    """Every transaction, in date order: the opening balances first, then on each day the
    documents, the movements of money and the exchange differences."""
    opening = _opening(books, openings)
    if opening is not None:
        yield opening
    yield from heapq.merge(
        (_document(books, document) for document in books.documents()),
        (_movement(books, movement) for movement in books.movements()),
        (_exchange(books, difference) for difference in books.exchange_differences()),
        key=lambda transaction: transaction.date,
    )


def _opening(books: Books, openings: list[Opening]) -> Transaction | None:
    if not openings:
        return None
    postings = [
        (books.accounts.client(opening.client_code), opening.receivable, opening.currency)
        for opening in openings
    ]
    totals: dict[str, Decimal] = {}
    for _account, amount, currency in postings:
        totals[currency] = totals.get(currency, ZERO) + amount
    postings += [
        (books.accounts.opening, ZERO - total, currency)
        for currency, total in sorted(totals.items())
    ]
    return Transaction(
        date=books.start,
        code="",
        payee=books.business_name or "Opening balances",
        note=f"What clients owed at the start of {books.start.isoformat()}",
        postings=tuple(postings),
    )


def _document(books: Books, document: Document) -> Transaction:
    """An invoice (+) or a credit note or cancellation (−): the receivable against income
    and each tax."""
    sign = document.sign
    postings = [
        (books.accounts.client(document.client_code), sign * document.total, document.currency),
        (books.accounts.income, -sign * document.income, document.currency),
    ]
    postings += [
        (books.accounts.tax_account(tax.label), -sign * tax.amount, document.currency)
        for tax in document.taxes
        if tax.amount
    ]
    if document.kind == CREDIT_NOTE:
        note = f"Credit note {document.number} for invoice {document.invoice_number}"
    elif document.kind == CANCELLATION:
        note = f"Invoice {document.number} cancelled"
    else:
        note = f"Invoice {document.number}"
    return Transaction(
        date=document.date,
        code=document.number,
        payee=document.client_name,
        note=note,
        postings=tuple(
            (account, amount + ZERO, currency) for account, amount, currency in postings
        ),
        comment=f"client: {document.client_code}",
    )


def _movement(books: Books, movement: Movement) -> Transaction:
    """A movement on a client's account: the receivable goes down by what the ledger
    entry puts in the client's favour, against money received, the opening balances (an
    imported opening balance) or the adjustments."""
    other = {
        MONEY: books.accounts.money_received,
        OPENING: books.accounts.opening,
        ADJUSTMENT: books.accounts.adjustments,
    }[movement.other_side]
    return Transaction(
        date=movement.date,
        code="",
        payee=movement.client_name,
        note=movement.memo,
        postings=(
            (other, movement.amount, movement.currency),
            (
                books.accounts.client(movement.client_code),
                ZERO - movement.amount,
                movement.currency,
            ),
        ),
        comment=f"client: {movement.client_code}",
    )


def _exchange(books: Books, difference: ExchangeDifference) -> Transaction:
    gain = difference.difference
    what = "gain" if gain > 0 else "loss"
    reference = f" {difference.reference}" if difference.reference else ""
    on = f" ({difference.invoice_number})" if difference.invoice_number else ""
    return Transaction(
        date=difference.date,
        code="",
        payee=difference.client_name,
        note=(
            f"Exchange {what} on payment{reference} of "
            f"{difference.amount:f} {difference.currency}{on}"
        ),
        postings=(
            (books.accounts.exchange, ZERO - gain, books.base_currency),
            (books.accounts.conversion, gain + ZERO, books.base_currency),
        ),
        comment=f"client: {difference.client_code}",
    )


# --- Writing --------------------------------------------------------------------------------
def _line_text(text: str) -> str:
    """Text on a transaction's first line: one line, no ";" (a comment would start) and no
    "|" (hledger's payee and note separator) of its own."""
    return " ".join(text.replace(";", ",").replace("|", "/").split())


def _format(transaction: Transaction) -> str:
    code = f" ({_line_text(transaction.code)})" if transaction.code else ""
    payee, note = _line_text(transaction.payee), _line_text(transaction.note)
    description = f"{payee} | {note}" if payee else note
    lines = [f"{transaction.date.isoformat()} *{code} {description}"]
    if transaction.comment:
        lines.append(f"{INDENT}; {_line_text(transaction.comment)}")
    for account, amount, currency in transaction.postings:
        amount_text = f"{amount:f} {currency}"
        gap = max(2, AMOUNT_END - len(INDENT) - len(account) - len(amount_text))
        lines.append(f"{INDENT}{account}{' ' * gap}{amount_text}")
    return "\n".join(lines) + "\n\n"


def _header(books: Books, openings: list[Opening]) -> str:
    """The journal's comment, then its commodities and accounts, declared before use: every
    client's receivable, the taxes and currencies of the range (and of what was owed when
    it starts), and the settings' other accounts."""
    accounts = books.accounts
    names = {
        accounts.income,
        accounts.money_received,
        accounts.adjustments,
        accounts.exchange,
        accounts.conversion,
        accounts.opening,
    }
    names |= {accounts.client(code) for code in Client.objects.values_list("code", flat=True)}
    names |= {accounts.tax_account(label) for label in books.tax_labels()}
    currencies = {*books.currencies(), *(opening.currency for opening in openings)}
    lines = [
        f"; {_line_text(books.business_name) or 'OTB Billing'}: the books from "
        f"{books.start.isoformat()} to {books.end.isoformat()}, exported by OTB Billing.",
        "; Amounts in each document's own currency; exchange differences in the base "
        f"currency ({books.base_currency}).",
        "",
    ]
    for currency in sorted(currencies):
        lines += [f"commodity {currency}", f"{INDENT}format 1000.00 {currency}"]
    lines.append("")
    lines += [f"account {name}" for name in sorted(names)]
    return "\n".join(lines) + "\n\n"
