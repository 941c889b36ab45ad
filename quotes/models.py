"""Quotes (SPEC: Quotes): what the business offers a client before the work, with the
client's answer. A quote is not in the books: nothing here posts to a ledger until it is
converted into an invoice, which is a draft like any other."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from billing.models import (
    Client,
    DiscountKind,
    DocumentLine,
    DocumentTax,
    Invoice,
    TaxBasis,
)
from billing.money import CURRENCY_CHOICES
from otb.fields import DecimalField, amount_field


class QuoteStatus(models.TextChoices):
    """What is stored. "Expired" is never stored: it is derived from "valid until" and
    today (``quotes.rules.shown_state``)."""

    DRAFT = "draft", _("Draft")
    SENT = "sent", _("Sent")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class QuoteState(models.TextChoices):
    """What a quote shows as: its status, or expired (sent, unanswered, past valid until)."""

    DRAFT = "draft", _("Draft")
    SENT = "sent", _("Sent")
    EXPIRED = "expired", _("Expired")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Quote(models.Model):
    number = models.CharField(_("number"), max_length=32, null=True, blank=True, editable=False)
    # The counter value behind the number: numbers sort by it (Q-9999 before Q-10000).
    sequence = models.PositiveIntegerField(null=True, blank=True, editable=False)
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="quotes", verbose_name=_("client")
    )
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=QuoteStatus.choices,
        default=QuoteStatus.DRAFT,
        editable=False,
    )
    # The quote's date: set when it is first sent (default today), like an invoice's issue
    # date; a draft may carry one the user typed.
    issue_date = models.DateField(_("quote date"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    terms = models.TextField(_("terms"), blank=True)

    discount_kind = models.CharField(
        _("quote discount"),
        max_length=10,
        choices=DiscountKind.choices,
        default=DiscountKind.NONE,
        blank=True,
    )
    discount_value = DecimalField(
        _("discount (percent or amount)"),
        max_digits=14,
        decimal_places=3,
        default=Decimal("0"),
        validators=[MinValueValidator(0)],
    )
    tax_basis = models.CharField(
        _("tax basis"),
        max_length=10,
        choices=TaxBasis.choices,
        default=TaxBasis.DEFAULT,
        editable=False,
    )

    # Stored figures, computed by billing.money.compute_invoice and nothing else.
    subtotal = amount_field(_("subtotal"), editable=False)
    discount_total = amount_field(_("discount"), editable=False)
    tax_total = amount_field(_("tax"), editable=False)
    total = amount_field(_("total"), editable=False)

    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True, editable=False)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True, editable=False)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    withdraw_reason = models.TextField(_("reason for withdrawing"), blank=True, editable=False)
    # The draft invoice it was converted into; one at most (SPEC: converting twice gives the
    # same invoice), which the unique constraint holds however many convert at once.
    invoice = models.OneToOneField(
        Invoice,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="quote",
        verbose_name=_("invoice"),
        editable=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        permissions = [
            ("send_quote", "Can send quotes"),
            ("answer_quote", "Can record a client's answer to a quote"),
            ("convert_quote", "Can convert quotes into invoices"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["number"], name="quote_number_unique"),
            models.UniqueConstraint(fields=["sequence"], name="quote_sequence_unique"),
            models.CheckConstraint(
                condition=(
                    Q(status=QuoteStatus.DRAFT, number__isnull=True, sequence__isnull=True)
                    | (
                        ~Q(status=QuoteStatus.DRAFT)
                        & Q(number__isnull=False, sequence__isnull=False, issue_date__isnull=False)
                    )
                ),
                name="quote_sent_has_number",
            ),
            models.CheckConstraint(
                condition=Q(invoice__isnull=True) | Q(status=QuoteStatus.ACCEPTED),
                name="quote_converted_is_accepted",
            ),
            models.CheckConstraint(
                condition=Q(subtotal__gte=0, discount_total__gte=0, tax_total__gte=0, total__gte=0),
                name="quote_amounts_gte_0",
            ),
            models.CheckConstraint(
                condition=Q(discount_total__lte=models.F("subtotal")),
                name="quote_discount_within_subtotal",
            ),
        ]
        indexes = [
            models.Index(fields=["created_at", "id"], name="quote_created"),
            models.Index(fields=["status", "created_at", "id"], name="quote_status_created"),
            models.Index(fields=["client", "created_at", "id"], name="quote_client_created"),
            models.Index(fields=["status", "valid_until"], name="quote_status_valid"),
            models.Index(fields=["issue_date", "status"], name="quote_issued"),
        ]

    def __str__(self) -> str:
        return self.number or str(_("Draft quote #%(id)s") % {"id": self.pk})

    def get_absolute_url(self) -> str:
        return reverse("quotes:detail", args=[self.pk])

    @property
    def is_draft(self) -> bool:
        return self.status == QuoteStatus.DRAFT


class QuoteLine(DocumentLine):
    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("quote line")
        verbose_name_plural = _("quote lines")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=0), name="quote_line_quantity_gte_0"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="quote_line_price_gte_0"),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0, discount_percent__lte=100),
                name="quote_line_discount_0_to_100",
            ),
        ]


class QuoteTax(DocumentTax):
    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="taxes")

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("quote tax")
        verbose_name_plural = _("quote taxes")
        constraints = [
            models.CheckConstraint(
                condition=Q(rate__gte=0, rate__lte=100), name="quote_tax_rate_0_to_100"
            ),
            models.UniqueConstraint(fields=["quote", "label"], name="quote_tax_label_unique"),
        ]


class QuoteChange(models.Model):
    """What changed on a sent quote: who, when, and each field's old and new value."""

    quote = models.ForeignKey(Quote, on_delete=models.PROTECT, related_name="changes")
    changed_at = models.DateTimeField(auto_now_add=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # {"field": {"old": ..., "new": ...}}; lines as lists of their values.
    changes = models.JSONField()

    class Meta:
        ordering = ["changed_at", "id"]
        verbose_name = _("quote change")
        verbose_name_plural = _("quote changes")

    def __str__(self) -> str:
        return f"{self.quote} {self.changed_at:%Y-%m-%d %H:%M}"


class Answer(models.TextChoices):
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")


class Channel(models.TextChoices):
    """How an answer reached the business."""

    LINK = "link", _("The quote's link, by the client")
    PORTAL = "portal", _("The client portal, by a contact signed in")
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    IN_PERSON = "in_person", _("In person")
    CONVERSION = "conversion", _("Converted by staff without an answer")


# The channels staff can name when recording an answer on the client's behalf.
STAFF_CHANNELS = (Channel.PHONE, Channel.EMAIL, Channel.IN_PERSON)
# The channels through which the client answers itself.
CLIENT_CHANNELS = (Channel.LINK, Channel.PORTAL)


class QuoteAnswer(models.Model):
    """The client's answer to a quote (SPEC: Quotes): one per quote, never changed. Who (the
    name typed, or the user acting on the client's behalf and how), when, from where, and
    for an acceptance the SHA-256 of the exact PDF accepted, whose bytes are archived."""

    quote = models.OneToOneField(Quote, on_delete=models.PROTECT, related_name="answer")
    answer = models.CharField(_("answer"), max_length=10, choices=Answer.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    name = models.CharField(_("name"), max_length=200)
    reason = models.TextField(_("reason"), blank=True)
    answered_at = models.DateTimeField(_("answered at"))
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=500, blank=True)
    # Through the portal: the address the contact signed in with (on file for the client).
    email = models.EmailField(_("signed in as"), max_length=254, blank=True)
    # The staff user who recorded it on the client's behalf; empty: the client itself.
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    # An acceptance recorded although the quote had expired (staff overriding it).
    after_expiry = models.BooleanField(_("after the quote expired"), default=False)
    pdf_sha256 = models.CharField(_("SHA-256 of the PDF accepted"), max_length=64, blank=True)
    document = models.ForeignKey(
        "outbox.ArchivedDocument",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("PDF accepted"),
    )

    class Meta:
        verbose_name = _("answer to a quote")
        verbose_name_plural = _("answers to quotes")
        constraints = [
            models.CheckConstraint(
                condition=Q(answer=Answer.DECLINED)
                | (~Q(pdf_sha256="") & Q(document__isnull=False)),
                name="quote_acceptance_has_document",
            ),
            models.CheckConstraint(
                # Through the link or the portal it is the client's own answer, never a user's.
                condition=~Q(channel__in=CLIENT_CHANNELS) | Q(recorded_by__isnull=True),
                name="quote_answer_by_client_not_user",
            ),
            models.CheckConstraint(
                # Who signed in is known exactly for an answer through the portal.
                condition=Q(channel=Channel.PORTAL, email__gt="")
                | (~Q(channel=Channel.PORTAL) & Q(email="")),
                name="quote_portal_answer_has_email",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quote}: {self.get_answer_display()}"
