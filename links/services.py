"""Operations on document links (SPEC: Client portal and document links): issuing one for a
document and a recipient (which replaces that recipient's earlier link to it), revoking one,
and recording that one was opened."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import F
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from audit import recording as audit
from billing.errors import InvalidTransition
from billing.services import locking
from otb.operations import InvalidInput, ensure_permitted, operation
from settings_app.selectors import get_business_settings

from .documents import active_key, document_lookup, hash_token, new_token
from .models import REPLACED, DocumentLink, DocumentView

if TYPE_CHECKING:
    from django.contrib.auth.models import User

USER_AGENT_MAX_LENGTH = 500
REASON_MAX_LENGTH = 200


def clean_recipient(recipient: Any) -> str:
    """One e-mail address, lower-case: the same person is one recipient however it was
    typed."""
    address = recipient.strip().lower() if isinstance(recipient, str) else ""
    try:
        validate_email(address)
    except ValidationError:
        raise InvalidInput.single(
            "recipient",
            _("Recipient: “%(address)s” is not a valid e-mail address.")
            % {"address": str(recipient)[:100]},
        ) from None
    return address


def _revoke(
    link: DocumentLink, *, acting_user: User | None, reason: str, now: datetime.datetime
) -> None:
    before = audit.snapshot(link)
    link.revoked_at = now
    link.revoked_by = acting_user
    link.revoke_reason = reason
    link.active_key = None
    link.save(update_fields=["revoked_at", "revoked_by", "revoke_reason", "active_key"])
    audit.changed(link, before)


@operation
def issue_link(
    *, document: Any, recipient: str, acting_user: User | None
) -> tuple[DocumentLink, str]:
    """A new link that opens ``document`` (a sent quote, an issued invoice or credit note, a
    ``Statement``) for ``recipient``, and its token, which is returned once and never
    stored: only its SHA-256 is. The recipient's earlier link to the same document, if
    any, is revoked as replaced. It expires after the settings' document link days."""
    ensure_permitted(acting_user, "links.add_documentlink", _("issue document links"))
    recipient = clean_recipient(recipient)
    if getattr(document, "is_draft", False):
        raise InvalidTransition(_("A draft is never shown through a link; issue it first."))
    lookup = document_lookup(document)
    # The client's lock (the first of billing's lock order) serialises the links of its
    # documents; the unique active_key would refuse a second live link anyway.
    locking.lock_clients([document.client_id])
    now = timezone.now()
    earlier = DocumentLink.objects.select_for_update().filter(
        **lookup, recipient=recipient, revoked_at__isnull=True
    )
    for old in earlier.order_by("pk"):
        _revoke(old, acting_user=acting_user, reason=REPLACED, now=now)
    token = new_token()
    link = DocumentLink(
        **{**lookup, "client_id": document.client_id},
        recipient=recipient,
        token_hash=hash_token(token),
        active_key=active_key(document, recipient),
        created_at=now,
        created_by=acting_user,
        expires_at=now + datetime.timedelta(days=get_business_settings().document_link_days),
    )
    link.full_clean(exclude=["token_hash", "active_key"])
    link.save()
    audit.created(link)
    return link, token


@operation
def revoke_link(*, link: DocumentLink, acting_user: User | None, reason: str = "") -> DocumentLink:
    """The link no longer opens its document: whoever follows it gets the same "not found"
    page as for a link that never existed."""
    ensure_permitted(acting_user, "links.change_documentlink", _("revoke document links"))
    reason = " ".join(str(reason or "").split())
    if len(reason) > REASON_MAX_LENGTH:
        raise InvalidInput.single(
            "reason", _("Reason: at most %(n)d characters.") % {"n": REASON_MAX_LENGTH}
        )
    locking.lock_clients([link.client_id])
    link = DocumentLink.objects.select_for_update().get(pk=link.pk)
    if link.revoked_at is not None:
        raise InvalidTransition(
            _("The link to %(recipient)s was already revoked on %(date)s.")
            % {
                "recipient": link.recipient,
                "date": formats.date_format(timezone.localtime(link.revoked_at)),
            }
        )
    _revoke(link, acting_user=acting_user, reason=reason, now=timezone.now())
    return link


@operation
def record_view(*, link: DocumentLink, ip_address: str | None, user_agent: str) -> DocumentView:
    """The link's page or PDF was opened: a view row, and the link's counters (first and
    last viewed, number of views), which the business sees as "viewed"."""
    now = timezone.now()
    view = DocumentView.objects.create(
        link_id=link.pk,
        viewed_at=now,
        ip_address=ip_address or None,
        user_agent=(user_agent or "")[:USER_AGENT_MAX_LENGTH],
    )
    # Counted in the database, so two views at once both count.
    rows = DocumentLink.objects.filter(pk=link.pk)
    rows.update(view_count=F("view_count") + 1, last_viewed_at=now)
    rows.filter(first_viewed_at__isnull=True).update(first_viewed_at=now)
    # The counters follow from the view rows; the view is the record.
    audit.created(view)
    return view
