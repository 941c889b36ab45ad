"""Refunds (SPEC: Payments): money paid back to a client out of its credit, recorded like a
payment in the other direction, posted as −amount to the client's ledger, and refused
beyond the available credit. A refund recorded by mistake is reversed, never deleted."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils import timezone
from django.utils.translation import gettext as _

from audit import recording as audit
from ledger.events import Event
from otb.operations import InvalidInput, ensure_permitted, operation
from settings_app.selectors import business_today

from .. import accounting
from ..errors import InvalidTransition, NotFound
from ..inputs import clean_currency, clean_text, require_minor_unit
from ..models import Client, PaymentMethod, Refund
from ..rules import check_money_date, check_refund
from ..selectors import available_credit
from . import locking
from .payments import _clean_payment_fields

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def _values(refund: Refund) -> dict[str, str]:
    return {
        "method": refund.get_method_display(),
        "reference": f" {refund.reference}" if refund.reference else "",
        "reason": refund.reversal_reason,
    }


@operation
def record_refund(
    *,
    client: Client,
    amount: Any,
    date: Any,
    method: str,
    acting_user: User | None,
    reference: str = "",
    note: str = "",
    currency: str | None = None,
) -> Refund:
    """Pay ``amount`` of ``client``'s credit in ``currency`` (default: the client's) back,
    dated today at the latest. Refused beyond its available credit in that currency (what
    its ledger balance holds beyond what its open invoices still owe)."""
    ensure_permitted(acting_user, "billing.add_refund", _("record refunds"))
    if not isinstance(client, Client):
        raise InvalidInput.single("client", _("Client: choose a client."))
    amount, date, method, reference, note = _clean_payment_fields(
        amount=amount, date=date, method=method, reference=reference, note=note
    )
    if method == PaymentMethod.CLIENT_CREDIT:
        raise InvalidInput.single(
            "method", _("Method: a refund pays money back; choose how it was paid.")
        )
    check_money_date(date=date, today=business_today(), what="refund")
    if currency is not None:
        currency = clean_currency(currency)
    client = locking.lock_clients([client.pk])[0]
    currency = currency or client.default_currency
    require_minor_unit(amount, currency, field="amount", label=_("Amount"))
    check_refund(
        client_code=client.code,
        amount=amount,
        available=available_credit(client, currency),
        currency=currency,
    )
    refund = Refund.objects.create(
        client=client,
        currency=currency,
        amount=amount,
        date=date,
        method=method,
        reference=reference,
        note=note,
        created_by=acting_user,
    )
    accounting.post(
        Event.REFUND_PAID,
        client=client,
        amount=-amount,
        refund=refund,
        acting_user=acting_user,
        date=date,
        values=_values(refund),
    )
    audit.created(refund)
    return refund


@operation
def reverse_refund(*, refund: Refund, reason: str, acting_user: User | None) -> Refund:
    """A refund recorded by mistake (or returned by the bank) is reversed: its amount is
    the client's credit again. Never deleted."""
    ensure_permitted(acting_user, "billing.reverse_refund", _("reverse refunds"))
    reason = clean_text(reason or "", field="reason", label=_("Reason")).strip()
    if not reason:
        raise InvalidInput.single("reason", _("Reason: say why the refund is reversed."))
    client_id = Refund.objects.filter(pk=refund.pk).values_list("client_id", flat=True).first()
    if client_id is None:
        raise NotFound(_("That refund no longer exists."))
    client = locking.lock_clients([client_id])[0]
    refund = Refund.objects.select_for_update().get(pk=refund.pk)
    before = audit.snapshot(refund)
    if refund.is_reversed:
        raise InvalidTransition(_("This refund is already reversed."))
    refund.reversed_at = timezone.now()
    refund.reversed_by = acting_user
    refund.reversal_reason = reason
    refund.save(update_fields=["reversed_at", "reversed_by", "reversal_reason"])
    accounting.post(
        Event.REFUND_REVERSED,
        client=client,
        amount=refund.amount,
        refund=refund,
        acting_user=acting_user,
        values=_values(refund),
    )
    audit.changed(refund, before)
    return refund
