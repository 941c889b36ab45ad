"""The operations of the outbox: putting messages in it, and dealing with those that failed.

Every message is written in the transaction of the operation that wants it sent and handed
to ``delivery.deliver`` only once that transaction has committed (``transaction.on_commit``):
no e-mail goes out for something that was rolled back. Sending a draft is the one exception
to "one operation": the draft is issued first, in a transaction of its own, and the message
queued in a second (see ``send_invoice``).
"""

from __future__ import annotations

import datetime
import hashlib
import logging
from collections.abc import Callable, Sequence
from email.utils import formataddr, make_msgid
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from audit import recording as audit
from billing import pdf
from billing.models import CreditNote, Invoice, Payment
from billing.money import format_money
from billing.services import InvalidTransition, issue_invoice
from otb.operations import DomainError, InvalidInput, ensure_permitted, operation
from settings_app.models import BusinessSettings, ReminderStage
from settings_app.selectors import business_today, get_business_settings
from settings_app.templating import INVOICE_PLACEHOLDERS, braced, fill, unknown_placeholders

from . import delivery
from .models import MASKED_LINK, ArchivedDocument, Message, MessageKind, MessageStatus

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from quotes.models import Quote

# E-mail addresses as a caller gives them: one string ("a@x.ca, b@y.ca") or a list.
Addresses = str | Sequence[str]

logger = logging.getLogger(__name__)

MAX_RECIPIENTS = 50
SUBJECT_MAX_LENGTH = 255
BODY_MAX_LENGTH = 100_000

NOT_SET_UP = gettext_noop(
    "E-mail is not set up: enter the SMTP host and the from address in the settings."
)
ISSUED_NOT_SENT = gettext_noop(
    "Invoice %(number)s was issued, but it could not be sent just now. Send it again from its "
    "page; it keeps its number."
)


class IssuedNotSent(DomainError):
    """A draft was issued for sending, but its message could not be queued (the PDF or the
    database failed). Unlike other refusals something did change: the invoice is issued, a
    complete operation with its number used, and sending it again sends it."""

    code = "issued_not_sent"

    def __init__(self, invoice: Invoice):
        super().__init__(_(ISSUED_NOT_SENT) % {"number": invoice.number})
        self.invoice = invoice


# --- Input --------------------------------------------------------------------------------
def clean_addresses(
    value: Addresses, *, field: str, label: str, required: bool = False
) -> list[str]:
    """``a@example.com, b@example.com`` (commas or semicolons) as a list, each checked; a
    line break anywhere is refused, since it could add headers to the message."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput.single(
            field, _("%(label)s: enter e-mail addresses as text.") % {"label": label}
        )
    if any(char in value for char in "\r\n\x00"):
        raise InvalidInput.single(
            field, _("%(label)s: line breaks are not allowed in addresses.") % {"label": label}
        )
    addresses = [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
    if required and not addresses:
        raise InvalidInput.single(
            field, _("%(label)s: enter at least one e-mail address.") % {"label": label}
        )
    if len(addresses) > MAX_RECIPIENTS:
        raise InvalidInput.single(
            field,
            _("%(label)s: at most %(max)s addresses.") % {"label": label, "max": MAX_RECIPIENTS},
        )
    for address in addresses:
        try:
            validate_email(address)
        except ValidationError:
            raise InvalidInput.single(
                field,
                _("%(label)s: “%(address)s” is not a valid e-mail address.")
                % {"label": label, "address": address[:100]},
            ) from None
    return addresses


def _clean_template_text(
    value, *, field: str, label: str, allowed, one_line: bool, max_length: int
) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput.single(field, _("%(label)s: this field is required.") % {"label": label})
    if "\x00" in value or (one_line and ("\r" in value or "\n" in value)):
        raise InvalidInput.single(
            field, _("%(label)s: must be one line, without line breaks.") % {"label": label}
        )
    unknown = unknown_placeholders(value, allowed)
    if unknown:
        raise InvalidInput.single(
            field,
            _("%(label)s: unknown placeholder %(unknown)s.")
            % {"label": label, "unknown": braced(unknown)},
        )
    if len(value) > max_length:
        raise InvalidInput.single(
            field,
            _("%(label)s: at most %(max)s characters.") % {"label": label, "max": max_length},
        )
    return value.strip() if one_line else value


def clean_subject(value, allowed=INVOICE_PLACEHOLDERS) -> str:
    return _clean_template_text(
        value,
        field="subject",
        label=_("Subject"),
        allowed=allowed,
        one_line=True,
        max_length=SUBJECT_MAX_LENGTH,
    )


def clean_body(value, allowed=INVOICE_PLACEHOLDERS) -> str:
    return _clean_template_text(
        value,
        field="body",
        label=_("Text"),
        allowed=allowed,
        one_line=False,
        max_length=BODY_MAX_LENGTH,
    )


# --- What the placeholders stand for ------------------------------------------------------
def _date(value: datetime.date | None) -> str:
    return formats.date_format(value) if value else ""


def _business_values(business: BusinessSettings) -> dict[str, str]:
    return {
        "business_name": business.business_name,
        "business_email": business.email,
        "business_phone": business.phone,
    }


def invoice_values(invoice: Invoice, business: BusinessSettings) -> dict[str, str]:
    return {
        "invoice_number": invoice.number or "",
        "client_name": invoice.client.name,
        "contact_person": invoice.client.contact_person or invoice.client.name,
        "total": format_money(invoice.total, invoice.currency),
        "balance_due": format_money(invoice.balance_due, invoice.currency),
        "issue_date": _date(invoice.issue_date),
        "due_date": _date(invoice.due_date),
        "taxes": pdf.tax_summary(invoice, business),
        **_business_values(business),
    }


def reminder_values(
    invoice: Invoice, business: BusinessSettings, *, today: datetime.date
) -> dict[str, str]:
    days = (invoice.due_date - today).days if invoice.due_date else 0
    return {
        **invoice_values(invoice, business),
        "days_until_due": str(max(days, 0)),
        "days_overdue": str(max(-days, 0)),
    }


def receipt_values(payment: Payment, business: BusinessSettings) -> dict[str, str]:
    invoice = payment.invoice
    currency = payment.currency
    return {
        "client_name": payment.client.name,
        "contact_person": payment.client.contact_person or payment.client.name,
        "payment_amount": format_money(payment.amount, currency),
        "payment_date": _date(payment.date),
        "payment_method": str(payment.get_method_display()),
        "payment_reference": payment.reference,
        "invoice_number": (invoice.number or "") if invoice else "",
        "balance_due": format_money(invoice.balance_due, invoice.currency) if invoice else "",
        **_business_values(business),
    }


def invoice_message_defaults(invoice: Invoice, business: BusinessSettings | None = None) -> dict:
    """The send form's first values: the client's address and the settings' templates, filled
    in. A draft has no number yet: its placeholders stay, to be filled once it is issued."""
    business = business or get_business_settings()
    subject, body = business.invoice_email_subject, business.invoice_email_body
    if not invoice.is_draft:
        values = invoice_values(invoice, business)
        subject, body = fill(subject, values), fill(body, values)
    return {"to": invoice.client.email, "cc": "", "bcc": "", "subject": subject, "body": body}


# --- Queueing -----------------------------------------------------------------------------
def _require_set_up(business: BusinessSettings) -> None:
    if not business.smtp_configured:
        raise InvalidInput.single("__all__", _(NOT_SET_UP))


def archive(content: bytes) -> ArchivedDocument:
    """The archived copy of ``content``, stored once per SHA-256."""
    digest = hashlib.sha256(content).hexdigest()
    found = ArchivedDocument.objects.filter(sha256=digest).first()
    if found:
        return found
    try:
        with transaction.atomic():
            return ArchivedDocument.objects.create(
                sha256=digest, content=content, size=len(content)
            )
    except IntegrityError:  # archived at the same moment by another message
        return ArchivedDocument.objects.get(sha256=digest)


def _queue(
    *,
    business: BusinessSettings,
    acting_user: User | None,
    to: Sequence[str],
    cc: Sequence[str] = (),
    bcc: Sequence[str] = (),
    attachment: ArchivedDocument | None = None,
    **fields: Any,
) -> Message:
    domain = business.smtp_from_email.rpartition("@")[2] or "localhost"
    message = Message.objects.create(
        from_address=formataddr((business.smtp_from_name, business.smtp_from_email)),
        reply_to=business.email if business.email != business.smtp_from_email else "",
        to_addresses=", ".join(to),
        cc_addresses=", ".join(cc),
        bcc_addresses=", ".join(bcc),
        message_id=make_msgid(domain=domain),
        next_attempt_at=timezone.now(),
        created_by=acting_user,
        attachment=attachment,
        **fields,
    )
    audit.created(message)
    message_id = message.pk
    transaction.on_commit(
        lambda: delivery.deliver(message_id, acting_user=acting_user), robust=True
    )
    return message


def _invoice_attachment(invoice: Invoice) -> tuple[ArchivedDocument, str]:
    document = pdf.load_invoice(pk=invoice.pk, with_payments=False)
    return archive(pdf.invoice_pdf(document)), pdf.pdf_filename(document)


def send_invoice(
    *,
    invoice: Invoice,
    to: Addresses,
    subject: str,
    body: str,
    acting_user: User | None,
    cc: Addresses = "",
    bcc: Addresses = "",
    issue_draft: bool = False,
    on_queued: Callable[[Message], object] | None = None,
) -> Message:
    """E-mail the invoice with its PDF attached. The message is delivered once it is queued;
    its row says how that went.

    A draft is issued first when ``issue_draft`` says the user confirmed it, after all the
    input was checked (a refused message issues nothing). The issue is an operation of its
    own, committed before the PDF is rendered: it holds the lock on the invoice number counter,
    and every other issuer would wait seconds for WeasyPrint. If the PDF or the queueing fails
    after that, the invoice stays issued and ``IssuedNotSent`` says so.

    ``on_queued(message)`` runs in the transaction that queues the message: what it writes
    commits with the message or not at all (the API's Idempotency-Key answer)."""
    ensure_permitted(acting_user, "outbox.send_message", _("send e-mail"))
    to = clean_addresses(to, field="to", label=_("To"), required=True)
    cc = clean_addresses(cc, field="cc", label=_("CC"))
    bcc = clean_addresses(bcc, field="bcc", label=_("BCC"))
    subject = clean_subject(subject)
    body = clean_body(body)
    business = get_business_settings()
    _require_set_up(business)
    invoice = Invoice.objects.select_related("client").get(pk=invoice.pk)
    issuing = invoice.is_draft
    if issuing:
        if not issue_draft:
            raise InvalidInput.single(
                "issue_draft",
                _("This invoice is a draft: confirm that it should be issued before it is sent."),
            )
        invoice = issue_invoice(invoice=invoice, acting_user=acting_user)
    elif invoice.is_cancelled:
        raise InvalidTransition(
            _("Invoice %(number)s is cancelled; it cannot be sent.") % {"number": invoice.number}
        )
    try:
        # Rendered in no transaction: on SQLite an open write transaction holds the lock of
        # the whole database, and the render takes seconds.
        document = pdf.load_invoice(pk=invoice.pk, with_payments=False)
        content = pdf.invoice_pdf(document)
        return _queue_invoice(
            invoice=invoice,
            business=business,
            acting_user=acting_user,
            to=to,
            cc=cc,
            bcc=bcc,
            subject=subject,
            body=body,
            pdf_content=content,
            pdf_name=pdf.pdf_filename(document),
            on_queued=on_queued,
        )
    except Exception as exc:  # WeasyPrint and the database raise many kinds
        if not issuing:
            raise
        logger.exception("Invoice %s was issued, but its e-mail was not queued", invoice.number)
        raise IssuedNotSent(invoice) from exc


@operation
def _queue_invoice(
    *,
    invoice: Invoice,
    business: BusinessSettings,
    acting_user: User | None,
    to: list[str],
    cc: list[str],
    bcc: list[str],
    subject: str,
    body: str,
    pdf_content: bytes,
    pdf_name: str,
    on_queued: Callable[[Message], object] | None,
) -> Message:
    values = invoice_values(invoice, business)
    message = _queue(
        business=business,
        acting_user=acting_user,
        kind=MessageKind.INVOICE,
        invoice=invoice,
        to=to,
        cc=cc,
        bcc=bcc,
        subject=fill(subject, values),
        body=fill(body, values),
        attachment=archive(pdf_content),
        attachment_name=pdf_name,
    )
    if on_queued is not None:
        on_queued(message)
    return message


def queue_receipt(*, payment: Payment) -> Message | None:
    """Queue the receipt of ``payment``, just confirmed, when the settings ask for receipts
    and the client has an address. Called when a "payment confirmed" money event has
    committed (outbox.receivers); client credit applied is another event, with no receipt."""
    business = get_business_settings()
    if (
        not business.send_payment_receipts
        or not business.smtp_configured
        or not payment.client.email
    ):
        return None
    values = receipt_values(payment, business)
    return _queue(
        business=business,
        acting_user=None,
        kind=MessageKind.RECEIPT,
        payment=payment,
        invoice=payment.invoice,
        to=[payment.client.email],
        subject=fill(business.receipt_email_subject, values),
        body=fill(business.receipt_email_body, values),
    )


@operation
def queue_document(
    *,
    kind: str,
    to: Addresses,
    subject: str,
    body: str,
    content: bytes | None,
    filename: str,
    acting_user: User | None,
    cc: Addresses = "",
    invoice: Invoice | None = None,
    quote: Quote | None = None,
    secret_link: str = "",
) -> Message:
    """Queue a document other than an invoice (a statement, a credit note, a quote) with its
    PDF attached (``content``; None: no attachment), through the same outbox, archive and
    delivery as invoices; ``invoice`` or ``quote``: the document it is about, whose page
    lists the message. The PDF is rendered by the caller, before this transaction: the
    render takes seconds. ``secret_link``: the link that goes where ``body`` has
    ``MASKED_LINK``, kept (encrypted) only until the message is sent."""
    ensure_permitted(acting_user, "outbox.send_message", _("send e-mail"))
    to = clean_addresses(to, field="to", label=_("To"), required=True)
    cc = clean_addresses(cc, field="cc", label=_("CC"))
    business = get_business_settings()
    _require_set_up(business)
    return _queue(
        business=business,
        acting_user=acting_user,
        kind=kind,
        to=to,
        cc=cc,
        subject=subject,
        body=body,
        attachment=archive(content) if content is not None else None,
        attachment_name=filename if content is not None else "",
        invoice=invoice,
        quote=quote,
        secret_link=secret_link,
    )


def credit_note_message_defaults(
    note: CreditNote, business: BusinessSettings | None = None
) -> dict[str, str]:
    """The credit note send form's first values: the client's address, a subject and a
    text naming the credit note, the invoice it credits, the amount and every tax."""
    business = business or get_business_settings()
    client = note.client
    values = {
        "business": business.business_name,
        "person": client.contact_person or client.name,
        "number": note.number or "",
        "invoice": note.invoice.number or "",
        "date": _date(note.invoice.issue_date),
        "total": format_money(note.total, note.currency),
        "taxes": pdf.tax_summary(note, business),
    }
    body = _(
        "Dear %(person)s,\n\nplease find attached our credit note %(number)s for invoice "
        "%(invoice)s of %(date)s: %(total)s in your favour.\n\n%(taxes)s\n\nThank you,\n"
        "%(business)s\n"
    )
    return {
        "to": client.email,
        "cc": "",
        "subject": _("Credit note %(number)s from %(business)s") % values,
        "body": body % values,
    }


def send_credit_note(
    *,
    credit_note: CreditNote,
    to: Addresses,
    subject: str,
    body: str,
    acting_user: User | None,
    cc: Addresses = "",
) -> Message:
    """E-mail an issued credit note with its PDF attached, through the outbox; the message
    is listed on the invoice it credits."""
    ensure_permitted(acting_user, "outbox.send_message", _("send e-mail"))
    note = pdf.load_credit_note(pk=credit_note.pk)
    if note.is_draft:
        raise InvalidTransition(_("Issue this credit note before sending it."))
    return queue_document(
        kind=MessageKind.CREDIT_NOTE,
        to=to,
        cc=cc,
        subject=clean_subject(subject, allowed=frozenset()),
        body=clean_body(body, allowed=frozenset()),
        content=pdf.credit_note_pdf(note),  # before the operation's transaction
        filename=pdf.credit_note_filename(note),
        acting_user=acting_user,
        invoice=note.invoice,
    )


@operation
def queue_reminder(
    *, invoice: Invoice, stage: ReminderStage, today: datetime.date
) -> Message | None:
    """Queue the reminder ``stage`` for ``invoice``, unless it was already (or is at this
    moment being) queued: then None. The unique (invoice, stage) pair in the database makes
    that hold across overlapping runs, on any number of servers."""
    business = get_business_settings()
    invoice = Invoice.objects.select_related("client").get(pk=invoice.pk)
    values = reminder_values(invoice, business, today=today)
    attachment, name = _invoice_attachment(invoice) if stage.attach_pdf else (None, "")
    try:
        with transaction.atomic():
            return _queue(
                business=business,
                acting_user=None,
                kind=MessageKind.REMINDER,
                invoice=invoice,
                reminder_stage=stage,
                to=[invoice.client.email],
                subject=fill(stage.subject, values),
                body=fill(stage.body, values),
                attachment=attachment,
                attachment_name=name,
            )
    except IntegrityError:
        return None


@operation
def send_test_email(*, to: Addresses, acting_user: User | None) -> Message:
    """A test message through the settings' SMTP server, delivered at once."""
    ensure_permitted(acting_user, "settings_app.change_businesssettings", _("change the settings"))
    to = clean_addresses(to, field="to", label=_("To"), required=True)
    business = get_business_settings()
    _require_set_up(business)
    return _queue(
        business=business,
        acting_user=acting_user,
        kind=MessageKind.TEST,
        to=to,
        subject=_("Test e-mail from %(business)s") % {"business": business.business_name},
        body=_(
            "This is a test e-mail from OTB Billing. If you can read it, invoices and "
            "reminders can be sent through %(server)s."
        )
        % {"server": f"{business.smtp_host}:{business.smtp_port}"},
    )


@operation
def queue_password_reset(
    *, to: str, subject: str, body_template: Callable[[str], str], link: str
) -> Message:
    """A password reset e-mail. ``body_template(marker)`` is the text with
    ``marker`` where the link goes: the outbox keeps it so, and the link only until the
    message is sent (see ``MASKED_LINK``)."""
    to_list = clean_addresses(to, field="to", label=_("To"), required=True)
    business = get_business_settings()
    _require_set_up(business)
    return _queue(
        business=business,
        acting_user=None,
        kind=MessageKind.PASSWORD_RESET,
        to=to_list,
        subject=" ".join(subject.split())[:SUBJECT_MAX_LENGTH],
        body=body_template(MASKED_LINK),
        secret_link=link,
    )


# --- Dealing with failures ----------------------------------------------------------------
def _lock_message(message: Message) -> Message:
    return Message.objects.select_for_update().get(pk=message.pk)


@operation
def retry_message(*, message: Message, acting_user: User | None) -> Message:
    """Send a failed message again (after the settings or an address were corrected): it
    is queued with a fresh run of automatic retries and delivered once this commits."""
    ensure_permitted(acting_user, "outbox.send_message", _("send e-mail"))
    message = _lock_message(message)
    before = audit.snapshot(message)
    if message.status != MessageStatus.FAILED:
        raise InvalidTransition(_("Only a message that failed can be sent again."))
    message.status = MessageStatus.QUEUED
    message.failures_in_a_row = 0
    message.next_attempt_at = timezone.now()
    message.needs_attention = False
    message.save(
        update_fields=["status", "failures_in_a_row", "next_attempt_at", "needs_attention"]
    )
    audit.changed(message, before)
    message_id = message.pk
    transaction.on_commit(
        lambda: delivery.deliver(message_id, acting_user=acting_user), robust=True
    )
    return message


@operation
def mark_dealt_with(*, message: Message, acting_user: User | None) -> Message:
    """The user has seen the failure and dealt with it some other way: stop showing it."""
    ensure_permitted(acting_user, "outbox.send_message", _("send e-mail"))
    message = _lock_message(message)
    before = audit.snapshot(message)
    if not message.needs_attention:
        raise InvalidTransition(_("This message does not need attention."))
    message.needs_attention = False
    message.dealt_with_at = timezone.now()
    message.dealt_with_by = acting_user
    message.save(update_fields=["needs_attention", "dealt_with_at", "dealt_with_by"])
    audit.changed(message, before)
    return message


# --- Reminders ----------------------------------------------------------------------------
def invoices_due_for(
    stage: ReminderStage, *, next_stage: ReminderStage | None, today: datetime.date
):
    """Unpaid invoices whose date for ``stage`` has come and whose next stage's date has
    not: a day the daily run missed is caught up, but an invoice never gets an earlier,
    no-longer-true reminder after a later one, nor a "due soon" once it is overdue."""
    invoices = (
        Invoice.objects.open()
        .exclude(client__email="")
        .filter(due_date__lte=today - datetime.timedelta(days=stage.days_from_due))
        .exclude(messages__reminder_stage=stage)
    )
    if stage.days_from_due < 0:
        invoices = invoices.filter(due_date__gte=today)
    if next_stage is not None:
        invoices = invoices.filter(
            due_date__gt=today - datetime.timedelta(days=next_stage.days_from_due)
        )
    return invoices.order_by("due_date", "pk")


def queue_due_reminders(*, today: datetime.date | None = None) -> list[Message]:
    """Queue every reminder due today (each in its own transaction, delivered as it
    commits); the messages this run queued."""
    business = get_business_settings()
    if not business.send_reminders or not business.smtp_configured:
        return []
    today = today or business_today(business)
    stages = list(ReminderStage.objects.filter(is_active=True).order_by("days_from_due"))
    queued = []
    for stage, next_stage in zip(stages, [*stages[1:], None], strict=True):
        for invoice in invoices_due_for(stage, next_stage=next_stage, today=today).iterator():
            message = queue_reminder(invoice=invoice, stage=stage, today=today)
            if message is not None:
                queued.append(message)
    return queued
