"""Delivering queued messages, and what each attempt leaves behind.

A message is claimed with a compare-and-swap (``queued`` -> ``sending`` in one UPDATE): when
two processes reach for the same message, one updates a row and the other none, and only
the first sends. The SMTP conversation runs outside any transaction; its outcome is then
recorded in one: an attempt row, and the message sent, queued again for later (a temporary
failure, with back-off) or failed and shown to the user.

A process that dies mid-send leaves the message ``sending``. Whether the server took it is
unknown, so it is never sent again automatically: ``recover_stalled`` marks it failed for a
person to check.
"""

from __future__ import annotations

import datetime
import logging

from django.core.mail import EmailMessage
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import recording as audit
from otb.operations import operation
from settings_app.selectors import get_business_settings

from . import smtp
from .models import (
    MASKED_LINK,
    AttemptOutcome,
    DeliveryAttempt,
    FailureKind,
    Message,
    MessageKind,
    MessageStatus,
    split_addresses,
)

logger = logging.getLogger(__name__)

# The pause after the 1st, 2nd, ... temporary failure in a row; after the last, it gives up.
RETRY_DELAYS = tuple(datetime.timedelta(minutes=minutes) for minutes in (5, 15, 60, 3 * 60, 8 * 60))
STALLED_AFTER = datetime.timedelta(minutes=30)


def build_email(message: Message) -> EmailMessage:
    body = message.body
    if message.secret_link:
        body = body.replace(MASKED_LINK, message.secret_link)
    email = EmailMessage(
        subject=message.subject,
        body=body,
        from_email=message.from_address,
        to=split_addresses(message.to_addresses),
        cc=split_addresses(message.cc_addresses),
        bcc=split_addresses(message.bcc_addresses),
        reply_to=[message.reply_to] if message.reply_to else None,
        # The same Message-ID on every attempt: a server that got it twice can tell.
        headers={"Message-ID": message.message_id},
    )
    if message.attachment is not None:
        email.attach(message.attachment_name, bytes(message.attachment.content), "application/pdf")
    return email


def deliver(message_id: int, *, acting_user=None) -> Message | None:
    """Send the message if it is queued and nobody else is sending it: the message after
    this attempt, or None when there was nothing for this process to do."""
    claimed = Message.objects.filter(pk=message_id, status=MessageStatus.QUEUED).update(
        status=MessageStatus.SENDING, claimed_at=timezone.now()
    )
    if not claimed:  # sent, failed, or being sent by another process
        return None
    message = Message.objects.select_related("attachment").get(pk=message_id)
    business = get_business_settings()
    started_at = timezone.now()
    try:
        outcome = smtp.send(build_email(message), business)
    except Exception as exc:  # building the message failed: still an attempt on record
        logger.exception("Could not build e-mail message %s", message_id)
        outcome = smtp.failure(exc, business)
    return _record(
        message_id=message_id,
        outcome=outcome,
        started_at=started_at,
        server=smtp.server_label(business),
        acting_user=acting_user,
    )


@operation
def _record(
    *, message_id: int, outcome: smtp.Outcome, started_at, server: str, acting_user
) -> Message:
    message = Message.objects.select_for_update().get(pk=message_id)
    before = audit.snapshot(message)
    now = timezone.now()
    message.attempt_count += 1
    message.failure_kind = outcome.kind
    message.problem = outcome.problem
    message.claimed_at = None
    if outcome.sent:
        result = AttemptOutcome.SENT
        message.status = MessageStatus.SENT
        message.sent_at = now
        message.next_attempt_at = None
        message.failures_in_a_row = 0
        message.needs_attention = bool(outcome.refused)  # sent, but not to everyone
        message.secret_link = ""  # it did its work; nobody needs it again
    else:
        message.failures_in_a_row += 1
        may_retry = outcome.retry and message.kind != MessageKind.TEST
        if may_retry and message.failures_in_a_row <= len(RETRY_DELAYS):
            result = AttemptOutcome.RETRY
            message.status = MessageStatus.QUEUED
            message.next_attempt_at = now + RETRY_DELAYS[message.failures_in_a_row - 1]
            message.needs_attention = False
        else:
            result = AttemptOutcome.FAILED
            message.status = MessageStatus.FAILED
            message.next_attempt_at = None
            # A test e-mail's result is shown at once to the person who asked for it.
            message.needs_attention = message.kind != MessageKind.TEST
            if may_retry:
                message.problem = _("%(problem)s Gave up after %(count)s attempts.") % {
                    "problem": outcome.problem,
                    "count": message.failures_in_a_row,
                }
    message.save()
    DeliveryAttempt.objects.create(
        message=message,
        started_at=started_at,
        finished_at=now,
        outcome=result,
        failure_kind=outcome.kind,
        smtp_code=outcome.code,
        server_answer=outcome.answer[:2000],
        problem=message.problem,
        server=server,
        recipients=", ".join(message.recipients),
        acting_user=acting_user,
    )
    audit.changed(message, before)
    return message


@operation
def recover_stalled(*, now: datetime.datetime | None = None) -> int:
    """Messages left ``sending`` by a process that stopped: failed, for a person to check."""
    now = now or timezone.now()
    stalled = Message.objects.filter(
        status=MessageStatus.SENDING, claimed_at__lt=now - STALLED_AFTER
    ).select_for_update()
    found = list(stalled.values_list("pk", "subject"))
    count = stalled.update(
        status=MessageStatus.FAILED,
        claimed_at=None,
        next_attempt_at=None,
        needs_attention=True,
        failure_kind=FailureKind.UNKNOWN,
        problem=_(
            "Sending stopped half-way (the process ended), so it is not known whether the "
            "message arrived. Check with the recipient, then send it again or mark it as "
            "dealt with."
        ),
    )
    for pk, subject in found:
        audit.changed_values(
            Message,
            object_id=pk,
            object_repr=subject,
            before={"status": MessageStatus.SENDING},
            after={"status": MessageStatus.FAILED},
        )
    return count


def deliver_due(*, now: datetime.datetime | None = None, limit: int = 500) -> list[Message]:
    """Deliver the queued messages whose attempt is due (first sends and retries); the
    messages this run attempted, without those an overlapping run took first."""
    now = now or timezone.now()
    due = Message.objects.due(now=now).order_by("next_attempt_at", "pk")
    attempted = (deliver(pk) for pk in due.values_list("pk", flat=True)[:limit])
    return [message for message in attempted if message is not None]
