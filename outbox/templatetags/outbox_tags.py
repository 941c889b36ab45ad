"""The outbox's panels on other apps' pages (the dashboard, the settings): the pages load
this library instead of their views importing the outbox, which builds on them."""

from django import template

from settings_app.selectors import get_business_settings

from ..forms import TestEmailForm
from ..selectors import needing_attention

register = template.Library()


@register.inclusion_tag("outbox/_attention_alert.html", takes_context=True)
def email_attention(context, *, settings_only: bool = False):
    """The e-mails waiting for a person, for users who may see the outbox.
    ``settings_only``: those a change in the e-mail settings would cure."""
    user = context["request"].user
    if not user.has_perm("outbox.view_message"):
        return {"attention": None}
    return {"attention": needing_attention(settings_only=settings_only)}


@register.inclusion_tag("outbox/_test_email_form.html", takes_context=True)
def test_email_form(context):
    """The settings page's "send a test e-mail" form; it posts to ``outbox:test``, which
    sends and goes back to the settings page with the result as a message."""
    request = context["request"]
    business = context.get("business") or get_business_settings()
    # Django passes the page's CSRF token on to an inclusion tag's template itself.
    return {"test_form": TestEmailForm(initial={"to": request.user.email or business.email})}
