"""The demo business's recurring schedules (``manage.py seed_demo``, through
``RecurringConfig.seed_demo``), made through the operations as the office would have made
them, dated relative to today. The seed records no occurrence: the quick start then runs
``manage.py run_recurring``, which makes what is due, as the daily timer would, and makes
nothing more when it runs again. Between them they show a monthly retainer catching up a
few months, a quarterly contract left as drafts to review, a paused schedule whose dates in
the pause are skipped, one that ends after its third invoice, and one billed in euros."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from . import services
from .models import EndKind, IntervalUnit, IssueMode, Schedule

if TYPE_CHECKING:
    from billing.management.commands.seed_demo import _Demo


def first_of_month(today: datetime.date, *, months_back: int) -> datetime.date:
    """The first day of the month ``months_back`` months before ``today``'s."""
    year, month = divmod(today.year * 12 + today.month - 1 - months_back, 12)
    return datetime.date(year, month + 1, 1)


def add_schedules(demo: _Demo) -> int:
    """The schedules; returns how many it made."""
    line = demo.line
    made: list[Schedule] = []

    def make(client: str, name: str, lines, **fields) -> Schedule:
        schedule = services.create_schedule(
            client=demo.clients[client], acting_user=None, name=name, lines=lines, **fields
        )
        made.append(schedule)
        return schedule

    def months_back(count: int) -> datetime.date:
        return first_of_month(demo.today, months_back=count)

    # Started three months ago: the first run makes its four invoices, one a month, and
    # e-mails each (the quick start's mail sink keeps them, each with its link).
    make(
        "MAPLE",
        "Building maintenance retainer",
        [
            line("LABOUR", 12, description="On-call maintenance retainer, {month} {year}"),
            line("TRAVEL", 60, description="Travel to 55 Bloor St W, {month} {year}"),
        ],
        start_date=months_back(3),
        notes="Retainer for {period}; work beyond 12 hours is billed separately.",
        email_invoices=True,
    )
    # Each quarter's invoice waits as a draft: the hours are checked before it is issued.
    make(
        "HARBOUR",
        "Quarterly garage and common-area maintenance",
        [
            line("INSPECT", 1, description="Quarterly inspection, {period}"),
            line("ELECTRICAL", 2, description="Emergency lighting test, {period}"),
        ],
        start_date=months_back(1),
        interval_unit=IntervalUnit.QUARTER,
        issue_mode=IssueMode.DRAFT,
    )
    # Paused since last month (the studio is closed for renovation): the dates in the
    # pause are skipped, never billed later.
    summit = make(
        "SUMMIT",
        "Monthly equipment safety check",
        [line("LABOUR", 2, description="Equipment safety check, {month} {year}")],
        start_date=months_back(3),
    )
    services.pause_schedule(schedule=summit, acting_user=None, starts_on=months_back(1))
    # A job paid in three monthly instalments: the schedule ends after its third invoice.
    make(
        "CEDARLANE",
        "Laundry room renovation in 3 instalments",
        [
            line(
                "CARPENTRY",
                1,
                "1850.00",
                description="Laundry room renovation, instalment for {month} {year}",
                unit="instalment",
            )
        ],
        start_date=months_back(2),
        end_kind=EndKind.AFTER,
        end_after=3,
    )
    # Abroad: in euros at the rate of each invoice's date, without HST.
    make(
        "RHEINWERK",
        "Quarterly review of monitoring data",
        [line("INSPECT", 1, description="Review of structural monitoring data, {period}")],
        start_date=months_back(2),
        interval_unit=IntervalUnit.QUARTER,
        notes="Amounts in euros; no HST (client outside Canada).",
    )
    return len(made)
