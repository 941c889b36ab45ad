"""Operations of the client's side (SPEC: Client portal and document links): a payment the
client reports through its invoice's link or the client portal, which waits as a pending
payment until the business confirms it; signing in to the portal and out of it."""

from __future__ import annotations

import contextlib
import datetime
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from audit import recording as audit
from billing.errors import InvalidTransition, NotFound
from billing.inputs import clean_amount, clean_date, require_minor_unit
from billing.models import Invoice, Payment, PaymentMethod
from billing.money import format_money
from billing.selectors import clients_for_address, has_address_on_file
from billing.services import locking
from billing.services.payments import record_payment
from links.documents import hash_token, new_token, well_formed
from links.models import DocumentLink, LinkKind
from otb.operations import DomainError, InvalidInput, ensure_permitted, operation
from outbox.models import MessageKind
from outbox.services import link_url, queue_document, queue_sign_in_link, site_address
from settings_app.selectors import business_today, get_business_settings

from .models import USER_AGENT_MAX_LENGTH, PortalSession, SignInLink

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

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
        # Named as the form names the field.
        value = clean_amount(amount, field="amount", label=_("Amount paid"))
        require_minor_unit(value, invoice.currency, field="amount", label=_("Amount paid"))
        most = invoice.balance_due * MOST_TIMES_BALANCE
        if value > most:
            raise InvalidInput.single(
                "amount",
                _(
                    "Amount paid: %(amount)s is far more than the %(balance)s due; check "
                    "the amount you paid."
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


# How the client reached its invoice to report a payment: the report's note and audit
# event say which.
THROUGH_LINK, THROUGH_PORTAL = "link", "portal"


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
    gone = NotFound(_("This link no longer opens the invoice."))
    if not isinstance(link, DocumentLink) or link.invoice_id is None:
        raise gone
    # The lock order: the client and the invoice, then the link (as links.services does).
    invoice = locking.lock_invoice(link.invoice_id)
    live = (
        DocumentLink.objects.live(now=timezone.now())
        .select_for_update()
        .filter(pk=link.pk, kind=LinkKind.INVOICE, invoice_id=invoice.pk)
        .first()
    )
    if live is None or invoice.is_draft:  # revoked or expired while the page was open
        raise gone
    return _record_report(
        invoice,
        _Report(amount, date, method, reference, ip_address, user_agent, base_url),
        reporter=live.recipient,
        through=THROUGH_LINK,
        details={"link": live.pk, "recipient": live.recipient},
    )


@operation
def report_payment_in_portal(
    *,
    session: PortalSession,
    invoice: Invoice,
    amount: Any,
    date: Any,
    method: Any,
    reference: Any,
    ip_address: str | None,
    user_agent: str,
    base_url: str = "",
) -> Payment:
    """A contact signed in to the client portal says it paid ``invoice``: as through the
    invoice's link (``report_payment``, refused alike), the reporter being the address
    signed in. NotFound, the same as for an invoice of another client, when the session
    has ended, its address is no longer on file for the invoice's client, or the invoice
    is a draft."""
    invoice = locking.lock_invoice(invoice.pk)
    live = PortalSession.objects.live(now=timezone.now()).filter(pk=session.pk).exists()
    if not live or invoice.is_draft or not has_address_on_file(invoice.client, session.email):
        raise NotFound(_("This invoice is not in your portal."))
    return _record_report(
        invoice,
        _Report(amount, date, method, reference, ip_address, user_agent, base_url),
        reporter=session.email,
        through=THROUGH_PORTAL,
        details={"session": session.pk, "email": session.email},
    )


def _report_note(through: str, values: dict[str, str]) -> str:
    """The pending payment's note: who reported it, how, when and from where, so that the
    office tells a client's report apart from a payment staff entered."""
    if through == THROUGH_PORTAL:
        return (
            _("Reported by %(reporter)s through the client portal on %(when)s, from %(address)s.")
            % values
        )
    return (
        _("Reported by %(reporter)s through the invoice's link on %(when)s, from %(address)s.")
        % values
    )


@dataclass(frozen=True)
class _Report:
    """What the client says it paid, as typed, and where the report came from."""

    amount: Any
    date: Any
    method: Any
    reference: Any
    ip_address: str | None
    user_agent: str
    base_url: str


def _record_report(
    invoice: Invoice, report: _Report, *, reporter: str, through: str, details: dict[str, Any]
) -> Payment:
    """The report on ``invoice`` (locked by the caller, who checked that the client may
    reach it): refused for a cancelled or paid invoice and by field for bad values, else
    the pending payment, its audit event and the notice to the business."""
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
        amount=report.amount,
        date=report.date,
        method=report.method,
        reference=report.reference,
        today=business_today(get_business_settings()),
    )
    values = {
        "reporter": reporter,
        "when": formats.date_format(timezone.localtime(timezone.now()), "DATETIME_FORMAT"),
        "address": report.ip_address or _("an unknown address"),
    }
    payment = record_payment(
        invoice=invoice,
        amount=amount,
        date=date,
        method=method,
        reference=reference,
        note=_report_note(through, values),
        confirmed=False,
        acting_user=None,
    )
    audit.event(
        "payment reported through the client portal"
        if through == THROUGH_PORTAL
        else "payment reported through a link",
        subject=str(payment.pk),
        object_type="billing.payment",
        details={
            "invoice": invoice.number,
            **details,
            "amount": amount,
            "currency": invoice.currency,
            "ip_address": report.ip_address or "",
            "user_agent": (report.user_agent or "")[:500],
        },
    )
    _tell_business(payment, invoice=invoice, recipient=reporter, base_url=report.base_url)
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


# --- Signing in to the portal --------------------------------------------------------------
# A sign-in link works once, for this long; a session lasts at most this long from sign-in.
SIGN_IN_LINK_LIFETIME = datetime.timedelta(minutes=15)
SESSION_LIFETIME = datetime.timedelta(days=7)
# What revoke_reason says of an unused link that a newer request, or signing out everywhere,
# took the place of.
NEWER_LINK = "a newer link was asked for"
SIGNED_OUT_EVERYWHERE = "signed out everywhere"


class PortalOff(DomainError):
    """The business turned the portal off (settings)."""

    code = "portal_off"


def clean_address(email: Any) -> str:
    """The address a contact typed, lower-case; refused, naming the field, when it is not
    one. (Whether it is on file is never said.)"""
    address = email.strip().lower() if isinstance(email, str) else ""
    if len(address) > 254:
        raise InvalidInput.single("email", _("E-mail: at most 254 characters."))
    try:
        validate_email(address)
    except ValidationError:
        raise InvalidInput.single(
            "email",
            _("E-mail: give the address the business has on file, such as ann@example.com."),
        ) from None
    return address


def ensure_portal_on() -> None:
    if not get_business_settings().portal_enabled:
        raise PortalOff(_("The client portal is turned off."))


def _revoke_unused(email: str, *, reason: str, now: datetime.datetime) -> int:
    return (
        SignInLink.objects.usable(now=now)
        .filter(email=email)
        .update(revoked_at=now, revoke_reason=reason)
    )


@operation
def request_sign_in(
    *, email: Any, ip_address: str | None, user_agent: str, base_url: str
) -> SignInLink | None:
    """A contact asks to sign in with ``email``. When the address is on file for an active
    client (billing.selectors.clients_for_address, the one rule), a new single-use link,
    valid SIGN_IN_LINK_LIFETIME, is e-mailed to it and the earlier unused ones stop
    working; otherwise nothing is sent. The caller answers both alike, so nobody learns
    which addresses are on file. Refused when the portal is off or the address is not one.
    ``base_url``: the site's address, for the link (OTB_BASE_URL first)."""
    ensure_portal_on()
    address = clean_address(email)
    clients = list(clients_for_address(address))
    details = {"ip_address": ip_address or "", "user_agent": (user_agent or "")[:500]}
    if not clients:
        audit.event(
            "portal sign-in asked for an address not on file",
            subject=address,
            object_type="portal.signinlink",
            details=details,
        )
        return None
    now = timezone.now()
    _revoke_unused(address, reason=NEWER_LINK, now=now)
    token = new_token()
    link = SignInLink.objects.create(
        email=address,
        token_hash=hash_token(token),
        created_at=now,
        expires_at=now + SIGN_IN_LINK_LIFETIME,
        ip_address=ip_address or None,
        user_agent=(user_agent or "")[:USER_AGENT_MAX_LENGTH],
    )
    audit.created(link)
    business = get_business_settings()
    url = link_url("portal:sign_in_link", token, site_address(base_url))
    minutes = int(SIGN_IN_LINK_LIFETIME.total_seconds() // 60)
    values = {"business": business.business_name or _("our business"), "minutes": minutes}
    try:
        queue_sign_in_link(
            kind=MessageKind.PORTAL_SIGN_IN,
            to=address,
            subject=_("Your sign-in link for %(business)s") % values,
            body_template=lambda marker: (
                "\n\n".join(
                    [
                        _("Hello,"),
                        _(
                            "Someone (we hope you) asked to sign in to the client portal of "
                            "%(business)s with this address. Open this link and press the "
                            "button on its page to sign in:"
                        )
                        % values,
                        marker,
                        _(
                            "The link works once, within %(minutes)d minutes. If you did not ask "
                            "for it, ignore this e-mail: nobody can sign in without it."
                        )
                        % values,
                    ]
                )
                + "\n"
            ),
            link=url,
        )
    except DomainError as exc:
        # E-mail is not set up: the answer is the same (it must not tell who is on file);
        # the log and the audit trail tell the administrator.
        logger.warning("Portal sign-in link for %s not sent: %s", address, exc)
        details["not_sent"] = str(exc)
    audit.event(
        "portal sign-in link sent",
        subject=address,
        object_type="portal.signinlink",
        details={**details, "link": link.pk, "clients": [client.code for client in clients]},
    )
    return link


def usable_link(token: Any) -> SignInLink | None:
    """The sign-in link ``token`` opens while it still signs in (not used, revoked or
    expired, and its address still on file), or None for all of those alike. Looking does
    not use it up."""
    if not well_formed(token):
        return None
    link = (
        SignInLink.objects.usable(now=timezone.now()).filter(token_hash=hash_token(token)).first()
    )
    if link is None or not clients_for_address(link.email).exists():
        return None
    return link


@operation
def sign_in(*, token: Any, ip_address: str | None, user_agent: str) -> tuple[PortalSession, str]:
    """The contact pressed "Sign in" on the page its link opened: the link is used up (by
    one request only, however many press at once) and a session starts, for at most
    SESSION_LIFETIME. Returns the session and its key, which only the contact's cookie
    keeps (the database has its SHA-256). The session shows the client the address is on
    file for, or, when it is on file for several, none until one is chosen. NotFound, alike,
    for a link that is unknown, used, revoked, expired, or whose address is no longer on
    file."""
    ensure_portal_on()
    refused = NotFound(_("This sign-in link no longer works. Ask for a new one."))
    link = usable_link(token)
    if link is None:
        raise refused
    now = timezone.now()
    # One UPDATE takes it: of two presses at once, the database lets one through.
    if not SignInLink.objects.usable(now=now).filter(pk=link.pk).update(used_at=now):
        raise refused
    clients = list(clients_for_address(link.email))
    key = new_token()
    session = PortalSession.objects.create(
        email=link.email,
        key_hash=hash_token(key),
        sign_in_link=link,
        client=clients[0] if len(clients) == 1 else None,
        created_at=now,
        expires_at=now + SESSION_LIFETIME,
        last_seen_at=now,
        ip_address=ip_address or None,
        user_agent=(user_agent or "")[:USER_AGENT_MAX_LENGTH],
    )
    audit.event(
        "signed in to the portal",
        subject=link.email,
        object_type="portal.portalsession",
        details={
            "session": session.pk,
            "link": link.pk,
            "clients": [client.code for client in clients],
            "ip_address": ip_address or "",
            "user_agent": (user_agent or "")[:500],
        },
    )
    return session, key


@operation
def choose_client(*, session: PortalSession, client_id: Any) -> PortalSession:
    """The signed-in contact picks which of its clients the portal shows: one that has the
    session's address on file, else NotFound (the same as for any other client)."""
    ensure_portal_on()
    client_pk = _int_or_none(client_id)
    client = (
        clients_for_address(session.email).filter(pk=client_pk).first()
        if client_pk is not None
        else None
    )
    session = (
        PortalSession.objects.live(now=timezone.now())
        .select_for_update()
        .filter(pk=session.pk)
        .first()
    )
    if client is None or session is None:
        raise NotFound(_("Choose one of the clients listed."))
    before = audit.snapshot(session)
    session.client = client
    session.save(update_fields=["client"])
    audit.changed(session, before)
    return session


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@operation
def sign_out(*, session: PortalSession) -> None:
    """The contact signs out of this browser: the session ends now."""
    now = timezone.now()
    PortalSession.objects.live(now=now).filter(pk=session.pk).update(ended_at=now)
    audit.event(
        "signed out of the portal",
        subject=session.email,
        object_type="portal.portalsession",
        details={"session": session.pk},
    )


@operation
def sign_out_everywhere(*, session: PortalSession) -> int:
    """The contact signs out everywhere: every session of its address ends now, and its
    unused sign-in links stop working. How many sessions ended."""
    now = timezone.now()
    ended = PortalSession.objects.live(now=now).filter(email=session.email).update(ended_at=now)
    revoked = _revoke_unused(session.email, reason=SIGNED_OUT_EVERYWHERE, now=now)
    audit.event(
        "signed out of the portal everywhere",
        subject=session.email,
        object_type="portal.portalsession",
        details={"session": session.pk, "sessions_ended": ended, "links_revoked": revoked},
    )
    return ended


@operation
def end_sessions(*, sessions: list[PortalSession], acting_user: User | None) -> int:
    """The business signs contacts out (the back office): each of ``sessions`` still live
    ends now. How many did."""
    ensure_permitted(acting_user, "portal.change_portalsession", _("end portal sessions"))
    now = timezone.now()
    ended = (
        PortalSession.objects.live(now=now)
        .filter(pk__in=[session.pk for session in sessions])
        .update(ended_at=now)
    )
    audit.event(
        "portal sessions ended by the business",
        subject=",".join(str(session.pk) for session in sessions)[:200],
        object_type="portal.portalsession",
        details={"sessions_ended": ended},
    )
    return ended
