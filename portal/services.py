"""Operations of the client's side (SPEC: Client portal and document links): a payment the
client reports through its invoice's link, which waits as a pending payment until the
business confirms it."""

from __future__ import annotations

import contextlib
import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from audit import recording as audit
from billing.errors import InvalidTransition, NotFound
from billing.inputs import clean_amount, clean_date, require_minor_unit
from billing.models import Invoice, Payment, PaymentMethod
from billing.money import format_money
from billing.services import locking
from billing.services.payments import record_payment
from links.models import DocumentLink, LinkKind
from otb.operations import DomainError, InvalidInput, operation
from outbox.models import MessageKind
from outbox.services import queue_document
from settings_app.selectors import business_today, get_business_settings

# What a client may say it paid with: not "client credit", which is the business's to apply.
REPORTED_METHODS = tuple(
    (value, label) for value, label in PaymentMethod.choices if value != PaymentMethod.CLIENT_CREDIT
)
REFERENCE_MAX_LENGTH = 200  # Payment.reference
# A report above this many times the balance due is a typing slip (an extra zero or two,
# a date in the amount box), never a payment: refused instead of waiting to be confirmed.
MOST_TIMES_BALANCE = 10
# The notice to the business, listed with the invoice's messages.
NOTICE_KIND = MessageKind.PAYMENT_REPORT


def _clean_report(
    *, invoice: Invoice, amount: Any, date: Any, method: Any, reference: Any, today: datetime.date
) -> tuple[Decimal, datetime.date, str, str]:
    """Each field of the report checked on its own, every refusal at once, by field."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}

    def check(field: str, clean: Any) -> None:
        try:
            cleaned[field] = clean()
        except InvalidInput as exc:
            for name, messages in exc.errors.items():
                errors.setdefault(name, []).extend(messages)

    def clean_amount_reported() -> Decimal:
        value = clean_amount(amount, field="amount", label=_("Amount"))
        require_minor_unit(value, invoice.currency, field="amount", label=_("Amount"))
        most = invoice.balance_due * MOST_TIMES_BALANCE
        if value > most:
            raise InvalidInput.single(
                "amount",
                _(
                    "Amount: %(amount)s is far more than the %(balance)s due; check the "
                    "amount you paid."
                )
                % {
                    "amount": format_money(value, invoice.currency),
                    "balance": format_money(invoice.balance_due, invoice.currency),
                },
            )
        return value

    def clean_date_reported() -> datetime.date:
        value = clean_date(date, field="date", label=_("Date paid"))
        assert value is not None  # required
        if value > today:
            raise InvalidInput.single(
                "date",
                _("Date paid: %(date)s is in the future; give the day you paid.")
                % {"date": formats.date_format(value)},
            )
        if invoice.issue_date is not None and value < invoice.issue_date - datetime.timedelta(
            days=366
        ):
            raise InvalidInput.single(
                "date",
                _("Date paid: %(date)s is more than a year before the invoice was issued.")
                % {"date": formats.date_format(value)},
            )
        return value

    def clean_method() -> str:
        if method not in dict(REPORTED_METHODS):
            raise InvalidInput.single("method", _("How you paid: choose one of the list."))
        return str(method)

    def clean_reference() -> str:
        if reference is not None and not isinstance(reference, str):
            raise InvalidInput.single("reference", _("Reference: must be text."))
        value = " ".join((reference or "").split())
        if len(value) > REFERENCE_MAX_LENGTH:
            raise InvalidInput.single(
                "reference",
                _("Reference: at most %(n)d characters.") % {"n": REFERENCE_MAX_LENGTH},
            )
        return value

    check("amount", clean_amount_reported)
    check("date", clean_date_reported)
    check("method", clean_method)
    check("reference", clean_reference)
    if errors:
        raise InvalidInput(errors)
    return cleaned["amount"], cleaned["date"], cleaned["method"], cleaned["reference"]


@operation
def report_payment(
    *,
    link: DocumentLink,
    amount: Any,
    date: Any,
    method: Any,
    reference: Any,
    ip_address: str | None,
    user_agent: str,
    base_url: str = "",
) -> Payment:
    """The client says, through its invoice's link, that it paid: a pending payment on the
    invoice for the business to confirm (only then does it count as paid), noting who
    reported it (the link's recipient), when and from where, and an e-mail to the business
    when e-mail is set up. Refused, naming each field, for an amount of nothing or far
    above the balance due, a date in the future, a method not on the list, a reference too
    long; refused when the link no longer opens the invoice, or it is cancelled or paid."""
    if not isinstance(link, DocumentLink) or link.invoice_id is None:
        raise NotFound(_("This link no longer opens the invoice."))
    business = get_business_settings()
    # The lock order: the client and the invoice, then the link (as links.services does).
    invoice = locking.lock_invoice(link.invoice_id)
    live = (
        DocumentLink.objects.live(now=timezone.now())
        .select_for_update()
        .filter(pk=link.pk, kind=LinkKind.INVOICE, invoice_id=invoice.pk)
        .first()
    )
    if live is None or invoice.is_draft:  # revoked or expired while the page was open
        raise NotFound(_("This link no longer opens the invoice."))
    if invoice.is_cancelled:
        raise InvalidTransition(
            _("Invoice %(number)s was cancelled: nothing is owed on it.")
            % {"number": invoice.number}
        )
    if invoice.balance_due <= 0:
        raise InvalidTransition(
            _("Invoice %(number)s is paid: nothing is owed on it.") % {"number": invoice.number}
        )
    amount, date, method, reference = _clean_report(
        invoice=invoice,
        amount=amount,
        date=date,
        method=method,
        reference=reference,
        today=business_today(business),
    )
    now = timezone.now()
    values = {
        "recipient": live.recipient,
        "when": formats.date_format(timezone.localtime(now), "DATETIME_FORMAT"),
        "address": ip_address or _("an unknown address"),
    }
    payment = record_payment(
        invoice=invoice,
        amount=amount,
        date=date,
        method=method,
        reference=reference,
        note=_(
            "Reported by %(recipient)s through the invoice's link on %(when)s, from %(address)s."
        )
        % values,
        confirmed=False,
        acting_user=None,
    )
    audit.event(
        "payment reported through a link",
        subject=str(payment.pk),
        object_type="billing.payment",
        details={
            "invoice": invoice.number,
            "link": live.pk,
            "recipient": live.recipient,
            "amount": amount,
            "currency": invoice.currency,
            "ip_address": ip_address or "",
            "user_agent": (user_agent or "")[:500],
        },
    )
    _tell_business(payment, invoice=invoice, recipient=live.recipient, base_url=base_url)
    return payment


def _tell_business(payment: Payment, *, invoice: Invoice, recipient: str, base_url: str) -> None:
    """E-mail the business (the settings' address) that a payment waits for its
    confirmation, in the report's transaction: the notice exists exactly when the report
    does. Nothing when e-mail is not set up or the business has no address."""
    business = get_business_settings()
    if not business.smtp_configured or not business.email:
        return
    values = {
        "number": invoice.number,
        "client": invoice.client.name,
        "recipient": recipient,
        "amount": format_money(payment.amount, payment.currency),
        "date": formats.date_format(payment.date),
        "method": payment.get_method_display(),
        "reference": payment.reference or _("none"),
        "balance": format_money(invoice.balance_due, invoice.currency),
    }
    lines = [
        _(
            "%(recipient)s reported paying %(amount)s on invoice %(number)s (%(client)s) on "
            "%(date)s by %(method)s, reference: %(reference)s."
        )
        % values,
        _(
            "It is recorded as a pending payment: it counts once you confirm it. The balance "
            "due is %(balance)s until then."
        )
        % values,
    ]
    base_url = settings.OTB_BASE_URL or base_url
    if base_url.startswith(("http://", "https://")):
        lines.append(base_url.rstrip("/") + invoice.get_absolute_url())
    # The settings changed meanwhile (e-mail turned off): the report stands without it.
    with contextlib.suppress(DomainError):
        queue_document(
            kind=NOTICE_KIND,
            to=business.email,
            subject=_("Payment reported on invoice %(number)s by %(client)s") % values,
            body="\n\n".join(lines) + "\n",
            content=None,
            filename="",
            acting_user=None,
            invoice=invoice,
        )
