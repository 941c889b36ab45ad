"""The operations of the outbox: putting messages in it, and dealing with those that failed.

Every message is written in the transaction of the operation that wants it sent and handed
to ``delivery.deliver`` only once that transaction has committed (``transaction.on_commit``):
no e-mail goes out for something that was rolled back. Sending a draft is the one exception
to "one operation": the draft is issued first, in a transaction of its own, and the message
queued in a second (see ``send_invoice``).

A document e-mailed to a client (an invoice, a reminder of one, a credit note, a statement;
a quote in quotes/sending.py) carries its recipient's own link (SPEC: Client portal and
document links), issued in the transaction that queues the message. So there is one message
per address, To, CC and BCC alike: a copy of another's message would hand over that
person's link. The stored body has ``MASKED_LINK`` where the link goes; the link itself
waits, encrypted, in ``Message.secret_link`` until the message is delivered, then it is
wiped. A text without ``{link}`` gets the link on a line of its own at its end.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
from collections.abc import Callable, Sequence
from email.utils import formataddr, make_msgid
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from audit import recording as audit
from billing import pdf
from billing.models import CreditNote, Invoice, Payment
from billing.money import format_money
from billing.services import InvalidTransition, issue_invoice, locking
from links.services import issue_link
from otb.operations import DomainError, InvalidInput, ensure_permitted, operation
from settings_app.models import BusinessSettings, ReminderStage
from settings_app.selectors import business_today, get_business_settings
from settings_app.templating import (
    INVOICE_PLACEHOLDERS,
    LINK,
    LINK_ONLY_PLACEHOLDERS,
    braced,
    fill,
    has_link,
    unknown_placeholders,
    without_link,
)

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
SITE_ADDRESS_UNKNOWN = gettext_noop(
    "The address of this site is not known, so the document's link cannot be made: set "
    "OTB_BASE_URL in the instance's settings."
)
LINK_IN_SUBJECT = gettext_noop(
    "Subject: the link goes in the text; remove {link} from the subject."
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
    """A subject, whose placeholders are ``allowed`` less {link}: the subject is stored as it
    went out, and a link there would be readable in the outbox and its backups."""
    if isinstance(value, str) and has_link(value):
        raise InvalidInput.single("subject", _(LINK_IN_SUBJECT))
    return _clean_template_text(
        value,
        field="subject",
        label=_("Subject"),
        allowed=without_link(tuple(allowed)),
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


def one_per_person(*groups: Sequence[str]) -> list[str]:
    """The addresses of ``groups`` (To, CC, BCC, each cleaned), each person once, in the
    order given: an address typed twice, in any case, is one recipient."""
    people: dict[str, str] = {}
    for address in (address for group in groups for address in group):
        people.setdefault(address.lower(), address)
    return list(people.values())


# --- Document links -----------------------------------------------------------------------
def site_address(base_url: str = "") -> str:
    """The site's address the links start with: OTB_BASE_URL when set (commands, a proxy
    that changes the host name), else ``base_url``, the address of the page's request."""
    base_url = (settings.OTB_BASE_URL or base_url or "").strip()
    if not base_url.startswith(("http://", "https://")):
        raise InvalidInput.single("__all__", _(SITE_ADDRESS_UNKNOWN))
    return base_url


def site_address_known() -> bool:
    """Whether a command (no request) can make links: OTB_BASE_URL is set."""
    try:
        site_address()
    except InvalidInput:
        return False
    return True


def link_url(page: str, token: str, base_url: str) -> str:
    """The address of the page ``page`` (a URL name such as "invoice_link:page") that
    ``token`` opens, on the site ``base_url``."""
    return base_url.rstrip("/") + reverse(page, args=[token])


def with_link(body: str, *, prompt: str) -> str:
    """``body`` with a {link} placeholder: the one it has, or ``prompt`` and the link on
    lines of their own at its end."""
    if has_link(body):
        return body
    return body.rstrip() + "\n\n" + prompt + "\n{" + LINK + "}\n"


def masked(body: str, values: dict[str, str]) -> str:
    """``body`` filled in, with ``MASKED_LINK`` where the link goes. Filled once only, so a
    client named "{link}" stays so."""
    return fill(body, {**values, LINK: MASKED_LINK})


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


def invoice_link_prompt() -> str:
    return _("You can also read this invoice here:")


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
    on_queued: Callable[[list[Message]], object] | None = None,
    base_url: str = "",
) -> list[Message]:
    """E-mail the invoice with its PDF attached: one message per address in ``to``, ``cc``
    and ``bcc``, each with that recipient's own link (which replaces the link an earlier
    send gave it). The messages are delivered once they are queued; their rows say how that
    went.

    ``base_url``: the site's address as the client reaches it (the page's request);
    ``OTB_BASE_URL``, when set, wins over it.

    A draft is issued first when ``issue_draft`` says the user confirmed it, after all the
    input was checked (a refused message issues nothing). The issue is an operation of its
    own, committed before the PDF is rendered: it holds the lock on the invoice number counter,
    and every other issuer would wait seconds for WeasyPrint. If the PDF or the queueing fails
    after that, the invoice stays issued and ``IssuedNotSent`` says so.

    ``on_queued(messages)`` runs once, in the transaction that queues the messages: what it
    writes commits with them or not at all (the API's Idempotency-Key answer, the recurring
    run's claim)."""
    ensure_permitted(acting_user, "outbox.send_message", _("send e-mail"))
    recipients = one_per_person(
        clean_addresses(to, field="to", label=_("To"), required=True),
        clean_addresses(cc, field="cc", label=_("CC")),
        clean_addresses(bcc, field="bcc", label=_("BCC")),
    )
    subject = clean_subject(subject)
    body = with_link(clean_body(body), prompt=invoice_link_prompt())
    base_url = site_address(base_url)
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
        raise InvalidTransition(_cancelled(invoice))
    try:
        # Rendered in no transaction: on SQLite an open write transaction holds the lock of
        # the whole database, and the render takes seconds.
        document = pdf.load_invoice(pk=invoice.pk, with_payments=False)
        content = pdf.invoice_pdf(document)
        return _queue_invoice(
            invoice=invoice,
            business=business,
            acting_user=acting_user,
            recipients=recipients,
            subject=subject,
            body=body,
            pdf_content=content,
            pdf_name=pdf.pdf_filename(document),
            on_queued=on_queued,
            base_url=base_url,
        )
    except Exception as exc:  # WeasyPrint and the database raise many kinds
        if not issuing:
            raise
        logger.exception("Invoice %s was issued, but its e-mail was not queued", invoice.number)
        raise IssuedNotSent(invoice) from exc


def _cancelled(invoice: Invoice) -> str:
    return _("Invoice %(number)s is cancelled; it cannot be sent.") % {"number": invoice.number}


@operation
def _queue_invoice(
    *,
    invoice: Invoice,
    business: BusinessSettings,
    acting_user: User | None,
    recipients: Sequence[str],
    subject: str,
    body: str,
    pdf_content: bytes,
    pdf_name: str,
    on_queued: Callable[[list[Message]], object] | None,
    base_url: str,
) -> list[Message]:
    # The client's lock first (billing's lock order, as issue_link takes it): a cancellation
    # waits for it, so no link goes out for an invoice cancelled while its PDF was rendered.
    locking.lock_clients([invoice.client_id])
    invoice = Invoice.objects.select_related("client").get(pk=invoice.pk)
    if invoice.is_cancelled:
        raise InvalidTransition(_cancelled(invoice))
    values = invoice_values(invoice, business)
    filled_subject = fill(subject, values)
    filled_body = masked(body, values)
    attachment = archive(pdf_content)
    messages = []
    for recipient in recipients:
        _link, token = issue_link(document=invoice, recipient=recipient, acting_user=acting_user)
        messages.append(
            _queue(
                business=business,
                acting_user=acting_user,
                kind=MessageKind.INVOICE,
                invoice=invoice,
                to=[recipient],
                subject=filled_subject,
                body=filled_body,
                attachment=attachment,
                attachment_name=pdf_name,
                secret_link=link_url("invoice_link:page", token, base_url),
            )
        )
    if on_queued is not None:
        on_queued(messages)
    return messages


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


@operation
def queue_linked_document(
    *,
    document: Any,
    page: str,
    kind: str,
    recipients: Sequence[str],
    subject: str,
    body: str,
    content: bytes | None,
    filename: str,
    acting_user: User | None,
    base_url: str,
    invoice: Invoice | None = None,
) -> list[Message]:
    """Queue ``document`` (an issued credit note, a ``links.documents.Statement``) to each
    of ``recipients``, cleaned and one per person: a message each, with that recipient's own
    link to it (``page``: the URL name of the page the link opens), which replaces the link
    an earlier send gave it. ``body`` has the {link} placeholder (``with_link``) and is
    otherwise filled in; ``base_url``: the site's address (``site_address``)."""
    ensure_permitted(acting_user, "outbox.send_message", _("send e-mail"))
    business = get_business_settings()
    _require_set_up(business)
    attachment = archive(content) if content is not None else None
    filled_body = masked(body, {})
    messages = []
    for recipient in recipients:
        _link, token = issue_link(document=document, recipient=recipient, acting_user=acting_user)
        messages.append(
            _queue(
                business=business,
                acting_user=acting_user,
                kind=kind,
                to=[recipient],
                subject=subject,
                body=filled_body,
                attachment=attachment,
                attachment_name=filename if content is not None else "",
                invoice=invoice,
                secret_link=link_url(page, token, base_url),
            )
        )
    return messages


def credit_note_message_defaults(
    note: CreditNote, business: BusinessSettings | None = None
) -> dict[str, str]:
    """The credit note send form's first values: the client's address, a subject and a
    text naming the credit note, the invoice it credits, the amount and every tax, and
    {link}, where each recipient's own link to it goes."""
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
        "%(invoice)s of %(date)s: %(total)s in your favour.\n\n%(taxes)s\n\n"
        "You can also read it here:\n{link}\n\nThank you,\n%(business)s\n"
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
    base_url: str = "",
) -> list[Message]:
    """E-mail an issued credit note with its PDF attached, through the outbox: one message
    per address in ``to`` and ``cc``, each with that recipient's own link to the credit
    note (``base_url`` as for ``send_invoice``). The messages are listed on the invoice it
    credits."""
    ensure_permitted(acting_user, "outbox.send_message", _("send e-mail"))
    recipients = one_per_person(
        clean_addresses(to, field="to", label=_("To"), required=True),
        clean_addresses(cc, field="cc", label=_("CC")),
    )
    subject = clean_subject(subject, allowed=())
    body = with_link(
        clean_body(body, allowed=LINK_ONLY_PLACEHOLDERS),
        prompt=_("You can also read this credit note here:"),
    )
    base_url = site_address(base_url)
    _require_set_up(get_business_settings())
    note = pdf.load_credit_note(pk=credit_note.pk)
    if note.is_draft:
        raise InvalidTransition(_("Issue this credit note before sending it."))
    return queue_linked_document(
        document=note,
        page="credit_note_link:page",
        kind=MessageKind.CREDIT_NOTE,
        recipients=recipients,
        subject=subject,
        body=body,
        content=pdf.credit_note_pdf(note),  # before the operation's transaction
        filename=pdf.credit_note_filename(note),
        acting_user=acting_user,
        base_url=base_url,
        invoice=note.invoice,
    )


def reminder_link_prompt() -> str:
    return _("You can read the invoice here:")


@operation
def queue_reminder(
    *, invoice: Invoice, stage: ReminderStage, today: datetime.date, base_url: str = ""
) -> Message | None:
    """Queue the reminder ``stage`` for ``invoice``, unless it was already (or is at this
    moment being) queued: then None. The unique (invoice, stage) pair in the database makes
    that hold across overlapping runs, on any number of servers.

    The reminder carries the client's current link to the invoice: a new one, issued with
    it, which replaces the link the client had (``base_url`` as for ``send_invoice``)."""
    base_url = site_address(base_url)
    business = get_business_settings()
    invoice = Invoice.objects.select_related("client").get(pk=invoice.pk)
    values = reminder_values(invoice, business, today=today)
    attachment, name = _invoice_attachment(invoice) if stage.attach_pdf else (None, "")
    recipient = invoice.client.email
    try:
        with transaction.atomic():
            # In the savepoint: a reminder queued already rolls back the link with it.
            _link, token = issue_link(document=invoice, recipient=recipient, acting_user=None)
            return _queue(
                business=business,
                acting_user=None,
                kind=MessageKind.REMINDER,
                invoice=invoice,
                reminder_stage=stage,
                to=[recipient],
                subject=fill(stage.subject, values),
                body=masked(with_link(stage.body, prompt=reminder_link_prompt()), values),
                attachment=attachment,
                attachment_name=name,
                secret_link=link_url("invoice_link:page", token, base_url),
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


# The messages that carry a sign-in link (to the office or the portal), never a document.
SIGN_IN_KINDS = (MessageKind.PASSWORD_RESET, MessageKind.PORTAL_SIGN_IN)


@operation
def queue_sign_in_link(
    *, kind: str, to: str, subject: str, body_template: Callable[[str], str], link: str
) -> Message:
    """An e-mail carrying a sign-in link (``kind``: a password reset, a portal sign-in).
    ``body_template(marker)`` is the text with ``marker`` where the link goes: the outbox
    keeps it so, and the link only until the message is sent (see ``MASKED_LINK``)."""
    if kind not in SIGN_IN_KINDS:
        raise ValueError(f"{kind!r} is not a kind of sign-in message.")
    to_list = clean_addresses(to, field="to", label=_("To"), required=True)
    business = get_business_settings()
    _require_set_up(business)
    return _queue(
        business=business,
        acting_user=None,
        kind=kind,
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
    if not site_address_known():
        # Each reminder carries its link; once OTB_BASE_URL is set, the next run catches up.
        logger.warning("No reminder sent: %s", SITE_ADDRESS_UNKNOWN)
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
