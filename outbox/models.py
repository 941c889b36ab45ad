"""The outbox: every e-mail the business sends is a row, with each attempt to deliver it.

A message is written (queued) in the transaction of the operation that wants it sent, and
delivered after that transaction commits (outbox/delivery.py). So a message exists exactly
when its reason does (an issued invoice, a confirmed payment), a failed delivery is a row
someone can see, and nothing is ever marked "sent" that the server did not accept.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from otb.secrets import EncryptedTextField


class ArchivedDocument(models.Model):
    """The exact bytes of an attachment that went out, kept by their SHA-256: the business
    can always show what the client received, and identical PDFs are stored once."""

    sha256 = models.CharField(_("SHA-256"), max_length=64, unique=True)
    content = models.BinaryField(_("content"))
    size = models.PositiveIntegerField(_("size (bytes)"))
    created_at = models.DateTimeField(_("archived at"), auto_now_add=True)

    class Meta:
        verbose_name = _("archived document")
        verbose_name_plural = _("archived documents")

    def __str__(self) -> str:
        return self.sha256


class MessageKind(models.TextChoices):
    INVOICE = "invoice", _("Invoice")
    REMINDER = "reminder", _("Reminder")
    RECEIPT = "receipt", _("Payment receipt")
    TEST = "test", _("Test e-mail")
    PASSWORD_RESET = "password", _("Password reset")
    STATEMENT = "statement", _("Statement")
    CREDIT_NOTE = "credit", _("Credit note")
    QUOTE = "quote", _("Quote")
    # The business told that a client answered a quote through its link.
    QUOTE_ANSWER = "answer", _("Answer to a quote")
    # The business told that a client reported a payment through its invoice's link.
    PAYMENT_REPORT = "reported", _("Payment reported")
    # A client's contact asked to sign in to the portal.
    PORTAL_SIGN_IN = "portal", _("Portal sign-in")


# Where a message's secret link goes. The stored body holds this instead of the link, so that
# nobody reading the outbox (or a backup) can use it; the link itself waits in
# ``Message.secret_link`` until the message is sent, then it is wiped.
MASKED_LINK = "[link hidden; it went out in the e-mail]"


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class FailureKind(models.TextChoices):
    """Why a delivery failed, in the terms of what the user can do about it."""

    SETTINGS = "settings", _("E-mail settings incomplete")
    AUTH = "auth", _("Login refused")
    TLS = "tls", _("Secure connection failed")
    UNREACHABLE = "unreachable", _("Server unreachable")
    TIMEOUT = "timeout", _("No answer in time")
    TEMPORARY = "temporary", _("Temporary server error")
    SENDER = "sender", _("From address refused")
    RECIPIENT = "recipient", _("Recipient refused")
    REJECTED = "rejected", _("Message refused")
    UNKNOWN = "unknown", _("Unknown outcome")


# Failures that a change in the settings page cures; the settings page lists them.
SETTINGS_FAILURES = (
    FailureKind.SETTINGS,
    FailureKind.AUTH,
    FailureKind.TLS,
    FailureKind.UNREACHABLE,
    FailureKind.SENDER,
)


class MessageQuerySet(models.QuerySet):
    def needing_attention(self):
        return self.filter(needs_attention=True)

    def due(self, *, now):
        """Queued messages whose (next) attempt is due."""
        return self.filter(status=MessageStatus.QUEUED, next_attempt_at__lte=now)


class Message(models.Model):
    kind = models.CharField(_("kind"), max_length=10, choices=MessageKind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=MessageStatus.choices, default=MessageStatus.QUEUED
    )
    invoice = models.ForeignKey(
        "billing.Invoice",
        verbose_name=_("invoice"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="messages",
    )
    payment = models.ForeignKey(
        "billing.Payment",
        verbose_name=_("payment"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="messages",
    )
    quote = models.ForeignKey(
        "quotes.Quote",
        verbose_name=_("quote"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="messages",
    )
    reminder_stage = models.ForeignKey(
        "settings_app.ReminderStage",
        verbose_name=_("reminder stage"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="messages",
    )

    from_address = models.CharField(_("from"), max_length=320)
    reply_to = models.CharField(_("reply to"), max_length=254, blank=True)
    to_addresses = models.TextField(_("to"))
    cc_addresses = models.TextField(_("CC"), blank=True)
    bcc_addresses = models.TextField(_("BCC"), blank=True)
    subject = models.CharField(_("subject"), max_length=255)
    body = models.TextField(_("text"))
    # Encrypted at rest (otb/secrets.py), and wiped once the message is sent.
    secret_link = EncryptedTextField(editable=False, blank=True)
    attachment = models.ForeignKey(
        ArchivedDocument,
        verbose_name=_("attachment"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="messages",
    )
    attachment_name = models.CharField(_("attachment name"), max_length=100, blank=True)
    message_id = models.CharField(_("Message-ID"), max_length=255)

    attempt_count = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # Failed attempts since the message was queued or retried by hand: they decide the
    # back-off and when automatic retries give up.
    failures_in_a_row = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    failure_kind = models.CharField(
        _("failure"), max_length=12, choices=FailureKind.choices, blank=True
    )
    problem = models.TextField(_("problem"), blank=True)
    needs_attention = models.BooleanField(_("needs attention"), default=False)
    dealt_with_at = models.DateTimeField(_("dealt with at"), null=True, blank=True)
    dealt_with_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("dealt with by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty: sent by the system (reminders, receipts, maintenance)."),
    )

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("e-mail message")
        verbose_name_plural = _("e-mail messages")
        permissions = [("send_message", _("Can send e-mail"))]
        constraints = [
            # Each reminder stage goes out once per invoice, however many runs overlap: the
            # second insert fails (NULLs, i.e. other kinds of message, never collide).
            models.UniqueConstraint(
                fields=["invoice", "reminder_stage"], name="outbox_one_message_per_stage"
            ),
            models.UniqueConstraint(fields=["payment"], name="outbox_one_receipt_per_payment"),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbox_due_idx"),
            models.Index(fields=["needs_attention", "created_at"], name="outbox_attention_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.to_addresses}: {self.subject}"

    def get_absolute_url(self) -> str:
        return reverse("outbox:detail", args=[self.pk])

    @property
    def recipients(self) -> list[str]:
        return [
            address
            for field in (self.to_addresses, self.cc_addresses, self.bcc_addresses)
            for address in split_addresses(field)
        ]


def split_addresses(text: str) -> list[str]:
    return [address.strip() for address in text.split(",") if address.strip()]


class AttemptOutcome(models.TextChoices):
    SENT = "sent", _("Sent")
    RETRY = "retry", _("Failed, will retry")
    FAILED = "failed", _("Failed")


class DeliveryAttempt(models.Model):
    message = models.ForeignKey(
        Message, verbose_name=_("message"), on_delete=models.PROTECT, related_name="attempts"
    )
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"))
    outcome = models.CharField(_("outcome"), max_length=10, choices=AttemptOutcome.choices)
    failure_kind = models.CharField(
        _("failure"), max_length=12, choices=FailureKind.choices, blank=True
    )
    smtp_code = models.PositiveSmallIntegerField(_("SMTP code"), null=True, blank=True)
    server_answer = models.TextField(_("server's answer"), blank=True)
    problem = models.TextField(_("problem"), blank=True)
    server = models.CharField(_("server"), max_length=300)
    recipients = models.TextField(_("recipients"))
    acting_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["started_at", "id"]
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} at {self.started_at:%Y-%m-%d %H:%M}"
