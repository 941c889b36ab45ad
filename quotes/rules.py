"""The rules of SPEC.md "Quotes", each in one function: what a quote shows as, what may
change it, and what its client may still do through its link."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import formats
from django.utils.translation import gettext as _

from otb.dates import days_after

from .models import QuoteState, QuoteStatus


def shown_state(quote: Any, *, today: datetime.date) -> str:
    """The state a quote shows: its stored status, or **expired**, derived and never
    stored: sent, neither accepted nor declined, and "valid until" before today (in the
    business's time zone, which ``today`` is)."""
    if (
        quote.status == QuoteStatus.SENT
        and quote.valid_until is not None
        and quote.valid_until < today
    ):
        return QuoteState.EXPIRED
    return str(quote.status)


def _date(day: datetime.date | None) -> str:
    return formats.date_format(day) if day is not None else ""


def change_refusal(quote: Any) -> str | None:
    """Why ``quote`` can no longer change, or None: a draft and a sent quote may change; an
    accepted one never does (SPEC), nor a declined or withdrawn one, which is closed."""
    if quote.status == QuoteStatus.ACCEPTED:
        return _(
            "Quote %(number)s was accepted and never changes; make a new quote for other work."
        ) % {"number": quote.number}
    if quote.status == QuoteStatus.DECLINED:
        return _("Quote %(number)s was declined and is closed; duplicate it to offer it again.") % {
            "number": quote.number
        }
    if quote.status == QuoteStatus.WITHDRAWN:
        return _(
            "Quote %(number)s was withdrawn and is closed; duplicate it to offer it again."
        ) % {"number": quote.number}
    return None


def delete_refusal(quote: Any) -> str | None:
    """Only a draft is deleted; a numbered quote is withdrawn instead, so its number stays."""
    if quote.status != QuoteStatus.DRAFT:
        return _("Quote %(number)s has been sent and keeps its number; withdraw it instead.") % {
            "number": quote.number
        }
    return None


def answer_refusal(quote: Any, *, today: datetime.date, by_client: bool) -> str | None:
    """Why an answer (accept or decline) cannot be recorded on ``quote`` now, or None. Only
    a sent quote is answered; the client cannot answer an expired one (staff still can,
    and that override is recorded)."""
    if quote.status == QuoteStatus.DRAFT:
        return _("This quote is a draft: send it (or mark it sent) before it is answered.")
    if quote.status in (QuoteStatus.ACCEPTED, QuoteStatus.DECLINED):
        return _("Quote %(number)s was already %(answer)s.") % {
            "number": quote.number,
            "answer": QuoteStatus(quote.status).label.lower(),
        }
    if quote.status == QuoteStatus.WITHDRAWN:
        return _("Quote %(number)s was withdrawn; it can no longer be answered.") % {
            "number": quote.number
        }
    if by_client and shown_state(quote, today=today) == QuoteState.EXPIRED:
        return _(
            "Quote %(number)s expired on %(date)s and can no longer be accepted here; "
            "ask for a new one."
        ) % {"number": quote.number, "date": _date(quote.valid_until)}
    return None


def convert_refusal(quote: Any) -> str | None:
    """Only an accepted quote is converted, or a sent one (expired or not), whose
    conversion records an acceptance on the client's behalf (SPEC)."""
    if quote.status in (QuoteStatus.ACCEPTED, QuoteStatus.SENT):
        return None
    if quote.status == QuoteStatus.DRAFT:
        return _("This quote is a draft: send it before converting it into an invoice.")
    return _("Quote %(number)s was %(status)s; it cannot be converted into an invoice.") % {
        "number": quote.number,
        "status": QuoteStatus(quote.status).label.lower(),
    }


def send_refusal(quote: Any, *, today: datetime.date) -> str | None:
    """Why ``quote`` cannot be e-mailed to its client, or None. A draft is sent (marked sent
    first); a sent quote may be sent again; an expired one would offer the client a link
    that cannot accept it."""
    state = shown_state(quote, today=today)
    if state == QuoteState.EXPIRED:
        return _(
            "Quote %(number)s expired on %(date)s: change its “valid until” date before "
            "sending it again."
        ) % {"number": quote.number, "date": _date(quote.valid_until)}
    if state not in (QuoteState.DRAFT, QuoteState.SENT):
        return _("Quote %(number)s was %(state)s; it cannot be sent.") % {
            "number": quote.number,
            "state": QuoteState(state).label.lower(),
        }
    return None


def default_valid_until(date: datetime.date, settings: Any) -> datetime.date:
    """A quote sent on ``date`` is valid for the settings' number of days."""
    return days_after(date, settings.quote_valid_days, field="issue_date", label=_("Quote date"))
