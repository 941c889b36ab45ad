"""Recurring schedules on other apps' pages (a client's page, an invoice a schedule made),
the badge of a schedule's state and its interval in words: the pages load this library
instead of their views importing recurring, which builds on them."""

from django import template
from django.utils.html import format_html

from ..models import Occurrence, Schedule, ScheduleState
from ..selectors import interval_words

register = template.Library()

# Bootstrap's text-bg-… colour of each state: active green, paused amber, ended grey.
STATE_COLOURS: dict[str, str] = {
    ScheduleState.ACTIVE: "success",
    ScheduleState.PAUSED: "warning",
    ScheduleState.ENDED: "secondary",
}
LATEST_ON_CLIENT_PAGE = 10


@register.simple_tag
def schedule_badge(state: str):
    """<span class="badge …">Label</span> for a schedule's state."""
    return format_html(
        '<span class="badge text-bg-{} status-{}">{}</span>',
        STATE_COLOURS.get(state, "secondary"),
        state,
        ScheduleState(state).label if state in ScheduleState.values else state,
    )


@register.filter
def interval(schedule) -> str:
    """{{ schedule|interval }} -> "every 2 weeks"."""
    return interval_words(schedule.interval_count, schedule.interval_unit)


@register.inclusion_tag("recurring/_client_schedules.html", takes_context=True)
def client_schedules(context, client):
    """A client's recurring schedules, on its page."""
    user = context["request"].user
    if not user.has_perm("recurring.view_schedule"):
        return {"schedules": None}
    schedules = Schedule.objects.filter(client=client).order_by("-created_at", "-id")
    return {
        "client": client,
        "schedules": list(schedules[:LATEST_ON_CLIENT_PAGE]),
        "can_add": user.has_perm("recurring.add_schedule"),
    }


@register.inclusion_tag("recurring/_made_by.html", takes_context=True)
def made_by_schedule(context, invoice):
    """ "Made by recurring schedule … for …" on the page of an invoice a schedule made."""
    if invoice.pk is None or not context["request"].user.has_perm("recurring.view_schedule"):
        return {"occurrence": None}
    occurrence = Occurrence.objects.select_related("schedule").filter(invoice=invoice).first()
    return {"occurrence": occurrence}
