"""What the pages read of recurring schedules: the list's filters, a schedule's figures as an
invoice made today would have them, its next dates and its history."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from billing.lists import client_code
from billing.models import Invoice
from billing.services.figures import document_taxes
from billing.services.invoices import preview_invoice
from otb.operations import DomainError, InvalidInput
from settings_app.selectors import get_business_settings

from . import services
from .dates import Recurrence
from .models import IntervalUnit, Occurrence, Schedule, ScheduleState
from .rules import period_values, upcoming

NEXT_DATES = 12


def filter_schedules(
    schedules: QuerySet[Schedule], *, state: str = "", client: str = ""
) -> QuerySet[Schedule]:
    """The schedules of the list page.

    - ``state``: one of ScheduleState.
    - ``client``: the client's code, any case (``acme`` is ACME).
    """
    state = state.strip()
    if state:
        if state not in ScheduleState.values:
            raise InvalidInput.single(
                "state",
                _("%(name)s: use one of %(values)s.")
                % {"name": "state", "values": ", ".join(ScheduleState.values)},
            )
        schedules = schedules.filter(state=state)
    if client.strip():
        schedules = schedules.filter(client__code=client_code(client))
    return schedules


def interval_words(count: int, unit: str) -> str:
    """ "every month", "every 2 weeks": a schedule's interval as the pages say it."""
    if unit == IntervalUnit.WEEK:
        return ngettext("every week", "every %(count)d weeks", count) % {"count": count}
    if unit == IntervalUnit.QUARTER:
        return ngettext("every quarter", "every %(count)d quarters", count) % {"count": count}
    if unit == IntervalUnit.YEAR:
        return ngettext("every year", "every %(count)d years", count) % {"count": count}
    return ngettext("every month", "every %(count)d months", count) % {"count": count}


@dataclass
class Figures:
    """What an invoice made from a schedule today would add up to; ``problem``: why it
    cannot be computed (a template line whose service is no longer active, say)."""

    currency: str
    lines: list[Any]
    subtotal: Any = None
    discount_total: Any = None
    taxes: list[dict[str, Any]] | None = None
    total: Any = None
    problem: str = ""


def figures_today(schedule: Schedule, *, business=None) -> Figures:
    """The figures of the invoice the schedule would make today (the client's tax set of
    today, billing.money's rounding), computed as the run would, without saving."""
    business = business or get_business_settings()
    _basis, taxes = document_taxes(schedule.client, business)
    try:
        figures = preview_invoice(
            client=schedule.client,
            lines=services.template_line_data(schedule, labels={tax.label for tax in taxes}),
            discount_kind=schedule.discount_kind,
            discount_value=schedule.discount_value,
            currency=schedule.currency,
        )
    except DomainError as exc:
        return Figures(currency=schedule.currency, lines=[], problem=exc.message)
    return Figures(
        currency=figures["currency"],
        lines=figures["lines"],
        subtotal=figures["subtotal"],
        discount_total=figures["discount_total"],
        taxes=figures["taxes"],
        total=figures["total"],
    )


def next_dates(schedule: Schedule, count: int = NEXT_DATES) -> list[tuple[datetime.date, str]]:
    """The schedule's next ``count`` dates as the run would record them: (date, "invoice"
    or "paused")."""
    return upcoming(
        schedule,
        made=services.invoices_made(schedule),
        pauses=schedule.pauses.all(),
        count=count,
    )


def next_period_values(schedule: Schedule) -> dict[str, str] | None:
    """What ``{period}``, ``{month}`` and ``{year}`` say on the schedule's next invoice."""
    if schedule.next_date is None or schedule.is_ended:
        return None
    recurrence = Recurrence.of(schedule)
    return period_values(schedule.next_date, recurrence.date(schedule.next_index + 1))


def history(schedule: Schedule, *, today: datetime.date) -> list[tuple[Occurrence, Any]]:
    """Every recorded occurrence, newest first, with its invoice (None: skipped, or its
    draft deleted) carrying the status it shows on ``today`` (overdue derived, as the
    invoice list does)."""
    occurrences = list(schedule.occurrences.order_by("-index"))
    invoices = Invoice.objects.with_shown_status(today=today).in_bulk(
        [o.invoice_id for o in occurrences if o.invoice_id is not None]
    )
    return [(occurrence, invoices.get(occurrence.invoice_id)) for occurrence in occurrences]
