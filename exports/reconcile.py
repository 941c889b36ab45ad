"""The journal export checked against the reports, by the real hledger (SPEC: Exports and
imports: the journal's balances equal the app's own reports for the range).

``manage.py check_books_export`` runs it on a server that has hledger; the tests and CI run
it on the demo books, the benchmark's and random ones."""

from __future__ import annotations

import csv
import datetime
import io
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from decimal import Decimal

from exports.books import Books
from exports.formats import journal

ZERO = Decimal("0.00")
# hledger's own checks beyond balancing: every account and commodity declared (-s), and the
# transactions in date order.
CHECKS = ("check", "-s", "ordereddates")


class HledgerMissing(Exception):
    """hledger is not installed (Debian: apt-get install hledger)."""


class HledgerRefused(Exception):
    """hledger found the journal wrong; the message is its own."""


@dataclass(frozen=True)
class Difference:
    figure: str
    currency: str
    journal: Decimal
    report: Decimal

    def __str__(self) -> str:
        return (
            f"{self.figure} in {self.currency}: the journal says {self.journal}, "
            f"the reports {self.report}"
        )


def run_hledger(path: str, *args: str) -> str:
    if shutil.which("hledger") is None:
        raise HledgerMissing("hledger is not installed (Debian, Ubuntu: apt-get install hledger).")
    done = subprocess.run(
        ["hledger", "-f", path, *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise HledgerRefused(done.stderr.strip() or done.stdout.strip())
    return done.stdout


def journal_balances(path: str, *, end: datetime.date) -> dict[str, dict[str, Decimal]]:
    """account -> currency -> balance at the end of ``end``, as hledger adds them."""
    text = run_hledger(
        path,
        "balance",
        "--flat",
        "--no-total",
        "-O",
        "csv",
        "-e",
        str(end + datetime.timedelta(days=1)),
    )
    found: dict[str, dict[str, Decimal]] = {}
    for row in list(csv.reader(io.StringIO(text)))[1:]:
        account, amounts = row[0], row[1]
        for amount in amounts.split(", "):
            if amount.strip() in ("", "0"):
                continue
            number, currency = amount.rsplit(" ", 1)
            found.setdefault(account, {})[currency] = Decimal(number)
    return found


def report_figures(books: Books, *, today: datetime.date) -> dict[str, dict[str, Decimal]]:
    """The same figures from the reports: receivables at the end date, income, each tax and
    the exchange differences for the range, under the journal's account names (income,
    tax and exchange as the journal signs them: what is earned negative)."""
    from reports.selectors import exchange_gains, receivables, revenue, tax_report

    accounts = books.accounts
    figures: dict[str, dict[str, Decimal]] = {}

    def add(account: str, currency: str, amount: Decimal) -> None:
        found = figures.setdefault(account, {})
        found[currency] = found.get(currency, ZERO) + amount

    for currency, amount in receivables(books.end).items():
        add(accounts.receivable, currency, amount)
    for row in revenue(books.start, books.end, period="year", today=today):
        add(accounts.income, row.currency, ZERO - row.income)
    for tax in tax_report(books.start, books.end, period="year"):
        add(accounts.tax_account(tax["label"]), tax["currency"], ZERO - tax["amount"])
    gains = exchange_gains(books.start, books.end, base_currency=books.base_currency)
    add(accounts.exchange, books.base_currency, ZERO - gains.net)
    return _without_zeros(figures)


def _without_zeros(figures: dict[str, dict[str, Decimal]]) -> dict[str, dict[str, Decimal]]:
    kept = {
        account: {currency: amount for currency, amount in amounts.items() if amount}
        for account, amounts in figures.items()
    }
    return {account: amounts for account, amounts in kept.items() if amounts}


def compare(books: Books, *, today: datetime.date) -> list[Difference]:
    """Writes the journal of ``books``, has hledger check it (HledgerRefused if it does not
    pass) and add it up, and returns where its balances differ from the reports (none:
    they agree). The clients' receivables are compared in total per currency, as SPEC
    states them."""
    with tempfile.NamedTemporaryFile(suffix=".journal") as file:
        for piece in journal.write(books):
            file.write(piece)
        file.flush()
        run_hledger(file.name, *CHECKS)
        balances = journal_balances(file.name, end=books.end)
    accounts = books.accounts
    from_journal: dict[str, dict[str, Decimal]] = {}
    prefix = accounts.receivable + ":"
    for account, amounts in balances.items():
        name = accounts.receivable if account.startswith(prefix) else account
        if name in (accounts.money_received, accounts.adjustments, accounts.conversion):
            continue  # not a figure of the reports
        if name == accounts.opening:
            continue
        found = from_journal.setdefault(name, {})
        for currency, amount in amounts.items():
            found[currency] = found.get(currency, ZERO) + amount
    from_journal = _without_zeros(from_journal)
    from_reports = report_figures(books, today=today)
    differences = []
    for account in sorted(set(from_journal) | set(from_reports)):
        mine, theirs = from_journal.get(account, {}), from_reports.get(account, {})
        for currency in sorted(set(mine) | set(theirs)):
            if mine.get(currency, ZERO) != theirs.get(currency, ZERO):
                differences.append(
                    Difference(
                        account, currency, mine.get(currency, ZERO), theirs.get(currency, ZERO)
                    )
                )
    return differences
