"""The rows an operation changes, re-read and locked in the one fixed order.

Every operation locks in this order, so two of them can never wait on each other in a
circle: client(s) by ascending id, then the invoice, then the payment or credit note, then
the number counter. The operations call these through the module
(``locking.lock_clients``), so a test can stand in for a step of the order.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext as _

from otb.operations import StaleRead

from ..errors import NotFound
from ..models import Client, Invoice, InvoiceNumberCounter, Payment


def lock_clients(client_ids: Iterable[int]) -> list[Client]:
    """Lock clients in ascending id order (the first step of the lock order)."""
    ids = sorted({int(pk) for pk in client_ids})
    clients = list(Client.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    if len(clients) != len(ids):
        raise NotFound(_("That client no longer exists."))
    return clients


def lock_invoice(invoice_pk: int, *, also_clients: Iterable[int] = ()) -> Invoice:
    """Lock the invoice's client (and ``also_clients``), then the invoice."""
    try:
        client_id = Invoice.objects.values_list("client_id", flat=True).get(pk=invoice_pk)
    except Invoice.DoesNotExist:
        raise NotFound(_("That invoice no longer exists.")) from None
    lock_clients([client_id, *also_clients])
    invoice = Invoice.objects.select_for_update().select_related("client").get(pk=invoice_pk)
    if invoice.client_id != client_id:
        # Moved to another client between the read and the locks. Locking that client now,
        # after the invoice, would break the lock order (clients, then invoices) and could
        # deadlock with an operation that keeps it; the operation starts over instead, and
        # reads the new client before it locks anything.
        raise StaleRead(f"invoice {invoice_pk} moved to another client")
    return invoice


def lock_payment(payment_pk: int) -> Payment:
    """Lock the payment's client, its invoice, then the payment."""
    try:
        row = Payment.objects.values("client_id", "invoice_id").get(pk=payment_pk)
    except Payment.DoesNotExist:
        raise NotFound(_("That payment no longer exists.")) from None
    lock_clients([row["client_id"]])
    if row["invoice_id"]:
        Invoice.objects.select_for_update().filter(pk=row["invoice_id"]).first()
    return (
        Payment.objects.select_for_update().select_related("client", "invoice").get(pk=payment_pk)
    )


def next_in_series(name: str) -> int:
    """The next number of the gapless series ``name`` (the invoices', the credit notes'),
    the last step of the lock order. The counter row is locked with SELECT ... FOR UPDATE
    inside the caller's transaction: a second issuer waits until the first commits (and
    then reads its number) or rolls back (and the number is given again)."""
    return next_numbers(name, 1)


def next_numbers(name: str, count: int) -> int:
    """The first of the next ``count`` numbers of the series ``name``, all taken at once
    under the counter's lock (``next_in_series``): for a batch of invoices issued in one
    transaction, which then holds the counter to its end."""
    counter = InvoiceNumberCounter.objects.select_for_update().get(name=name)
    first = counter.last_number + 1
    counter.last_number += count
    counter.save(update_fields=["last_number"])
    return first
