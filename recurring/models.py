"""Recurring invoices (SPEC: Recurring invoices): a schedule bills a client the same lines
every N weeks, months, quarters or years. Each occurrence (schedule, date) is recorded once,
in the transaction that makes its invoice, and never made again: the unique constraints on
``Occurrence`` hold that however many runs start at once, on however many servers."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from billing.models import Client, DiscountKind, DocumentLine, Invoice
from billing.money import CURRENCY_CHOICES
from otb.fields import DecimalField

# The longest interval a schedule may have, in its unit (every 36 months, 156 weeks, ...).
MAX_INTERVAL = 120


class IntervalUnit(models.TextChoices):
    WEEK = "week", _("weeks")
    MONTH = "month", _("months")
    QUARTER = "quarter", _("quarters")
    YEAR = "year", _("years")


class DayRule(models.TextChoices):
    # SPEC: the start's day of month, clamped to the month's last day; or always the last day.
    START_DAY = "start_day", _("The start's day of the month (the month's last day when shorter)")
    LAST_DAY = "last_day", _("Always the month's last day")


class EndKind(models.TextChoices):
    NEVER = "never", _("Never")
    AFTER = "after", _("After a number of invoices")
    ON_DATE = "on_date", _("On a date")


class IssueMode(models.TextChoices):
    ISSUE = "issue", _("Issue each invoice at once")
    DRAFT = "draft", _("Leave a draft to review")


class ScheduleState(models.TextChoices):
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    ENDED = "ended", _("Ended")


class Schedule(models.Model):
    """What a recurring invoice is made from, and when. Its state is stored (a user pauses
    and ends it; the run ends it when its end is reached); where it stands in its dates is
    in its occurrences, ``next_index`` and ``next_date`` being their summary, written in the
    same transactions, for the run to find the schedules that are due in one query."""

    name = models.CharField(_("name"), max_length=200)
    client = models.ForeignKey(
        Client,
        on_delete=models.PROTECT,
        related_name="recurring_schedules",
        verbose_name=_("client"),
    )
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    notes = models.TextField(_("notes"), blank=True)
    terms = models.TextField(_("payment terms"), blank=True)
    discount_kind = models.CharField(
        _("invoice discount"),
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

    start_date = models.DateField(_("start date"))
    interval_count = models.PositiveSmallIntegerField(
        _("every"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_INTERVAL)],
    )
    interval_unit = models.CharField(
        _("interval"), max_length=10, choices=IntervalUnit.choices, default=IntervalUnit.MONTH
    )
    day_rule = models.CharField(
        _("day of the month"), max_length=10, choices=DayRule.choices, default=DayRule.START_DAY
    )
    end_kind = models.CharField(
        _("ends"), max_length=10, choices=EndKind.choices, default=EndKind.NEVER
    )
    end_after = models.PositiveIntegerField(
        _("number of invoices"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    end_date = models.DateField(_("end date"), null=True, blank=True)
    issue_mode = models.CharField(
        _("when an invoice is made"),
        max_length=10,
        choices=IssueMode.choices,
        default=IssueMode.ISSUE,
    )
    email_invoices = models.BooleanField(
        _("e-mail each invoice when it is issued"),
        default=False,
        help_text=_("To the client's e-mail address, with the settings' invoice e-mail."),
    )

    state = models.CharField(
        _("state"),
        max_length=10,
        choices=ScheduleState.choices,
        default=ScheduleState.ACTIVE,
        editable=False,
    )
    # The first occurrence not yet recorded: its index k and its date (None: there is none,
    # the dates ran past 9999). Written with the occurrence that moves them.
    next_index = models.PositiveIntegerField(default=0, editable=False)
    next_date = models.DateField(null=True, blank=True, editable=False)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True, editable=False)
    end_reason = models.CharField(_("why it ended"), max_length=200, blank=True, editable=False)

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
        ordering = ["name", "id"]
        verbose_name = _("recurring schedule")
        verbose_name_plural = _("recurring schedules")
        constraints = [
            models.CheckConstraint(
                condition=Q(interval_count__gte=1, interval_count__lte=MAX_INTERVAL),
                name="schedule_interval_in_range",
            ),
            models.CheckConstraint(
                condition=~Q(end_kind=EndKind.AFTER) | Q(end_after__gte=1),
                name="schedule_end_after_given",
            ),
            models.CheckConstraint(
                condition=~Q(end_kind=EndKind.ON_DATE) | Q(end_date__isnull=False),
                name="schedule_end_date_given",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "next_date"], name="schedule_due"),
            models.Index(fields=["client", "name"], name="schedule_client"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("recurring:detail", args=[self.pk])

    @property
    def is_ended(self) -> bool:
        return self.state == ScheduleState.ENDED


class ScheduleLine(DocumentLine):
    """A template line. Its description may name the occurrence's period: ``{period}``,
    ``{month}``, ``{year}``. ``amount`` is the line's amount as the template stands."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="lines")

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("template line")
        verbose_name_plural = _("template lines")


class Pause(models.Model):
    """A date range whose occurrences are skipped: from ``starts_on`` to the day before
    ``ends_on`` (None: still paused)."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="pauses")
    starts_on = models.DateField(_("paused from"))
    ends_on = models.DateField(_("resumed on"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    resumed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )

    class Meta:
        ordering = ["starts_on", "id"]
        verbose_name = _("pause")
        verbose_name_plural = _("pauses")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="pause_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        # Dates as every page writes them: the audit trail shows this.
        ends = formats.date_format(self.ends_on) if self.ends_on else "…"
        return f"{formats.date_format(self.starts_on)} – {ends}"

    def covers(self, date) -> bool:
        return self.starts_on <= date and (self.ends_on is None or date < self.ends_on)


class Outcome(models.TextChoices):
    # An invoice was made: issued, or left as a draft to review as the schedule asks.
    MADE = "made", _("Invoice made")
    # Made, but left as a draft although the schedule issues: issuing it was refused (no
    # exchange rate for its date, an inactive client); ``note`` says why.
    HELD = "held", _("Left as a draft")
    SKIPPED_PAUSED = "paused", _("Skipped: paused")


class Occurrence(models.Model):
    """Occurrence ``index`` (k) of a schedule, on ``date``, recorded once. A made draft that
    was deleted leaves its occurrence (``invoice`` None): it is not made again, and shows
    as skipped."""

    schedule = models.ForeignKey(Schedule, on_delete=models.PROTECT, related_name="occurrences")
    index = models.PositiveIntegerField(_("occurrence"))
    date = models.DateField(_("date"))
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    invoice = models.OneToOneField(
        Invoice,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="recurring_occurrence",
        verbose_name=_("invoice"),
    )
    note = models.TextField(_("note"), blank=True)
    # The invoice is to be e-mailed and its message is not queued yet: set with the
    # invoice, cleared in the transaction that queues the message (or says why it cannot).
    email_pending = models.BooleanField(default=False)
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["schedule", "index"]
        verbose_name = _("occurrence")
        verbose_name_plural = _("occurrences")
        constraints = [
            models.UniqueConstraint(fields=["schedule", "date"], name="occurrence_once_per_date"),
            models.UniqueConstraint(fields=["schedule", "index"], name="occurrence_once_per_k"),
        ]
        indexes = [
            models.Index(fields=["email_pending"], name="occurrence_email_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.schedule} · {formats.date_format(self.date)}"

    @property
    def draft_deleted(self) -> bool:
        return self.outcome in (Outcome.MADE, Outcome.HELD) and self.invoice_id is None
