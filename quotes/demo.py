"""The demo business's quotes (``manage.py seed_demo``, through ``QuotesConfig.seed_demo``):
one in every state, made through the operations as the office would have made them, dated
relative to today, so the quick start shows each: a draft, sent ones still valid (to
e-mail, open from its link or the client portal and accept), an expired one, one accepted
by phone and converted into a draft invoice, a declined one and a withdrawn one."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from . import services
from .models import Answer, Channel, Quote

if TYPE_CHECKING:
    from billing.management.commands.seed_demo import _Demo

D = Decimal


def add_quotes(demo: _Demo) -> int:
    """The quotes, sent in the order of their dates, so that their numbers follow them.
    Returns how many it made."""
    line = demo.line
    made: list[Quote] = []

    def make(client: str, lines, **fields) -> Quote:
        quote = services.create_quote(
            client=demo.clients[client], lines=lines, acting_user=None, **fields
        )
        made.append(quote)
        return quote

    def send(quote: Quote, *, days_ago: int) -> Quote:
        # Valid for the settings' 30 days from its date.
        return services.mark_sent(quote=quote, acting_user=None, issue_date=demo.ago(days_ago))

    expired = make(
        "QUAY",
        [
            line("CARPENTRY", 24, description="Patio pergola, cedar, 4 × 6 m"),
            line("ELECTRICAL", 4, description="Pergola lighting and outlets"),
            line("MATERIALS", 1, "1850.00", description="Cedar posts and beams, fixtures"),
        ],
        notes="For the summer patio.",
    )
    send(expired, days_ago=50)

    withdrawn = make(
        "MAPLE",
        [
            line("LABOUR", 40, description="Lobby flooring: remove carpet, level, lay tile"),
            line("MATERIALS", 1, "3200.00", description="Porcelain tile, underlay"),
            line("DISPOSAL", 2),
        ],
    )
    services.withdraw_quote(
        quote=send(withdrawn, days_ago=28),
        acting_user=None,
        reason="The board postponed the lobby work to next year.",
    )

    converted = make(
        "OAKRIDGE",
        [
            line("DECK", 1, description="Second cedar deck 12×14 ft, 31 Maple Grove Ave"),
            line("ELECTRICAL", 2, description="Deck lighting"),
        ],
        discount_kind="fixed",
        discount_value=D("150.00"),
        notes="Repeat-client discount of $150.00.",
    )
    services.record_answer(
        quote=send(converted, days_ago=25),
        acting_user=None,
        answer=Answer.ACCEPTED,
        name="Frank Russo",
        channel=Channel.PHONE,
    )
    services.convert_quote(quote=converted, acting_user=None)

    declined = make(
        "LAKESHORE",
        [
            line("INSPECT", 3, description="Pre-purchase inspections, Niagara Falls"),
            line("TRAVEL", 620),
        ],
        notes="Amounts in US dollars; no HST (client outside Canada).",
    )
    services.record_answer(
        quote=send(declined, days_ago=20),
        acting_user=None,
        answer=Answer.DECLINED,
        name="Dana Whitfield",
        channel=Channel.EMAIL,
        reason="The purchase fell through; the inspections are no longer needed.",
    )

    valid = make(
        "CEDARLANE",
        [
            line("CARPENTRY", 36, description="Replace balcony railings, 12 units"),
            line("MATERIALS", 1, "2480.00", description="Aluminium railings and posts"),
            line("DISPOSAL", 1),
        ],
        notes="Work in two weeks once accepted; tenants are told 48 hours before.",
    )
    send(valid, days_ago=5)

    # Waiting for Maple's answer: its contact sees it in the client portal.
    waiting = make(
        "MAPLE",
        [
            line("LABOUR", 16, description="Parking lot: repaint lines and stall numbers"),
            line("MATERIALS", 1, "420.00", description="Traffic paint, stencils"),
        ],
        notes="Done on a weekend; the lot is closed for one day.",
    )
    send(waiting, days_ago=3)

    make(
        "SUMMIT",
        [
            line("CARPENTRY", 12, description="Change room benches and lockers"),
            line("MATERIALS", 1, "940.00", description="Maple benches, locker hardware"),
        ],
        notes="Locker hardware priced for 24 lockers; the total follows the final count.",
    )
    return len(made)
