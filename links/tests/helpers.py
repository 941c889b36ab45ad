"""Quotes with links, for the tests of the links and of a quote's link pages."""

from __future__ import annotations

import datetime
import re

from django.urls import reverse

from links.services import issue_link
from quotes import services
from tests.factories import ClientFactory, line

# A link in an e-mail's text.
LINK = re.compile(r"https?://\S+/q/[A-Za-z0-9_-]+/")


def sent_quote(*, client=None, user=None, description="Kitchen cabinets", **kwargs):
    """A quote marked sent (Q-000n), with two lines and the business's 13 % tax."""
    quote = services.create_quote(
        client=client or ClientFactory(name="Maple Leaf Property", email="ann@maple.example.com"),
        acting_user=user,
        lines=[line("10", "85.00", description=description), line("1", "250.00")],
        **kwargs,
    )
    return services.mark_sent(quote=quote, acting_user=user)


def expired_quote(*, client, user=None):
    """A quote sent in January 2020, valid until the 31st: expired ever since."""
    quote = services.create_quote(
        client=client,
        acting_user=user,
        lines=[line()],
        issue_date=datetime.date(2020, 1, 1),
        valid_until=datetime.date(2020, 1, 31),
    )
    return services.mark_sent(quote=quote, acting_user=user)


def link_for(quote, recipient="ann@maple.example.com", user=None):
    """A new link to ``quote`` for ``recipient``: (link, token)."""
    return issue_link(document=quote, recipient=recipient, acting_user=user)


def page_url(token: str) -> str:
    return reverse("quote_link:page", args=[token])


def pdf_url(token: str) -> str:
    return reverse("quote_link:pdf", args=[token])


def token_of(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[1]
