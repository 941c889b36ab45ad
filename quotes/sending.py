"""Sending a quote by e-mail with its client's own link, and telling the business when the
client answered through it (SPEC: Quotes; Client portal and document links).

One message per address, each with its own link: a link belongs to one document and one
recipient, and its views, its answer and a resend are that recipient's. An address in CC
is a recipient like those in To (a copy of another's message would hand over that
person's link): it gets a message and a link of its own. The body stored in the
outbox has ``MASKED_LINK`` where the link goes; the link itself waits, encrypted, in
``Message.secret_link`` until the message is delivered, then it is wiped. A text without
``{link}`` gets the link on a line of its own at the end: every quote e-mailed carries it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from billing import pdf
from billing.errors import InvalidTransition
from billing.money import format_money
from links.services import issue_link
from otb.operations import DomainError, InvalidInput, ensure_permitted, operation
from outbox.models import Message, MessageKind
from outbox.services import (
    NOT_SET_UP,
    Addresses,
    clean_addresses,
    clean_body,
    clean_subject,
    link_url,
    masked,
    one_per_person,
    queue_document,
    site_address,
    with_link,
)
from settings_app.models import BusinessSettings
from settings_app.selectors import business_today, get_business_settings
from settings_app.templating import QUOTE_PLACEHOLDERS, fill

from . import document, rules
from .models import Answer, Channel, Quote, QuoteAnswer
from .services import QuoteChanged, lock_quote, mark_sent

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

SENT_NOT_QUEUED = gettext_noop(
    "Quote %(number)s was marked sent, but its e-mail could not be queued just now. Send it "
    "again from its page; it keeps its number."
)


class SentNotQueued(DomainError):
    """A draft was marked sent for sending, but its messages could not be queued: the quote
    is numbered and sent (a complete operation), and sending it again sends it."""

    code = "sent_not_queued"

    def __init__(self, quote: Quote):
        super().__init__(_(SENT_NOT_QUEUED) % {"number": quote.number})
        self.quote = quote


# --- What the placeholders stand for ------------------------------------------------------
def _date(value: Any) -> str:
    return formats.date_format(value) if value else ""


def quote_values(quote: Quote, business: BusinessSettings) -> dict[str, str]:
    """The values of the quote e-mail's placeholders, except {link}: each recipient's own."""
    client = quote.client
    return {
        "quote_number": quote.number or "",
        "client_name": client.name,
        "contact_person": client.contact_person or client.name,
        "total": format_money(quote.total, quote.currency),
        "taxes": pdf.tax_summary(quote, business),  # type: ignore[arg-type]
        "quote_date": _date(quote.issue_date),
        "valid_until": _date(quote.valid_until),
        "business_name": business.business_name,
        "business_email": business.email,
        "business_phone": business.phone,
    }


def quote_message_defaults(
    quote: Quote, business: BusinessSettings | None = None
) -> dict[str, str]:
    """The send form's first values: the client's address and the settings' quote templates,
    filled in. {link} stays as it is (each recipient gets a link of its own when it is
    sent), and so do a draft's number and dates, which it gets when it is sent."""
    business = business or get_business_settings()
    subject, body = business.quote_email_subject, business.quote_email_body
    if not quote.is_draft:
        values = quote_values(quote, business)
        subject, body = fill(subject, values), fill(body, values)
    return {"to": quote.client.email, "cc": "", "subject": subject, "body": body}


def quote_link_prompt() -> str:
    return _("Read, accept or decline this quote here:")


def send_refusal(quote: Quote) -> str | None:
    """``rules.send_refusal`` on the business's today."""
    return rules.send_refusal(quote, today=business_today(get_business_settings()))


# --- Sending ------------------------------------------------------------------------------
def send_quote(
    *,
    quote: Quote,
    to: Addresses,
    subject: str,
    body: str,
    acting_user: User | None,
    cc: Addresses = "",
    base_url: str = "",
) -> list[Message]:
    """E-mail the quote with its PDF attached: one message per address in ``to`` and
    ``cc``, each with that recipient's own link (which replaces the link an earlier send
    gave it). The messages are delivered once they are queued; their rows say how that went.

    ``base_url``: the site's address as the client reaches it (the page's request);
    ``OTB_BASE_URL``, when set, wins over it.

    A draft is marked sent first, after all the input was checked (a refused message
    numbers nothing), in its own committed operation: it holds the quote number counter's
    lock, which every other sender would wait on while WeasyPrint renders. If the PDF or
    the queueing fails after that, the quote stays sent and ``SentNotQueued`` says so."""
    ensure_permitted(acting_user, "quotes.send_quote", _("send quotes"))
    ensure_permitted(acting_user, "outbox.send_message", _("send e-mail"))
    # One message and link per person, To and CC alike: an address typed twice (in any
    # case) is one.
    recipients = one_per_person(
        clean_addresses(to, field="to", label=_("To"), required=True),
        clean_addresses(cc, field="cc", label=_("CC")),
    )
    # {link} is refused in the subject (stored as it went out).
    subject = clean_subject(subject, allowed=QUOTE_PLACEHOLDERS)
    body = with_link(clean_body(body, allowed=QUOTE_PLACEHOLDERS), prompt=quote_link_prompt())
    base_url = site_address(base_url)
    business = get_business_settings()
    if not business.smtp_configured:
        raise InvalidInput.single("__all__", _(NOT_SET_UP))
    quote = Quote.objects.select_related("client").get(pk=quote.pk)
    refusal = send_refusal(quote)
    if refusal:
        raise InvalidTransition(refusal)
    marking = quote.is_draft
    if marking:
        quote = mark_sent(quote=quote, acting_user=acting_user)
    try:
        for _attempt in range(3):
            # Rendered in no transaction: on SQLite an open write transaction holds the
            # lock of the whole database, and the render takes seconds.
            loaded = document.load_quote(pk=quote.pk)
            data = document.quote_data(loaded)
            try:
                return _queue_quote(
                    quote=quote,
                    acting_user=acting_user,
                    recipients=recipients,
                    subject=subject,
                    body=body,
                    rendered_key=document.version_key(data),
                    pdf_content=document.quote_pdf(loaded, data=data),
                    pdf_name=document.quote_filename(loaded),
                    base_url=base_url,
                )
            except QuoteChanged:
                continue
        raise QuoteChanged(_("The quote keeps changing; try again in a moment."))
    except Exception as exc:  # WeasyPrint and the database raise many kinds
        if not marking:
            raise
        logger.exception("Quote %s was marked sent, but its e-mail was not queued", quote.number)
        raise SentNotQueued(quote) from exc


@operation
def _queue_quote(
    *,
    quote: Quote,
    acting_user: User | None,
    recipients: Sequence[str],
    subject: str,
    body: str,
    rendered_key: str,
    pdf_content: bytes,
    pdf_name: str,
    base_url: str,
) -> list[Message]:
    quote = lock_quote(quote.pk)
    refusal = send_refusal(quote)
    if refusal:
        raise InvalidTransition(refusal)
    if document.version_key(document.quote_data(document.load_quote(pk=quote.pk))) != (
        rendered_key
    ):
        # Changed while it was rendered: the PDF would not be the quote; render it again.
        raise QuoteChanged(_("The quote changed while it was being sent; try again."))
    values = quote_values(quote, get_business_settings())
    filled_subject = fill(subject, values)
    # The stored body has MASKED_LINK where the link goes; a client named "{link}" stays so.
    filled_body = masked(body, values)
    messages = []
    for recipient in recipients:
        _link, token = issue_link(document=quote, recipient=recipient, acting_user=acting_user)
        messages.append(
            queue_document(
                kind=MessageKind.QUOTE,
                to=recipient,
                subject=filled_subject,
                body=filled_body,
                content=pdf_content,
                filename=pdf_name,
                acting_user=acting_user,
                quote=quote,
                secret_link=link_url("quote_link:page", token, base_url),
            )
        )
    return messages


# --- Telling the business -----------------------------------------------------------------
def notify_business(*, answer: QuoteAnswer, base_url: str = "") -> Message | None:
    """E-mail the business (the settings' e-mail address) that its client answered a quote
    through the link or the client portal: who, when, from where, the reason of a decline,
    and for an acceptance the PDF accepted. Nothing when e-mail is not set up or the business has no
    address. Called once the answer has committed: the answer stands whether or not this
    message can be queued."""
    business = get_business_settings()
    if not business.smtp_configured or not business.email:
        return None
    answer = QuoteAnswer.objects.select_related("quote__client", "document").get(pk=answer.pk)
    quote = answer.quote
    accepted = answer.answer == Answer.ACCEPTED
    values = {
        "number": quote.number or "",
        "client": quote.client.name,
        "name": answer.name,
        "total": format_money(quote.total, quote.currency),
        "when": formats.date_format(timezone.localtime(answer.answered_at), "DATETIME_FORMAT"),
        "address": answer.ip_address or _("unknown"),
        "browser": answer.user_agent or _("unknown"),
    }
    if accepted:
        subject = _("Quote %(number)s accepted by %(client)s") % values
        lines = [
            _("%(name)s accepted quote %(number)s (%(client)s, %(total)s) on %(when)s.") % values,
            _("SHA-256 of the PDF accepted (attached): %(sha)s") % {"sha": answer.pdf_sha256},
        ]
    else:
        subject = _("Quote %(number)s declined by %(client)s") % values
        lines = [
            _("%(name)s declined quote %(number)s (%(client)s, %(total)s) on %(when)s.") % values,
            _("Reason: %(reason)s") % {"reason": answer.reason or _("none given")},
        ]
    if answer.channel == Channel.PORTAL:
        lines.append(
            _("Through the client portal, signed in as %(email)s.") % {"email": answer.email}
        )
    lines.append(_("From the address %(address)s, with %(browser)s.") % values)
    base_url = settings.OTB_BASE_URL or base_url
    if base_url.startswith(("http://", "https://")):
        lines.append(base_url.rstrip("/") + quote.get_absolute_url())
    return queue_document(
        kind=MessageKind.QUOTE_ANSWER,
        to=business.email,
        subject=subject,
        body="\n\n".join(lines) + "\n",
        content=bytes(answer.document.content) if answer.document is not None else None,
        filename=document.quote_filename(quote) if answer.document is not None else "",
        acting_user=None,
        quote=quote,
    )
