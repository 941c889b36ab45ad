"""Quotes on other apps' pages (the dashboard, a client's page, an invoice made from a
quote), and the badge of a quote's state: the pages load this library instead of their views
importing quotes, which builds on them."""

from django import template
from django.utils.html import format_html

from settings_app.selectors import business_today

from ..models import Quote, QuoteState
from ..selectors import awaiting_answer, with_shown_state

register = template.Library()

# Bootstrap's text-bg-… colour of each state: waiting blue, expired amber, accepted green,
# declined red, withdrawn grey, a draft pale (with a border, to show on white).
STATE_COLOURS: dict[str, str] = {
    QuoteState.DRAFT: "light border",
    QuoteState.SENT: "primary",
    QuoteState.EXPIRED: "warning",
    QuoteState.ACCEPTED: "success",
    QuoteState.DECLINED: "danger",
    QuoteState.WITHDRAWN: "secondary",
}
LATEST_ON_CLIENT_PAGE = 10


@register.simple_tag
def quote_badge(state: str, label: str = ""):
    """<span class="badge …">Label</span> for the state a quote shows; ``label``: another
    word for it (the client's page says "Awaiting your answer" for sent)."""
    return format_html(
        '<span class="badge text-bg-{} status-{}">{}</span>',
        STATE_COLOURS.get(state, "secondary"),
        state,
        label or (QuoteState(state).label if state in QuoteState.values else state),
    )


@register.inclusion_tag("quotes/_awaiting.html", takes_context=True)
def quotes_awaiting(context, today=None):
    """The dashboard's "quotes awaiting an answer" on ``today`` (the business's, which the
    dashboard knows), for users who may see quotes."""
    if not context["request"].user.has_perm("quotes.view_quote"):
        return {"awaiting": None}
    return {"awaiting": awaiting_answer(today=today or business_today())}


@register.inclusion_tag("quotes/_client_quotes.html", takes_context=True)
def client_quotes(context, client):
    """A client's latest quotes, on its page."""
    user = context["request"].user
    if not user.has_perm("quotes.view_quote"):
        return {"quotes": None}
    quotes = with_shown_state(Quote.objects.filter(client=client), today=business_today())
    return {
        "client": client,
        "quotes": list(quotes.order_by("-created_at", "-id")[:LATEST_ON_CLIENT_PAGE]),
        "limit": LATEST_ON_CLIENT_PAGE,
        "can_add": user.has_perm("quotes.add_quote"),
    }
