"""Operations on quotes (SPEC: Quotes): drafts made, changed and deleted; quotes sent
(numbered from their own gapless series), changed while sent (every change recorded),
withdrawn, answered by the client or on its behalf, and converted into one draft invoice.

An acceptance records the SHA-256 of the exact PDF accepted and archives its bytes. The PDF
is rendered before the operation's transaction (WeasyPrint takes seconds, and SQLite's
write lock would be held all along); the operation then checks, under the quote's lock,
that the quote still is the version rendered (``document.version_key``)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from audit import recording as audit
from billing.errors import InvalidTransition, NotFound
from billing.inputs import clean_currency, clean_date, clean_text
from billing.models import Client, Invoice
from billing.money import DISCOUNT_NONE
from billing.selectors import has_address_on_file
from billing.services import locking
from billing.services.figures import (
    LineData,
    apply_figures,
    clean_discount,
    clean_lines,
    document_taxes,
    line_snapshot,
)
from billing.services.invoices import create_draft
from links.models import DocumentLink
from otb.operations import (
    UNSET,
    DomainError,
    InvalidInput,
    StaleRead,
    ensure_permitted,
    given,
    operation,
)
from outbox.models import ArchivedDocument
from outbox.services import archive
from settings_app.selectors import business_today, get_business_settings

from . import document
from .models import (
    STAFF_CHANNELS,
    Answer,
    Channel,
    Quote,
    QuoteAnswer,
    QuoteChange,
    QuoteLine,
    QuoteStatus,
    QuoteTax,
)
from .rules import (
    answer_refusal,
    change_refusal,
    convert_refusal,
    default_valid_until,
    delete_refusal,
    shown_state,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# The name of the quote number counter's row (billing.InvoiceNumberCounter).
COUNTER_NAME = "quote"
QUOTE_RELATED = ("lines", "taxes")
NAME_MAX_LENGTH = 200
USER_AGENT_MAX_LENGTH = 500
# How a refusal names a quote's one discount.
DISCOUNT_LABEL = gettext_noop("Quote discount")


class QuoteChanged(DomainError):
    """The quote changed since the version the client read (or staff had rendered)."""

    code = "quote_changed"


# --- Reading and locking ------------------------------------------------------------------
def lock_quote(quote_pk: int, *, also_clients: Iterable[int] = ()) -> Quote:
    """Lock the quote's client (and ``also_clients``, a client it moves to), then the quote:
    the lock order of billing.services.locking, clients first, a quote where an invoice
    sits."""
    try:
        client_id = Quote.objects.values_list("client_id", flat=True).get(pk=quote_pk)
    except Quote.DoesNotExist:
        raise NotFound(_("That quote no longer exists.")) from None
    locking.lock_clients([client_id, *also_clients])
    quote = Quote.objects.select_for_update().select_related("client").get(pk=quote_pk)
    if quote.client_id != client_id:
        raise StaleRead(f"quote {quote_pk} moved to another client")
    return quote


def _quote_taxes(taxes: Iterable[Any]) -> list[QuoteTax]:
    return [
        QuoteTax(tax_id=tax.tax_id, label=tax.label, rate=tax.rate, number=tax.number)
        for tax in taxes
    ]


def _save_taxes(quote: Quote, taxes: list[QuoteTax]) -> None:
    for position, tax in enumerate(taxes, start=1):
        tax.quote = quote
        tax.position = position
    QuoteTax.objects.bulk_create(taxes)


def _header_snapshot(quote: Quote) -> dict[str, Any]:
    return {
        "client": quote.client.code,
        "currency": quote.currency,
        "issue_date": quote.issue_date.isoformat() if quote.issue_date else None,
        "valid_until": quote.valid_until.isoformat() if quote.valid_until else None,
        "notes": quote.notes,
        "terms": quote.terms,
        "discount_kind": quote.discount_kind,
        "discount_value": str(quote.discount_value),
        "subtotal": str(quote.subtotal),
        "discount_total": str(quote.discount_total),
        "tax_total": str(quote.tax_total),
        "total": str(quote.total),
    }


def _check_valid_until(issue_date: datetime.date | None, valid_until: datetime.date | None) -> None:
    if issue_date and valid_until and valid_until < issue_date:
        raise InvalidInput.single(
            "valid_until",
            _("Valid until: cannot be before the quote date (%(date)s).")
            % {"date": formats.date_format(issue_date)},
        )


def _active_client(client: Any) -> Client:
    if not isinstance(client, Client):
        raise InvalidInput.single("client", _("Client: choose a client."))
    return client


# --- Drafts -------------------------------------------------------------------------------
@operation
def create_quote(
    *,
    client: Client,
    acting_user: User | None,
    lines: Sequence[LineData] = (),
    notes: str = "",
    terms: str | None = None,
    discount_kind: str = DISCOUNT_NONE,
    discount_value: Any = 0,
    issue_date: Any = None,
    valid_until: Any = None,
    currency: str | None = None,
) -> Quote:
    """A new draft quote for ``client`` in ``currency`` (default: the client's), with the
    client's tax set as it is today (``billing.rules.tax_set``) and the settings' quote
    terms. It has no number until it is sent."""
    ensure_permitted(acting_user, "quotes.add_quote", _("create quotes"))
    client = _active_client(client)
    settings = get_business_settings()
    currency = clean_currency(currency) if currency else client.default_currency
    discount_kind, discount_value = clean_discount(
        discount_kind, discount_value, currency, label=_(DISCOUNT_LABEL)
    )
    issue_date = clean_date(issue_date, field="issue_date", label=_("Quote date"), required=False)
    valid_until = clean_date(
        valid_until, field="valid_until", label=_("Valid until"), required=False
    )
    _check_valid_until(issue_date, valid_until)
    client = locking.lock_clients([client.pk])[0]
    if not client.is_active:
        raise InvalidInput.single(
            "client", _("Client: %(code)s is inactive.") % {"code": client.code}
        )
    tax_basis, invoice_taxes = document_taxes(client, settings)
    taxes = _quote_taxes(invoice_taxes)
    cleaned_lines = clean_lines(lines, taxes, currency=currency, line_class=QuoteLine)
    quote = Quote(
        client=client,
        currency=currency,
        notes=clean_text(notes or "", field="notes", label=_("Notes")),
        terms=clean_text(
            settings.quote_terms_text if terms is None else terms,
            field="terms",
            label=_("Terms"),
        ),
        discount_kind=discount_kind,
        discount_value=discount_value,
        issue_date=issue_date,
        valid_until=valid_until,
        tax_basis=tax_basis,
        created_by=acting_user,
    )
    apply_figures(quote, cleaned_lines, taxes, discount_label=_(DISCOUNT_LABEL))
    quote.save()
    for line in cleaned_lines:
        line.quote = quote
    QuoteLine.objects.bulk_create(cleaned_lines)
    _save_taxes(quote, taxes)
    audit.created(quote, QUOTE_RELATED)
    return quote


def preview_quote(
    *,
    client: Client,
    lines: Sequence[LineData],
    discount_kind: str = DISCOUNT_NONE,
    discount_value: Any = 0,
    quote: Quote | None = None,
    currency: str | None = None,
) -> dict[str, Any]:
    """The figures a new quote (or ``quote`` after an edit) would get, computed as saving
    does, without saving: the quote form's live totals."""
    client = _active_client(client)
    if currency:
        currency = clean_currency(currency)
    elif quote is not None:
        currency = quote.currency
    else:
        currency = client.default_currency
    kind, value = clean_discount(discount_kind, discount_value, currency, label=_(DISCOUNT_LABEL))
    draft = Quote(client=client, currency=currency, discount_kind=kind, discount_value=value)
    if quote is not None and (quote.number is not None or quote.client_id == client.pk):
        taxes = _quote_taxes(quote.taxes.all())
    else:
        taxes = _quote_taxes(document_taxes(client, get_business_settings())[1])
    cleaned_lines = clean_lines(lines, taxes, currency=currency, line_class=QuoteLine)
    apply_figures(draft, cleaned_lines, taxes, discount_label=_(DISCOUNT_LABEL))
    return {
        "currency": draft.currency,
        "lines": [line.amount for line in cleaned_lines],
        "subtotal": draft.subtotal,
        "discount_total": draft.discount_total,
        "taxes": [
            {
                "label": tax.label,
                "rate": tax.rate,
                "number": tax.number,
                "base": tax.base,
                "amount": tax.amount,
            }
            for tax in taxes
        ],
        "total": draft.total,
    }


@operation
def update_quote(
    *,
    quote: Quote,
    acting_user: User | None,
    client: Client = UNSET,
    lines: Sequence[LineData] = UNSET,
    notes: str = UNSET,
    terms: str = UNSET,
    discount_kind: str = UNSET,
    discount_value: Any = UNSET,
    issue_date: Any = UNSET,
    valid_until: Any = UNSET,
    currency: str = UNSET,
) -> Quote:
    """Change a draft, or a sent quote not yet answered (SPEC: a sent quote may change
    until it is accepted or declined; every change is recorded). A sent quote keeps its
    client and currency: it went to that client, priced in that currency. An accepted,
    declined or withdrawn quote never changes."""
    ensure_permitted(acting_user, "quotes.change_quote", _("change quotes"))
    requested = given(
        client=client,
        lines=lines,
        notes=notes,
        terms=terms,
        discount_kind=discount_kind,
        discount_value=discount_value,
        issue_date=issue_date,
        valid_until=valid_until,
        currency=currency,
    )
    if "client" in requested:
        _active_client(requested["client"])
    quote = lock_quote(
        quote.pk, also_clients=[requested["client"].pk] if "client" in requested else []
    )
    refusal = change_refusal(quote)
    if refusal:
        raise InvalidTransition(refusal)
    settings = get_business_settings()
    before = audit.snapshot(quote, QUOTE_RELATED)
    old_header = _header_snapshot(quote)
    old_lines = [line_snapshot(line) for line in quote.lines.select_related("service")]
    if "client" in requested and requested["client"].pk == quote.client_id:
        del requested["client"]
    if "currency" in requested:
        requested["currency"] = clean_currency(requested["currency"])
        if requested["currency"] == quote.currency:
            del requested["currency"]
    if not quote.is_draft:
        for field, message in (
            ("client", _("Client: quote %(number)s was sent to %(code)s and keeps its client.")),
            (
                "currency",
                _("Currency: quote %(number)s was sent in %(currency)s and keeps it."),
            ),
        ):
            if field in requested:
                raise InvalidInput.single(
                    field,
                    message
                    % {
                        "number": quote.number,
                        "code": quote.client.code,
                        "currency": quote.currency,
                    },
                )
    retaxed = "client" in requested
    if retaxed:
        new_client = Client.objects.get(pk=requested["client"].pk)  # locked above
        if not new_client.is_active:
            raise InvalidInput.single(
                "client", _("Client: %(code)s is inactive.") % {"code": new_client.code}
            )
        tax_basis, invoice_taxes = document_taxes(new_client, settings)
        taxes = _quote_taxes(invoice_taxes)
        quote.client = new_client
    else:
        taxes = list(quote.taxes.all())
    if "currency" in requested:
        quote.currency = requested["currency"]
    if "notes" in requested:
        quote.notes = clean_text(requested["notes"] or "", field="notes", label=_("Notes"))
    if "terms" in requested:
        quote.terms = clean_text(requested["terms"] or "", field="terms", label=_("Terms"))
    if {"discount_kind", "discount_value", "currency"} & requested.keys():
        quote.discount_kind, quote.discount_value = clean_discount(
            requested.get("discount_kind", quote.discount_kind),
            requested.get("discount_value", quote.discount_value),
            quote.currency,
            label=_(DISCOUNT_LABEL),
        )
    for field, label in (("issue_date", _("Quote date")), ("valid_until", _("Valid until"))):
        if field in requested:
            value = clean_date(
                requested[field], field=field, label=label, required=not quote.is_draft
            )
            setattr(quote, field, value)
    _check_valid_until(quote.issue_date, quote.valid_until)
    if "lines" in requested:
        line_objects = clean_lines(
            requested["lines"], taxes, currency=quote.currency, line_class=QuoteLine
        )
        if not line_objects and not quote.is_draft:
            raise InvalidInput.single(
                "lines", _("Lines: a sent quote keeps at least one line; withdraw it instead.")
            )
    else:
        line_objects = list(quote.lines.all())
        if retaxed:
            labels = [tax.label for tax in taxes]
            for line in line_objects:
                if line.taxes is not None:
                    kept = [label for label in labels if label in line.taxes]
                    line.taxes = None if kept == labels else kept
    apply_figures(quote, line_objects, taxes, discount_label=_(DISCOUNT_LABEL))
    quote.save()
    if retaxed:
        quote.tax_basis = tax_basis
        quote.save(update_fields=["tax_basis"])
        quote.taxes.all().delete()
        _save_taxes(quote, taxes)
    else:
        QuoteTax.objects.bulk_update(taxes, ["base", "amount"])
    quote.lines.all().delete()
    for position, line in enumerate(line_objects, start=1):
        line.pk = None
        line.quote = quote
        line.position = position
    QuoteLine.objects.bulk_create(line_objects)
    if not quote.is_draft:
        new_header = _header_snapshot(quote)
        new_lines = [line_snapshot(line) for line in line_objects]
        changes = {
            field: {"old": old_header[field], "new": new_header[field]}
            for field in new_header
            if old_header[field] != new_header[field]
        }
        if old_lines != new_lines:
            changes["lines"] = {"old": old_lines, "new": new_lines}
        if changes:
            QuoteChange.objects.create(quote=quote, changed_by=acting_user, changes=changes)
    audit.changed(quote, before, QUOTE_RELATED)
    return quote


@operation
def delete_quote(*, quote: Quote, acting_user: User | None) -> None:
    """Drafts may be deleted; a sent quote keeps its number and is withdrawn instead."""
    ensure_permitted(acting_user, "quotes.delete_quote", _("delete quotes"))
    quote = lock_quote(quote.pk)
    refusal = delete_refusal(quote)
    if refusal:
        raise InvalidTransition(refusal)
    audit.deleted(quote, QUOTE_RELATED)
    quote.delete()


@operation
def duplicate_quote(*, quote: Quote, acting_user: User | None) -> Quote:
    """A new draft with the same client, currency, lines, discount, notes and terms as
    ``quote`` (any state): a declined quote offered again. It takes today's tax set."""
    source = Quote.objects.select_related("client").get(pk=quote.pk)
    _basis, taxes = document_taxes(source.client, get_business_settings())
    labels = {tax.label for tax in taxes}
    return create_quote(
        client=source.client,
        acting_user=acting_user,
        lines=_line_data(source, keep=labels),
        notes=source.notes,
        terms=source.terms,
        discount_kind=source.discount_kind,
        discount_value=source.discount_value,
        currency=source.currency,
    )


def _line_data(quote: Quote, *, keep: set[str] | None = None) -> list[LineData]:
    """The quote's lines as a new document takes them; ``keep``: the labels of the new
    document's taxes, a line carrying those of its own it still can (None: the quote's own
    set, each line carrying exactly what it carries on the quote, named, so the service's
    taxes as they stand now never change an accepted quote's figures)."""
    labels = [tax.label for tax in quote.taxes.all()]
    return [
        LineData(
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
            unit=line.unit,
            discount_percent=line.discount_percent,
            taxable=line.taxable,
            service=line.service,
            taxes=(
                (labels if line.taxes is None else line.taxes)
                if keep is None
                else None
                if line.taxes is None
                else [label for label in line.taxes if label in keep]
            ),
        )
        for line in quote.lines.select_related("service").order_by("position", "pk")
    ]


# --- Sending and withdrawing --------------------------------------------------------------
@operation
def mark_sent(
    *,
    quote: Quote,
    acting_user: User | None,
    issue_date: Any = None,
    valid_until: Any = None,
) -> Quote:
    """A draft becomes sent: it takes the next number of the quotes' own gapless series
    (``locking.next_in_series``, never at a draft save), its date (default today) and its
    "valid until" (default: the settings' days after it). A quote already sent stays as it
    is (sending it again numbers nothing)."""
    ensure_permitted(acting_user, "quotes.send_quote", _("send quotes"))
    issue_date = clean_date(issue_date, field="issue_date", label=_("Quote date"), required=False)
    valid_until = clean_date(
        valid_until, field="valid_until", label=_("Valid until"), required=False
    )
    quote = lock_quote(quote.pk)
    if not quote.is_draft:
        if quote.status != QuoteStatus.SENT:
            raise InvalidTransition(change_refusal(quote) or "")
        return quote
    if not quote.client.is_active:
        raise InvalidInput.single(
            "client", _("Client: %(code)s is inactive.") % {"code": quote.client.code}
        )
    lines = list(quote.lines.all())
    if not lines or all(line.amount == 0 for line in lines):
        raise InvalidTransition(_("Add a line with an amount before sending the quote."))
    before = audit.snapshot(quote)
    settings = get_business_settings()
    quote.issue_date = issue_date or quote.issue_date or business_today(settings)
    quote.valid_until = (
        valid_until
        or (
            quote.valid_until
            if quote.valid_until and quote.valid_until >= quote.issue_date
            else None
        )
        or default_valid_until(quote.issue_date, settings)
    )
    _check_valid_until(quote.issue_date, quote.valid_until)
    quote.sequence = locking.next_in_series(COUNTER_NAME)
    quote.number = f"{settings.quote_number_prefix}{quote.sequence:04d}"
    quote.status = QuoteStatus.SENT
    quote.sent_at = timezone.now()
    quote.sent_by = acting_user
    quote.save()
    audit.changed(quote, before)
    return quote


@operation
def withdraw_quote(*, quote: Quote, acting_user: User | None, reason: str = "") -> Quote:
    """The business takes back a sent quote that was not answered: its link shows it as
    withdrawn, and it can no longer be accepted."""
    ensure_permitted(acting_user, "quotes.send_quote", _("withdraw quotes"))
    quote = lock_quote(quote.pk)
    if quote.is_draft:
        raise InvalidTransition(_("This quote is a draft: delete it instead of withdrawing it."))
    refusal = change_refusal(quote)
    if refusal:
        raise InvalidTransition(refusal)
    before = audit.snapshot(quote)
    quote.status = QuoteStatus.WITHDRAWN
    quote.withdrawn_at = timezone.now()
    quote.withdrawn_by = acting_user
    quote.withdraw_reason = clean_text(reason or "", field="reason", label=_("Reason"))
    quote.save()
    audit.changed(quote, before)
    return quote


# --- Answers ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rendered:
    """A version of the quote as rendered: its key and its PDF's bytes."""

    key: str
    pdf: bytes


def render_current(quote: Quote) -> Rendered:
    """The quote as it stands, rendered to PDF (outside any transaction: it takes
    seconds), with the key of that version."""
    loaded = document.load_quote(pk=quote.pk)
    data = document.quote_data(loaded)
    return Rendered(key=document.version_key(data), pdf=document.quote_pdf(loaded, data=data))


def _clean_name(name: Any) -> str:
    name = " ".join(str(name or "").split())
    if not name:
        raise InvalidInput.single("name", _("Name: type the name of the person answering."))
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidInput.single(
            "name", _("Name: at most %(n)d characters.") % {"n": NAME_MAX_LENGTH}
        )
    return name


def _current_key(quote: Quote) -> str:
    return document.version_key(document.quote_data(document.load_quote(pk=quote.pk)))


def _save_answer(
    quote: Quote,
    *,
    answer: str,
    channel: str,
    name: str,
    reason: str = "",
    recorded_by: User | None,
    ip_address: str | None = None,
    user_agent: str = "",
    email: str = "",
    after_expiry: bool = False,
    rendered: Rendered | None = None,
) -> QuoteAnswer:
    stored: ArchivedDocument | None = archive(rendered.pdf) if rendered is not None else None
    before = audit.snapshot(quote)
    quote.status = QuoteStatus.ACCEPTED if answer == Answer.ACCEPTED else QuoteStatus.DECLINED
    quote.save()
    recorded = QuoteAnswer.objects.create(
        quote=quote,
        answer=answer,
        channel=channel,
        name=name,
        reason=reason,
        answered_at=timezone.now(),
        ip_address=ip_address or None,
        user_agent=(user_agent or "")[:USER_AGENT_MAX_LENGTH],
        email=email,
        recorded_by=recorded_by,
        after_expiry=after_expiry,
        pdf_sha256=stored.sha256 if stored is not None else "",
        document=stored,
    )
    audit.changed(quote, before)
    audit.created(recorded)
    return recorded


def _check_version(quote: Quote, shown_key: str, rendered: Rendered | None) -> None:
    """Refuse when the quote is no longer the version the client read (``shown_key``), or
    the one rendered for the acceptance."""
    current = _current_key(quote)
    if shown_key != current or (rendered is not None and rendered.key != current):
        raise QuoteChanged(
            _("Quote %(number)s has changed since you opened it. Read it again before you answer.")
            % {"number": quote.number},
            field="version",
        )


def _ensure_still_reachable(quote: Quote, *, link_id: int | None, portal_email: str) -> None:
    """NotFound when the way the client came to the quote no longer opens it: its link was
    revoked or ran out, or the address signed in to the portal is no longer on file for
    the quote's client (both may happen while the page is open, or while the PDF is
    rendered). ``link_id`` None and no ``portal_email``: nothing to check (the tests')."""
    if portal_email:
        if not has_address_on_file(quote.client, portal_email):
            raise NotFound(_("This quote is not in your portal."))
    elif link_id is not None and not (
        DocumentLink.objects.live(now=timezone.now())
        .select_for_update()
        .filter(pk=link_id, quote_id=quote.pk)
        .exists()
    ):
        raise NotFound(_("This link no longer opens the quote."))


@operation
def _answer_by_client(
    *,
    quote: Quote,
    answer: str,
    shown_key: str,
    name: Any,
    agreed: bool,
    reason: str,
    ip_address: str | None,
    user_agent: str,
    rendered: Rendered | None,
    link_id: int | None = None,
    portal_email: str = "",
) -> QuoteAnswer:
    name = _clean_name(name)
    if answer == Answer.ACCEPTED and not agreed:
        raise InvalidInput.single(
            "agreed", _("I accept these terms: tick the box to accept the quote.")
        )
    reason = clean_text(reason or "", field="reason", label=_("Reason"))
    quote = lock_quote(quote.pk)
    _ensure_still_reachable(quote, link_id=link_id, portal_email=portal_email)
    today = business_today(get_business_settings())
    refusal = answer_refusal(quote, today=today, by_client=True)
    if refusal:
        raise InvalidTransition(refusal)
    _check_version(quote, shown_key, rendered)
    return _save_answer(
        quote,
        answer=answer,
        channel=Channel.PORTAL if portal_email else Channel.LINK,
        name=name,
        reason=reason,
        recorded_by=None,
        ip_address=ip_address,
        user_agent=user_agent,
        email=portal_email,
        rendered=rendered,
    )


def _accept(
    quote: Quote,
    shown_key: str,
    name: Any,
    ip_address: str | None,
    user_agent: str,
    agreed: bool,
    **through: Any,
) -> QuoteAnswer:
    """The client's own acceptance (``through``: ``link_id`` or ``portal_email``), the PDF
    rendered first, outside the operation's transaction."""
    return _answer_by_client(
        quote=quote,
        answer=Answer.ACCEPTED,
        shown_key=shown_key,
        name=name,
        agreed=agreed,
        reason="",
        ip_address=ip_address,
        user_agent=user_agent,
        rendered=render_current(quote),
        **through,
    )


def _decline(
    quote: Quote,
    shown_key: str,
    name: Any,
    ip_address: str | None,
    user_agent: str,
    reason: str,
    **through: Any,
) -> QuoteAnswer:
    return _answer_by_client(
        quote=quote,
        answer=Answer.DECLINED,
        shown_key=shown_key,
        name=name,
        agreed=False,
        reason=reason,
        ip_address=ip_address,
        user_agent=user_agent,
        rendered=None,
        **through,
    )


def accept_by_link(
    *,
    quote: Quote,
    shown_key: str,
    name: Any,
    agreed: bool,
    ip_address: str | None,
    user_agent: str,
    link_id: int | None = None,
) -> QuoteAnswer:
    """The client accepts ``quote`` through its link: the name typed, the box ticked, and
    the key of the version it read, through the link ``link_id`` (refused when it no longer
    opens the quote). Refused when the quote changed since, expired, or was already
    answered or withdrawn. The exact PDF of that version is archived and its
    SHA-256 recorded with the name, time, IP address and browser."""
    return _accept(quote, shown_key, name, ip_address, user_agent, agreed, link_id=link_id)


def decline_by_link(
    *,
    quote: Quote,
    shown_key: str,
    name: Any,
    reason: str,
    ip_address: str | None,
    user_agent: str,
    link_id: int | None = None,
) -> QuoteAnswer:
    """The client declines ``quote`` through its link, with an optional reason."""
    return _decline(quote, shown_key, name, ip_address, user_agent, reason, link_id=link_id)


def accept_in_portal(
    *,
    quote: Quote,
    email: str,
    shown_key: str,
    name: Any,
    agreed: bool,
    ip_address: str | None,
    user_agent: str,
) -> QuoteAnswer:
    """A contact signed in to the client portal as ``email`` accepts ``quote``, as through
    its link (``accept_by_link``, refused alike), and NotFound when ``email`` is no longer
    on file for the quote's client. The answer records the address signed in."""
    return _accept(quote, shown_key, name, ip_address, user_agent, agreed, portal_email=email)


def decline_in_portal(
    *,
    quote: Quote,
    email: str,
    shown_key: str,
    name: Any,
    reason: str,
    ip_address: str | None,
    user_agent: str,
) -> QuoteAnswer:
    """A contact signed in to the client portal as ``email`` declines ``quote``, with an
    optional reason, as through its link (``decline_by_link``)."""
    return _decline(quote, shown_key, name, ip_address, user_agent, reason, portal_email=email)


def _clean_channel(channel: Any, *, allowed: Sequence[str]) -> str:
    if channel not in allowed:
        raise InvalidInput.single(
            "channel",
            _("Channel: choose how the client answered (%(channels)s).")
            % {"channels": ", ".join(str(Channel(c).label).lower() for c in allowed)},
        )
    return str(channel)


@operation
def _record_answer(
    *,
    quote: Quote,
    acting_user: User | None,
    answer: str,
    name: str,
    channel: str,
    reason: str,
    rendered: Rendered | None,
) -> QuoteAnswer:
    quote = lock_quote(quote.pk)
    today = business_today(get_business_settings())
    refusal = answer_refusal(quote, today=today, by_client=False)
    if refusal:
        raise InvalidTransition(refusal)
    if rendered is not None and rendered.key != _current_key(quote):
        # Changed while it was rendered: the wrapper renders it again.
        raise QuoteChanged(_("The quote changed while it was being recorded; try again."))
    return _save_answer(
        quote,
        answer=answer,
        channel=channel,
        name=name,
        reason=reason,
        recorded_by=acting_user,
        after_expiry=shown_state(quote, today=today) == "expired",
        rendered=rendered,
    )


def record_answer(
    *,
    quote: Quote,
    acting_user: User | None,
    answer: str,
    name: Any,
    channel: Any,
    reason: str = "",
) -> QuoteAnswer:
    """Staff record the client's answer on its behalf: who answered (``name``), by which
    channel (phone, e-mail, in person), and the user who recorded it. An acceptance of an
    expired quote is allowed to staff, and recorded as such."""
    ensure_permitted(acting_user, "quotes.answer_quote", _("record answers to quotes"))
    if answer not in Answer.values:
        raise InvalidInput.single("answer", _("Answer: choose accepted or declined."))
    name = _clean_name(name)
    channel = _clean_channel(channel, allowed=STAFF_CHANNELS)
    reason = clean_text(reason or "", field="reason", label=_("Reason"))
    for _attempt in range(3):
        rendered = render_current(quote) if answer == Answer.ACCEPTED else None
        try:
            return _record_answer(
                quote=quote,
                acting_user=acting_user,
                answer=answer,
                name=name,
                channel=channel,
                reason=reason,
                rendered=rendered,
            )
        except QuoteChanged:
            continue
    raise QuoteChanged(_("The quote keeps changing; try again in a moment."))


# --- Conversion ---------------------------------------------------------------------------
@operation
def _convert(*, quote: Quote, acting_user: User | None, rendered: Rendered | None) -> Invoice:
    quote = lock_quote(quote.pk)
    if quote.invoice_id is not None:
        return Invoice.objects.get(pk=quote.invoice_id)
    refusal = convert_refusal(quote)
    if refusal:
        raise InvalidTransition(refusal)
    today = business_today(get_business_settings())
    if quote.status == QuoteStatus.SENT:
        if rendered is None or rendered.key != _current_key(quote):
            raise QuoteChanged(_("The quote changed while it was being converted; try again."))
        _save_answer(
            quote,
            answer=Answer.ACCEPTED,
            channel=Channel.CONVERSION,
            name=_user_name(acting_user),
            recorded_by=acting_user,
            after_expiry=shown_state(quote, today=today) == "expired",
            rendered=rendered,
        )
    taxes = list(quote.taxes.all())
    invoice = create_draft(
        client=quote.client,
        acting_user=acting_user,
        lines=_line_data(quote),
        notes=quote.notes,
        terms=None,
        discount_kind=quote.discount_kind,
        discount_value=quote.discount_value,
        currency=quote.currency,
        tax_set=(quote.tax_basis, taxes),
    )
    before = audit.snapshot(quote)
    quote.invoice = invoice
    quote.save(update_fields=["invoice", "updated_at"])
    audit.changed(quote, before)
    return invoice


def _user_name(user: Any) -> str:
    if user is None:
        return _("the system")
    return (user.get_full_name() or user.get_username())[:NAME_MAX_LENGTH]


def convert_quote(*, quote: Quote, acting_user: User | None) -> Invoice:
    """One draft invoice with the quote's client, currency, lines, discount and tax
    snapshot; converting again returns the same invoice, however many convert at once (the
    quote's lock, and its one-to-one link to the invoice). A quote still sent (or expired)
    is first accepted on the client's behalf by ``acting_user`` (SPEC), with the PDF of the
    version converted, so it never changes again."""
    ensure_permitted(acting_user, "quotes.convert_quote", _("convert quotes into invoices"))
    ensure_permitted(acting_user, "billing.add_invoice", _("create invoices"))
    for _attempt in range(3):
        current = Quote.objects.filter(pk=quote.pk).values("status", "invoice_id").first()
        if current is None:
            raise NotFound(_("That quote no longer exists."))
        needs_pdf = current["status"] == QuoteStatus.SENT and current["invoice_id"] is None
        rendered = render_current(quote) if needs_pdf else None
        try:
            return _convert(quote=quote, acting_user=acting_user, rendered=rendered)
        except QuoteChanged:
            continue
    raise QuoteChanged(_("The quote keeps changing; try again in a moment."))
