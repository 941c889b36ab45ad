"""The books as a QuickBooks Desktop import file, IIF (SPEC: Exports and imports).

IIF is tab-separated text: a row whose first cell starts with "!" names the columns of the
rows of its keyword that follow; a transaction is a TRNS row, one SPL row per other side,
and ENDTRNS. What we read, and where:

- The transaction keywords (TRNSTYPE INVOICE, CREDIT MEMO, PAYMENT, GENERAL JOURNAL), the
  columns (only TRNSTYPE, ACCNT and AMOUNT required; DOCNUM, MEMO, TOPRINT, DUEDATE; on
  distribution lines QNTY, PRICE, INVITEM, TAXABLE) and the sign rule ("debit amounts are
  always positive, credit amounts are always negative", so a transaction's rows add up to
  zero): Intuit's IIF reference,
  http://support.quickbooks.intuit.com/support/Pages/InProductHelp/Core/QB2K8/ContentPackage/Core/IIF/iif_reference_transactions.html
  and its copy with the column notes,
  https://wiki.smartsimple.com/index.php?title=QuickBooks_Column_Headings&oldid=30635
- The lists: ACCNT (NAME and ACCNTTYPE required; AR, INC, OCLIAB, BANK, EQUITY …; ":"
  separates a sub-account from its parent),
  http://support.quickbooks.intuit.com/support/Pages/InProductHelp/Core/QB2K8/ContentPackage/Core/IIF/iif_reference_accounts.html
  and CUST (only NAME required; BADDR1-5, CONT1, PHONE1, EMAIL; ":" separates a
  customer from a job),
  http://support.quickbooks.intuit.com/support/Pages/InProductHelp/Core/QB2K8/ContentPackage/Core/IIF/iif_reference_customer.html
- The headers once at the top, then TRNS, SPL…, ENDTRNS for each transaction:
  http://community.intuit.com/post/detail/aE9lrUUpqr3QjyacfA8pyY and
  http://support.quickbooks.intuit.com/support/Articles/HOW12778
- A sales line's quantity is signed like its amount (QNTY −10, PRICE 10, AMOUNT −100 on a
  sale): the sales receipt of https://money.stackexchange.com/questions/162382 (made from
  the examples of Intuit's IIF import kit). A payment is the money account +amount against
  Accounts Receivable −amount: the PAYMENT example quoted by public converters.
- Dates: the reference says MM/DD/YY; QuickBooks reads four-digit years too (as Intuit's own
  examples and Reckon's, https://community.reckon.com/discussion/8027956/bill-import-iif,
  write them), and MM/DD/YYYY leaves no century to guess.
- Multicurrency: QuickBooks takes a transaction's currency from its customer's record, and
  works out realised exchange gains and losses itself
  (https://support.zed-systems.com/kb/a115/how-to-import-multi-currency-transactions-into-quickbooks.aspx,
  http://support.quickbooks.intuit.com/support/pages/inproducthelp/Core/QB2K12/ContentPackage/Core/Multi_Currency/mc_updated_company_files.html).

What we write, in this order:

- ``!ACCNT``: the accounts the transactions post to, with their types: the receivable
  (AR), income (INC), each tax of the range's documents (OCLIAB), money received (BANK),
  the adjustments and the opening balances (EQUITY), each sub-account's parents first
  with its type. Their names are the settings' (``books.accounts``) without the first
  part, each part capitalised
  (``assets:receivable`` → ``Receivable``, ``liabilities:tax`` and GST → ``Tax:GST``):
  QuickBooks gives each account a type instead of a top-level group, and wants a
  sub-account of its parent's type, which ``assets:receivable`` and ``assets:bank`` under
  one ``assets`` would break. The receivable and money received of another currency than
  the base are accounts of their own, named with the currency (``Receivable USD``):
  QuickBooks keeps a foreign customer's A/R and bank in its currency.
- ``!CUST``: each client with a document or a movement in the range, by code: name,
  address lines (the fifth holds the rest), contact, phone, e-mail.
- The transactions, by date (on a day, documents before movements), each adding up to
  zero exactly:

  - an invoice: INVOICE, the receivable +total (NAME the client, DOCNUM its number,
    DUEDATE, TOPRINT N: OTB Billing sends it); one SPL per line on income for −its net
    (its amount less its share of the invoice discount, ``LineFigure.net``: the discount
    is spread over the lines, so each item's income is what it sold for and the tax
    charged on it, and QuickBooks needs no discount item), QNTY −quantity, PRICE the unit
    price, INVITEM the service's code, TAXABLE Y when the line carries a tax; one SPL per
    tax on its account for −its amount, the memo its label, rate, base and registration
    number. A line whose quantity × price is not its net (a discount) is written as
    quantity 1 at its net, so QuickBooks' figures agree with the amount.
  - a credit note: CREDIT MEMO, the same the other way, DOCNUM its own number.
  - a cancellation: a CREDIT MEMO of the invoice's figures on the day it was made, DOCNUM
    the invoice's number, memo "Invoice … cancelled": a cancellation counts in the period
    it was made, as a negative (SPEC), and the invoice stays in its own period.
  - a payment received: PAYMENT, money received +amount against the receivable −amount.
  - a payment reversed, a refund paid or reversed: GENERAL JOURNAL, money received against
    the receivable by the ledger entry's amount (QuickBooks' CHECK and DEPOSIT would ask to
    be printed or deposited); a manual credit or debit: GENERAL JOURNAL, the adjustments
    account against the receivable; an imported opening balance: the same against the
    opening balances account. DOCNUM the payment's reference, MEMO the ledger's memo.

Amounts are in each document's own currency, as QuickBooks Desktop keeps a foreign
customer's transactions in that customer's currency. Realised exchange differences are
left out: QuickBooks works them out itself from the rates of the invoice and of the payment,
so writing ours too would count them twice. What clients owed before the range is not
written: the file of the range before holds it.

Text cells hold no tab or line break (each run becomes a space), and text a spreadsheet
would run as a formula starts with "'" (``writing.text``: a spreadsheet opens IIF files too);
numbers never do. A ":" in a client's name would make a QuickBooks job, so it becomes "-".
Memos we write are English, as are the keywords, so the same books give the same bytes in
any language. UTF-8 without a byte order mark, CRLF line ends.
"""

from __future__ import annotations

import datetime
import heapq
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal

from exports.books import (
    ADJUSTMENT,
    CANCELLATION,
    CREDIT_NOTE,
    INVOICE,
    MONEY,
    OPENING,
    Books,
    Document,
    Movement,
    TaxFigure,
)
from exports.writing import ROWS_PER_CHUNK, text
from ledger.events import EntryKind

ONE = Decimal("1.000")
ACCOUNT_HEADER = ("!ACCNT", "NAME", "ACCNTTYPE")
CUSTOMER_HEADER = (
    "!CUST",
    "NAME",
    "BADDR1",
    "BADDR2",
    "BADDR3",
    "BADDR4",
    "BADDR5",
    "CONT1",
    "PHONE1",
    "EMAIL",
)
TRANSACTION_HEADERS = (
    (
        "!TRNS",
        "TRNSTYPE",
        "DATE",
        "ACCNT",
        "NAME",
        "AMOUNT",
        "DOCNUM",
        "MEMO",
        "TOPRINT",
        "DUEDATE",
    ),
    (
        "!SPL",
        "TRNSTYPE",
        "DATE",
        "ACCNT",
        "NAME",
        "AMOUNT",
        "DOCNUM",
        "MEMO",
        "QNTY",
        "PRICE",
        "INVITEM",
        "TAXABLE",
    ),
    ("!ENDTRNS",),
)
ADDRESS_LINES = 5
# Whitespace other than a plain space: a tab ends a cell and a line break a row.
_NOT_ONE_LINE = re.compile(r"[^\S ]+")


@dataclass(frozen=True)
class Side:
    """One row of a transaction: its TRNS row or one of its SPL rows."""

    account: str
    amount: Decimal
    name: str = ""
    memo: str = ""
    quantity: Decimal | None = None
    price: Decimal | None = None
    item: str = ""
    taxable: bool | None = None


@dataclass(frozen=True)
class Transaction:
    kind: str
    """TRNSTYPE."""
    date: datetime.date
    number: str
    sides: tuple[Side, ...]
    """The TRNS row's, then the SPL rows'."""
    to_print: bool | None = None
    due_date: datetime.date | None = None


def write(books: Books) -> Iterator[bytes]:
    rows: list[Sequence[str]] = []
    for row in _rows(books):
        rows.append(row)
        if len(rows) >= ROWS_PER_CHUNK:
            yield _lines(rows)
            rows = []
    yield _lines(rows)


def _lines(rows: Iterable[Sequence[str]]) -> bytes:
    return "".join("\t".join(row) + "\r\n" for row in rows).encode()


def _rows(books: Books) -> Iterator[Sequence[str]]:
    codes = set(books.client_codes())
    if codes:  # a range without clients has nothing to post
        yield ACCOUNT_HEADER
        yield from (("ACCNT", _text(name), kind) for name, kind in _accounts(books))
        yield CUSTOMER_HEADER
        for client in books.clients():
            if client.code in codes:
                yield (
                    "CUST",
                    _customer(client.name),
                    *_address(client.address),
                    _text(client.contact_person),
                    _text(client.phone),
                    _text(client.email),
                )
    yield from TRANSACTION_HEADERS
    for transaction in _transactions(books):
        yield from _transaction_rows(transaction)


def quickbooks_name(name: str) -> str:
    """A journal account name as QuickBooks names it: without its first part (assets,
    liabilities, income, equity: QuickBooks types its accounts instead), each part
    capitalised: ``assets:receivable`` → ``Receivable``; one part stays, capitalised."""
    parts = name.split(":")
    return ":".join(part[:1].upper() + part[1:] for part in (parts[1:] or parts))


def _receivable(books: Books, currency: str) -> str:
    return _in_currency(books, quickbooks_name(books.accounts.receivable), currency)


def _money_received(books: Books, currency: str) -> str:
    return _in_currency(books, quickbooks_name(books.accounts.money_received), currency)


def _in_currency(books: Books, name: str, currency: str) -> str:
    return name if currency == books.base_currency else f"{name} {currency}"


def _tax(books: Books, label: str) -> str:
    return f"{quickbooks_name(books.accounts.tax)}:{label}"


def _accounts(books: Books) -> list[tuple[str, str]]:
    """(name, ACCNTTYPE) of every account the transactions can post to, each once, a
    sub-account's parents before it with its type."""
    currencies = books.currencies()
    found = [(_receivable(books, currency), "AR") for currency in currencies]
    found += [(quickbooks_name(books.accounts.income), "INC")]
    found += [(_tax(books, label), "OCLIAB") for label in books.tax_labels()]
    found += [(_money_received(books, currency), "BANK") for currency in currencies]
    found += [(quickbooks_name(books.accounts.adjustments), "EQUITY")]
    found += [(quickbooks_name(books.accounts.opening), "EQUITY")]
    declared: dict[str, str] = {}
    for name, kind in found:
        parts = name.split(":")
        for depth in range(1, len(parts) + 1):
            declared.setdefault(":".join(parts[:depth]), kind)
    return list(declared.items())


def _transactions(books: Books) -> Iterator[Transaction]:
    """Every document and movement of the range, by date; on a day, the documents first (a
    payment follows the invoice it pays), each stream in its own order (heapq.merge keeps
    it on equal dates)."""
    documents = (_document(books, document) for document in books.documents())
    movements = (_movement(books, movement) for movement in books.movements())
    return heapq.merge(documents, movements, key=lambda transaction: transaction.date)


def _document(books: Books, document: Document) -> Transaction:
    """An invoice: the receivable +total against each line's net and each tax, negative;
    a credit note or a cancellation: the same the other way."""
    accounts = books.accounts
    sign = document.sign
    receivable = Side(
        _receivable(books, document.currency),
        sign * document.total,
        name=document.client_name,
        memo=_document_memo(document),
    )
    lines = tuple(
        Side(
            quickbooks_name(accounts.income),
            -sign * line.net,
            memo=line.description,
            quantity=-sign * (line.quantity if line.priced_exactly else ONE),
            price=line.unit_price if line.priced_exactly else line.net,
            item=line.service_code,
            taxable=bool(line.taxes),
        )
        for line in document.lines
    )
    taxes = tuple(
        Side(_tax(books, tax.label), -sign * tax.amount, memo=_tax_memo(tax))
        for tax in document.taxes
    )
    return Transaction(
        kind="INVOICE" if document.kind == INVOICE else "CREDIT MEMO",
        date=document.date,
        number=document.number,
        sides=(receivable, *lines, *taxes),
        to_print=False,
        due_date=document.due_date if document.kind == INVOICE else None,
    )


def _document_memo(document: Document) -> str:
    if document.kind == CREDIT_NOTE:
        memo = f"Credit note for {document.invoice_number}"
    elif document.kind == CANCELLATION:
        memo = f"Invoice {document.number} cancelled"
    else:
        return document.note
    return f"{memo}: {document.note}" if document.note else memo


def _tax_memo(tax: TaxFigure) -> str:
    """ "GST 5% on 973.75 (812345678 RT0001)": the tax as the document shows it."""
    memo = f"{tax.label} {tax.rate.normalize():f}% on {tax.base:f}"
    return f"{memo} ({tax.number})" if tax.number else memo


def _movement(books: Books, movement: Movement) -> Transaction:
    """Money received or given back (or a manual entry) against the receivable: the
    receivable goes down by what the ledger entry puts in the client's favour."""
    accounts = books.accounts
    other = {
        MONEY: _money_received(books, movement.currency),
        OPENING: quickbooks_name(accounts.opening),
        ADJUSTMENT: quickbooks_name(accounts.adjustments),
    }[movement.other_side]
    sides = (
        Side(other, movement.amount, name=movement.client_name, memo=movement.memo),
        Side(
            _receivable(books, movement.currency),
            -movement.amount,
            name=movement.client_name,
            memo=movement.memo,
        ),
    )
    return Transaction(
        kind="PAYMENT" if movement.kind == EntryKind.PAYMENT_CONFIRMED else "GENERAL JOURNAL",
        date=movement.date,
        number=movement.reference,
        sides=sides,
    )


def _transaction_rows(transaction: Transaction) -> Iterator[Sequence[str]]:
    first, *others = transaction.sides
    common = (transaction.kind, _date(transaction.date))
    yield (
        "TRNS",
        *common,
        _text(first.account),
        _customer(first.name),
        _number(first.amount),
        _text(transaction.number),
        _text(first.memo),
        "" if transaction.to_print is None else ("Y" if transaction.to_print else "N"),
        _date(transaction.due_date),
    )
    for side in others:
        yield (
            "SPL",
            *common,
            _text(side.account),
            _customer(side.name),
            _number(side.amount),
            _text(transaction.number),
            _text(side.memo),
            _number(side.quantity),
            _number(side.price),
            _text(side.item),
            "" if side.taxable is None else ("Y" if side.taxable else "N"),
        )
    yield ("ENDTRNS",)


# --- Cells ----------------------------------------------------------------------------------
def _text(value: str) -> str:
    """A text cell: one line, and kept as text by a spreadsheet (``writing.text``)."""
    return text(_NOT_ONE_LINE.sub(" ", value).strip())


def _customer(name: str) -> str:
    """A client's name as a QuickBooks customer: ":" would name a job of a customer."""
    return _text(name.replace(":", "-"))


def _address(address: str) -> tuple[str, ...]:
    """BADDR1-5: the address's lines, the fifth holding the rest (joined by ", ")."""
    lines = [line.strip() for line in address.splitlines() if line.strip()]
    if len(lines) > ADDRESS_LINES:
        lines[ADDRESS_LINES - 1 :] = [", ".join(lines[ADDRESS_LINES - 1 :])]
    lines += [""] * (ADDRESS_LINES - len(lines))
    return tuple(_text(line) for line in lines)


def _number(value: Decimal | None) -> str:
    """A plain decimal as stored, never "-0.00"; nothing for None. Never neutralised."""
    if value is None:
        return ""
    return f"{value if value else abs(value):f}"


def _date(value: datetime.date | None) -> str:
    return f"{value:%m/%d/%Y}" if value is not None else ""
