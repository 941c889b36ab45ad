"""The navigation's search, and the client type-ahead of the invoice and payment forms: one
box that finds clients, invoices and payments (issue 16, item 21).

Every part reads an index at a million invoices (bench/RESULTS.md, "search"): invoice
numbers by the number and sequence indexes (``lists.number_search``), amounts by
``invoice_total``, a client's invoices by ``invoice_client_created``, payment references by
``payment_reference``. Clients are found by a part of the code, name, e-mail or contact
person (``lists.filter_clients``): no B-tree index serves a part found anywhere, and the
table holds thousands of rows, which are read whole in milliseconds.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import QuerySet

from otb.numbers import parse_plain

from .lists import filter_clients, filter_payments, number_search
from .models import Client, Invoice, Payment

LIMIT = 10
# What a person types for an amount: "1130", "1,130.00", "1130.00 CAD", "$1,130".
_AMOUNT = re.compile(r"\$?\s*([0-9][0-9,]*(?:\.[0-9]+)?)\s*[A-Za-z]{0,3}")


@dataclass
class Found:
    query: str
    clients: list[Client] = field(default_factory=list)
    invoices: list[Invoice] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)

    @property
    def anything(self) -> bool:
        return bool(self.clients or self.invoices or self.payments)


def search_term(query: str) -> str:
    """What is searched for: ``query`` without control characters (a NUL would match every
    row of a SQLite LIKE), stripped, at most 100 characters."""
    return "".join(ch for ch in query if ch.isprintable()).strip()[:100]


def amount_in(term: str) -> Decimal | None:
    """The amount ``term`` writes, thousands separators and a currency allowed, or None."""
    match = _AMOUNT.fullmatch(term.strip())
    if not match:
        return None
    digits = match.group(1)
    if "," in digits and not re.fullmatch(r"[0-9]{1,3}(,[0-9]{3})*(\.[0-9]+)?", digits):
        return None
    return parse_plain(digits.replace(",", ""))


def find_clients(term: str, *, limit: int = LIMIT, active_only: bool = False) -> list[Client]:
    """Clients with ``term`` in their code, name, e-mail or contact person: the exact code
    first, then active ones before inactive ones, by code."""
    term = search_term(term)
    if not term:
        return []
    clients: QuerySet[Client] = filter_clients(
        Client.objects.all(), search=term, is_active=True if active_only else None
    )
    found = list(clients.order_by("-is_active", "code")[:limit])
    found.sort(key=lambda client: client.code != term.upper())
    return found


def find_invoices(
    term: str, *, clients: list[Client], today: datetime.date, limit: int = LIMIT
) -> list[Invoice]:
    """Invoices whose number starts with ``term`` (or is its sequence: 42 is INV-0042), by
    number; then those whose total is the amount ``term`` writes, and those of ``clients``,
    the newest first. Each kind is read from its own index, then merged without repeats;
    each has ``shown_status`` as of ``today``, as the invoice list shows it."""
    term = search_term(term)
    if not term:
        return []
    invoices = Invoice.objects.select_related("client").with_shown_status(today=today)
    # In the order of the index the prefix is read from: ordered by anything else, MariaDB
    # may walk that other index until ten match, which for a rare number is all of them.
    parts = [invoices.filter(number_search(term)).order_by("number")[:limit]]
    amount = amount_in(term)
    if amount is not None:
        parts.append(invoices.filter(total=amount).order_by("-created_at", "-id")[:limit])
    for client in clients[:3]:
        parts.append(invoices.filter(client=client).order_by("-created_at", "-id")[:limit])
    found: dict[int, Invoice] = {}
    for part in parts:
        for invoice in part:
            found.setdefault(invoice.pk, invoice)
    return list(found.values())[:limit]


def find_payments(term: str, *, limit: int = LIMIT) -> list[Payment]:
    """Payments whose reference starts with ``term`` (or of the invoice numbered ``term``),
    by reference: the order of the index the prefix is read from (see find_invoices)."""
    term = search_term(term)
    if not term:
        return []
    payments = Payment.objects.select_related("client", "invoice")
    return list(filter_payments(payments, search=term).order_by("reference", "id")[:limit])


def find(
    query: str, *, clients: bool, invoices: bool, payments: bool, today: datetime.date
) -> Found:
    """What the navigation's search shows for ``query`` on ``today``; each group only where
    the person may see it (``clients``, ``invoices``, ``payments``)."""
    term = search_term(query)
    result = Found(term)
    if not term:
        return result
    # The clients found also lead to their invoices.
    matching = find_clients(term) if clients or invoices else []
    if clients:
        result.clients = matching
    if invoices:
        result.invoices = find_invoices(term, clients=matching, today=today)
    if payments:
        result.payments = find_payments(term)
    return result
