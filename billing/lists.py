"""The filters of the lists, shared by the office pages and the API: one parameter, one
meaning, wherever a list offers it.

Each function takes a queryset and the filters as keyword arguments, and returns the
queryset filtered; an empty value ("" or None) leaves a filter out. Text is stripped here,
so every caller gets the same answer for " acme ". A value that cannot mean anything (an
unknown status or method) is refused with ``InvalidInput`` naming the parameter; pages and
the API show that message. Dates arrive parsed: the pages' forms and the API read them as
YYYY-MM-DD.

Every filter of the invoices and payments is served by an index at a million rows (the
``Meta.indexes`` of billing.models, measured in bench/RESULTS.md): the lists read
``created_at, id`` (invoices) or ``date, id`` (payments) from an index that starts with the
filtered column. The clients' and services' searches find a part of a name anywhere, which no
B-tree index serves; those tables hold thousands of rows, not millions, and are read whole.
"""

from __future__ import annotations

import datetime
import re
from typing import Any, TypeVar

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from otb.operations import InvalidInput

from .models import (
    Client,
    Invoice,
    InvoiceQuerySet,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Service,
)

UNKNOWN_CHOICE = gettext_noop("%(name)s: use one of %(values)s.")


Rows = TypeVar("Rows", bound=QuerySet[Any])


def _refuse_unknown(name: str, value: str, values: list[str]) -> None:
    if value not in values:
        raise InvalidInput.single(
            name, _(UNKNOWN_CHOICE) % {"name": name, "values": ", ".join(values)}
        )


def client_code(term: str) -> str:
    """A client code as typed ("acme ") as it is stored ("ACME")."""
    return term.strip().upper()


def number_search(term: str) -> Q:
    """Invoices whose number starts with ``term`` (INV-00, inv-0042) or, for digits alone,
    whose number is that one (42 finds INV-0042): both read the number or sequence index."""
    found = Q(number__istartswith=term)
    # ASCII digits only: str.isdigit() also holds for "¹" or "٤", which int() refuses.
    if re.fullmatch(r"[0-9]{1,9}", term):
        found |= Q(sequence=int(term))
    return found


def filter_invoices(
    invoices: InvoiceQuerySet,
    *,
    today: datetime.date,
    status: str = "",
    client: str = "",
    number: str = "",
    issued_from: datetime.date | None = None,
    issued_to: datetime.date | None = None,
) -> InvoiceQuerySet:
    """The invoices of a list page or of ``GET /api/v1/invoices/``.

    - ``status``: the status the list shows as of ``today``, one of InvoiceStatus: a
      pending or partly paid invoice past its due date is overdue even before the daily
      ``refresh_invoice_status`` stores it so. A condition on the stored ``status`` and
      ``due_date`` columns (``InvoiceQuerySet.shown_as``), never on the computed shown status,
      so the ``invoice_status_created`` and ``invoice_status_due`` indexes serve it.
    - ``client``: the client's code, any case (``acme`` is ACME). Index
      ``invoice_client_created``.
    - ``number``: the start of the number, any case (``inv-004`` finds INV-0042), or digits
      alone, the number's sequence (``42`` finds INV-0042). The unique indexes of number and
      sequence. Drafts have no number and are never found by one.
    - ``issued_from``, ``issued_to``: the issue date on or after, on or before; drafts have
      none. Index ``invoice_issue_date``.
    """
    status = status.strip()
    if status:
        _refuse_unknown("status", status, InvoiceStatus.values)
        invoices = invoices.shown_as(status, today=today)
    if client.strip():
        invoices = invoices.filter(client__code=client_code(client))
    if number.strip():
        invoices = invoices.filter(number_search(number.strip()))
    return _in_range(invoices, "issue_date", issued_from, issued_to)


def filter_payments(
    payments: QuerySet[Payment],
    *,
    status: str = "",
    method: str = "",
    client: str = "",
    invoice: str = "",
    search: str = "",
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> QuerySet[Payment]:
    """The payments of the payment list or of ``GET /api/v1/payments/``.

    - ``status``: one of PaymentStatus (pending, confirmed, reversed). Index
      ``payment_status_date``.
    - ``method``: one of PaymentMethod. Index ``payment_method_date``.
    - ``client``: the client's code, any case. Index ``payment_client_date``.
    - ``invoice``: the number of the invoice paid, whole, any case. The invoice's unique
      number, then the payments' invoice index.
    - ``search``: the start of the payment's reference, any case (``chq-47`` finds
      CHQ-4711), or the whole number of its invoice, any case. Indexes ``payment_reference``
      and the payments' invoice index.
    - ``date_from``, ``date_to``: the payment date on or after, on or before. Index
      ``payment_date``.
    """
    status, method = status.strip(), method.strip()
    if status:
        _refuse_unknown("status", status, PaymentStatus.values)
        payments = payments.filter(status=status)
    if method:
        _refuse_unknown("method", method, PaymentMethod.values)
        payments = payments.filter(method=method)
    if client.strip():
        payments = payments.filter(client__code=client_code(client))
    if invoice.strip():
        payments = payments.filter(invoice__number__iexact=invoice.strip())
    term = search.strip()
    if term:
        # The invoice first, by its unique number: a condition on a joined table inside the
        # OR would make MariaDB read every payment instead of the two indexes.
        invoice_ids = list(Invoice.objects.filter(number__iexact=term).values_list("pk", flat=True))
        payments = payments.filter(Q(reference__istartswith=term) | Q(invoice_id__in=invoice_ids))
    return _in_range(payments, "date", date_from, date_to)


def _in_range(
    rows: Rows, field: str, start: datetime.date | None, end: datetime.date | None
) -> Rows:
    """The rows whose date ``field`` is from ``start`` to ``end``, both included; an end
    left empty is open."""
    if start:
        rows = rows.filter(**{f"{field}__gte": start})
    if end:
        rows = rows.filter(**{f"{field}__lte": end})
    return rows


def filter_clients(
    clients: QuerySet[Client], *, search: str = "", is_active: bool | None = None
) -> QuerySet[Client]:
    """The clients of the client list or of ``GET /api/v1/clients/``.

    - ``search``: part of the code, name, e-mail or contact person, any case.
    - ``is_active``: active ones (True), inactive ones (False), or both (None).
    """
    term = search.strip()
    if term:
        clients = clients.filter(
            Q(code__icontains=term)
            | Q(name__icontains=term)
            | Q(email__icontains=term)
            | Q(contact_person__icontains=term)
        )
    if is_active is not None:
        clients = clients.filter(is_active=is_active)
    return clients


def filter_services(
    services: QuerySet[Service], *, search: str = "", is_active: bool | None = None
) -> QuerySet[Service]:
    """The services of ``GET /api/v1/services/``.

    - ``search``: part of the code, name or description, any case.
    - ``is_active``: active ones (True), inactive ones (False), or both (None).
    """
    term = search.strip()
    if term:
        services = services.filter(
            Q(code__icontains=term) | Q(name__icontains=term) | Q(description__icontains=term)
        )
    if is_active is not None:
        services = services.filter(is_active=is_active)
    return services
