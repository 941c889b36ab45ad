"""What the outbox does when a money event has committed (``billing.accounting``)."""

from __future__ import annotations

from typing import Any

from billing.models import Payment
from ledger.events import Event
from otb.operations import operation

from .services import queue_receipt


def send_receipt(sender: Any, event: Any, **kwargs: Any) -> None:
    """A confirmed payment gets its receipt, when the settings ask for receipts. After the
    commit, in a transaction of its own: the payment stands whatever the mail does. (Client
    credit applied is another event: it moves no money and gets no receipt.)"""
    if event.event == Event.PAYMENT_CONFIRMED:
        _queue_receipt(payment_id=event.payment_id)


@operation
def _queue_receipt(*, payment_id: int) -> None:
    queue_receipt(payment=Payment.objects.select_related("client", "invoice").get(pk=payment_id))
