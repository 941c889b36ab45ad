"""The placeholders of the e-mail templates in the settings: ``{invoice_number}`` and so on.

Deliberately not the Django template language: a template typed in the settings can only
name the values listed here, never reach into the database. A placeholder that is not
listed is refused when the template is saved (and when a message is sent), so a typo
cannot go out to a client as "{invoce_number}".
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")

# The recipient's own document link (SPEC: Client portal and document links): allowed in the
# text of an e-mail, never in its subject, which the outbox stores as it went out.
LINK = "link"

INVOICE_PLACEHOLDERS = (
    "invoice_number",
    "client_name",
    "contact_person",
    "total",
    "taxes",
    "balance_due",
    "issue_date",
    "due_date",
    LINK,
    "business_name",
    "business_email",
    "business_phone",
)
QUOTE_PLACEHOLDERS = (
    "quote_number",
    "client_name",
    "contact_person",
    "total",
    "taxes",
    "quote_date",
    "valid_until",
    "link",
    "business_name",
    "business_email",
    "business_phone",
)
REMINDER_PLACEHOLDERS = (*INVOICE_PLACEHOLDERS, "days_until_due", "days_overdue")
# A credit note's and a statement's texts are typed out in full on the send form: the link
# is their one placeholder.
LINK_ONLY_PLACEHOLDERS = (LINK,)
RECEIPT_PLACEHOLDERS = (
    "client_name",
    "contact_person",
    "payment_amount",
    "payment_date",
    "payment_method",
    "payment_reference",
    "invoice_number",
    "balance_due",
    "business_name",
    "business_email",
    "business_phone",
)


def without_link(names: tuple[str, ...]) -> tuple[str, ...]:
    """The placeholders of a subject: those of its text, less the link."""
    return tuple(name for name in names if name != LINK)


def has_link(text: str) -> bool:
    return LINK in PLACEHOLDER.findall(text)


def braced(names) -> str:
    """("a", "b") -> "{a}, {b}"."""
    return ", ".join(f"{{{name}}}" for name in names)


def unknown_placeholders(text: str, allowed) -> list[str]:
    return sorted({name for name in PLACEHOLDER.findall(text) if name not in allowed})


def check_placeholders(text: str, allowed) -> None:
    """Raise ValidationError naming every placeholder of ``text`` that is not ``allowed``."""
    unknown = unknown_placeholders(text, allowed)
    if unknown:
        raise ValidationError(
            _("Unknown placeholder %(unknown)s; the ones you can use are %(allowed)s."),
            code="unknown_placeholder",
            params={
                "unknown": braced(unknown),
                "allowed": braced(allowed),
            },
        )


def check_subject_placeholders(text: str, allowed) -> None:
    """``check_placeholders`` for a subject, whose placeholders are ``allowed`` less the
    link: the link goes in the text."""
    if has_link(text):
        raise ValidationError(
            _("The link goes in the text; remove {link} from the subject."),
            code="link_in_subject",
        )
    check_placeholders(text, without_link(tuple(allowed)))


def fill(text: str, values: Mapping[str, str]) -> str:
    """Put the values in; a value is never scanned again, so a client called "{total}"
    stays "{total}"."""
    return PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), text)
