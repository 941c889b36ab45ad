"""Document links' tokens kept out of every log.

A document link's path holds its token (``/q/<token>/``), the key that opens a client's
document without a login, and a portal sign-in link's holds its own
(``/portal/sign-in/<token>/``): anyone who reads a log (the journal, a log shipper) could
use them. ``mask_link_tokens`` replaces them; the access log (otb/access_log.py) and Django's
own log records (``MaskLinkTokens``, on every handler in otb/settings.py) go through it.
"""

from __future__ import annotations

import logging
import re

# The path before the token of each kind of link: a quote's (quotes/public_urls.py), an
# invoice's, a credit note's and a statement's (portal/public_urls.py), and a portal sign-in
# link's (portal/urls.py).
LINK_PREFIXES = ("q", "i", "c", "s", "portal/sign-in")
TOKEN_IN_PATH = re.compile("/(" + "|".join(LINK_PREFIXES) + r")/[^/?#\s\"']+")
MASK = r"/\1/[token]"


def mask_link_tokens(text: str) -> str:
    return TOKEN_IN_PATH.sub(MASK, text)


class MaskLinkTokens(logging.Filter):
    """A log record's message with the tokens of document links masked ("Method Not
    Allowed (HEAD): /q/…/", "Internal Server Error: /q/…/pdf/"). The message is formatted
    here, once, and its arguments dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_link_tokens(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
