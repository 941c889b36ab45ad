"""Forms of the recurring schedule pages. The schedule form is the invoice form (client,
currency, discount, notes, terms, and its lines and live totals) with the schedule's dates
in place of the invoice's. They only check the shape of the input: recurring.services
checks the rules, and its refusals are put back on these forms."""

from __future__ import annotations

import copy

from django import forms
from django.utils.translation import gettext_lazy as _

from billing.forms.filters import ListFilterForm
from billing.forms.invoices import DATE_INPUT, InvoiceForm
from otb.forms import Form

from .models import MAX_INTERVAL, DayRule, EndKind, IntervalUnit, IssueMode, ScheduleState
from .rules import FIXED_ONCE_INVOICED

BEGUN_HELP = _(
    "Fixed: the schedule has begun billing. To change it, end this schedule and start a new one."
)


class ScheduleForm(InvoiceForm):
    issue_date = None  # type: ignore[assignment]  # each invoice is dated its occurrence
    due_date = None  # type: ignore[assignment]  # and due by its payment terms

    name = forms.CharField(
        label=_("Name"),
        max_length=200,
        help_text=_("For you: “Monthly hosting”. The client does not see it."),
    )
    start_date = forms.DateField(
        label=_("Start date"),
        widget=DATE_INPUT,
        help_text=_("The first invoice's date; the dates after it are counted from it."),
    )
    interval_count = forms.IntegerField(
        label=_("Every"), min_value=1, max_value=MAX_INTERVAL, initial=1
    )
    interval_unit = forms.ChoiceField(
        label=_("Interval"), choices=IntervalUnit.choices, initial=IntervalUnit.MONTH
    )
    day_rule = forms.ChoiceField(
        label=_("Day of the month"),
        choices=DayRule.choices,
        initial=DayRule.START_DAY,
        widget=forms.RadioSelect,
    )
    end_kind = forms.ChoiceField(
        label=_("Ends"), choices=EndKind.choices, initial=EndKind.NEVER, widget=forms.RadioSelect
    )
    end_after = forms.IntegerField(
        label=_("Number of invoices"),
        min_value=1,
        max_value=100_000,
        required=False,
        help_text=_("With “after a number of invoices”."),
    )
    end_date = forms.DateField(
        label=_("End date"),
        required=False,
        widget=DATE_INPUT,
        help_text=_("With “on a date”: the last date an invoice may have."),
    )
    issue_mode = forms.ChoiceField(
        label=_("When an invoice is made"),
        choices=IssueMode.choices,
        initial=IssueMode.ISSUE,
        widget=forms.RadioSelect,
    )
    email_invoices = forms.BooleanField(
        label=_("E-mail each invoice when it is issued"),
        required=False,
        help_text=_("To the client's e-mail address, with the settings' invoice e-mail."),
    )

    def __init__(self, *args, begun: bool = False, current_client=None, **kwargs):
        super().__init__(*args, current_client=current_client, **kwargs)
        self.fields["discount_kind"].label = _("Invoice discount")
        self.fields["currency"].help_text = _("Fixed once the schedule has begun billing.")
        self.fields["notes"].help_text = _(
            "May name the period, like the lines: {period}, {month}, {year}."
        )
        self.begun = begun
        if begun:
            # SPEC: start, interval and day rule are fixed once a schedule has made an
            # invoice (and, as for a sent quote, the client and currency it bills).
            for name in FIXED_ONCE_INVOICED:
                self.fields[name].disabled = True
                self.fields[name].help_text = BEGUN_HELP

    def fixed_fields_posted_changed(self) -> set[str]:
        """The fixed fields a page shown before the schedule began posts with another
        value: a browser does not post a disabled field, so only such a page does. Django
        ignores them; the view refuses them instead of dropping them silently."""
        changed = set()
        for name in FIXED_ONCE_INVOICED:
            field = self.fields[name]
            key = self.add_prefix(name)
            if not field.disabled or key not in self.data:
                continue
            enabled = copy.deepcopy(field)
            enabled.disabled = False
            raw = field.widget.value_from_datadict(self.data, self.files, key)
            if enabled.has_changed(self.get_initial_for_field(field, name), raw):
                changed.add(name)
        return changed


class PauseForm(Form):
    starts_on = forms.DateField(
        label=_("Paused from"),
        required=False,
        widget=DATE_INPUT,
        help_text=_(
            "Empty: today. Dates from this day on are skipped, never billed later, until "
            "the schedule is resumed."
        ),
    )


class ResumeForm(Form):
    ends_on = forms.DateField(
        label=_("Resume on"),
        required=False,
        widget=DATE_INPUT,
        help_text=_("Empty: today. The date of this day and those after it are billed again."),
    )


class EndForm(Form):
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=200,
        help_text=_("It makes no more invoices; those it made stay. This cannot be undone."),
    )


class ScheduleFilterForm(ListFilterForm):
    state = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", _("Any state")), *ScheduleState.choices]
    )
    client = forms.CharField(label=_("Client code"), required=False, max_length=20)
