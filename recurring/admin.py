"""The back office for recurring schedules. Every write goes through recurring.services, as on
the office pages: a schedule is saved with its template lines by one operation; paused,
resumed and ended by theirs; deleted only while it has recorded nothing. Its pauses and
occurrences (what the run did) are read-only; an ended schedule is shown, never changed."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.admin import (
    ClientCodeFilter,
    InvoiceLineForm,
    InvoiceLineInline,
    ObjectAction,
    ObjectActionsMixin,
    ReadOnlyInline,
    badge,
    saved_by_the_operation,
    typed_lines,
)
from otb.admin import OperationAdmin
from otb.forms import OperationModelForm
from otb.operations import DomainError
from settings_app.selectors import business_today, get_business_settings

from . import services
from .forms import EndForm, PauseForm, ResumeForm
from .models import Occurrence, Pause, Schedule, ScheduleLine, ScheduleState
from .rules import FIXED_ONCE_INVOICED
from .selectors import interval_words, next_dates

# What the schedule form sends to create_schedule and update_schedule.
SCHEDULE_FIELDS = (
    "name",
    "client",
    "currency",
    "start_date",
    "interval_count",
    "interval_unit",
    "day_rule",
    "end_kind",
    "end_after",
    "end_date",
    "issue_mode",
    "email_invoices",
    "discount_kind",
    "discount_value",
    "notes",
    "terms",
)


def has_begun(request, schedule) -> bool:
    """Whether the schedule has recorded an occurrence (its start, interval, day rule,
    client and currency are then fixed), asked once per request."""
    if schedule is None or schedule.pk is None:
        return False
    cache = request.__dict__.setdefault("_otb_schedule_begun", {})
    if schedule.pk not in cache:
        cache[schedule.pk] = schedule.occurrences.exists()
    return cache[schedule.pk]


def is_ended(schedule) -> bool:
    return schedule is not None and schedule.pk is not None and schedule.is_ended


class ScheduleLineForm(InvoiceLineForm):
    class Meta(InvoiceLineForm.Meta):
        model = ScheduleLine


class ScheduleLineInline(InvoiceLineInline):
    model = ScheduleLine
    form = ScheduleLineForm
    verbose_name_plural = gettext_lazy(
        "template lines (descriptions may name {period}, {month}, {year})"
    )

    def locked(self, request, obj) -> bool:
        return is_ended(obj)


class PauseInline(ReadOnlyInline):
    model = Pause
    fields = ("starts_on", "ends_on", "created_at", "created_by", "resumed_by")
    verbose_name_plural = gettext_lazy("pauses (from the first day to the day before resuming)")


class OccurrenceInline(ReadOnlyInline):
    model = Occurrence
    fields = ("index", "date", "outcome_display", "invoice_link", "note", "recorded_at")
    readonly_fields = fields
    verbose_name_plural = gettext_lazy("occurrences (what the runs recorded)")

    @admin.display(description=gettext_lazy("outcome"))
    def outcome_display(self, occurrence):
        if occurrence.draft_deleted:
            return _("Skipped: its draft was deleted")
        return occurrence.get_outcome_display()

    @admin.display(description=gettext_lazy("invoice"))
    def invoice_link(self, occurrence):
        if occurrence.invoice_id is None:
            return "—"
        url = reverse("admin:billing_invoice_change", args=[occurrence.invoice_id])
        return format_html('<a href="{}">{}</a>', url, occurrence.invoice)


class ScheduleForm(OperationModelForm):
    class Meta:
        model = Schedule
        fields = SCHEDULE_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "currency" in self.fields:
            self.fields["currency"].required = False
            self.fields["currency"].help_text = _("Empty: the client's currency.")


@admin.register(Schedule)
class ScheduleAdmin(ObjectActionsMixin, OperationAdmin):
    form = ScheduleForm
    list_display = (
        "name",
        "client_code",
        "client_name",
        "interval_display",
        "next_date",
        "state_badge",
    )
    list_filter = ("state", "interval_unit", ClientCodeFilter)
    search_fields = ("name", "client__code", "client__name")
    list_select_related = ()
    list_prefetch_related = ("client",)
    autocomplete_fields = ("client",)
    inlines = (ScheduleLineInline, PauseInline, OccurrenceInline)
    actions: tuple[Any, ...] = ("pause_selected", "resume_selected", "end_selected")
    object_actions = (
        ObjectAction(
            "pause",
            gettext_lazy("Pause %(object)s"),
            services.pause_schedule,
            gettext_lazy("Schedule paused."),
            PauseForm,
            permissions=("recurring.change_schedule",),
        ),
        ObjectAction(
            "resume",
            gettext_lazy("Resume %(object)s"),
            services.resume_schedule,
            gettext_lazy("Schedule resumed."),
            ResumeForm,
            permissions=("recurring.change_schedule",),
        ),
        ObjectAction(
            "end",
            gettext_lazy("End %(object)s"),
            services.end_schedule,
            gettext_lazy("Schedule ended."),
            EndForm,
            permissions=("recurring.change_schedule",),
        ),
    )
    state_fields = (
        "state_badge",
        "invoices_made",
        "next_dates_display",
        "ended_at",
        "end_reason",
        "created_by",
    )

    def get_fieldsets(self, request, obj=None):
        fieldsets: list[tuple[Any, dict]] = [
            (None, {"fields": ("name", "client", "currency")}),
            (
                gettext_lazy("Dates"),
                {
                    "fields": (
                        "start_date",
                        ("interval_count", "interval_unit"),
                        "day_rule",
                        "end_kind",
                        "end_after",
                        "end_date",
                    )
                },
            ),
            (gettext_lazy("Each invoice"), {"fields": ("issue_mode", "email_invoices")}),
            (
                gettext_lazy("Discount on the subtotal"),
                {"fields": ("discount_kind", "discount_value")},
            ),
            (gettext_lazy("Text"), {"fields": ("notes", "terms")}),
        ]
        if obj is not None:
            fieldsets.append((gettext_lazy("State"), {"fields": self.state_fields}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        readonly = list(self.state_fields)
        if is_ended(obj):
            readonly += SCHEDULE_FIELDS
        elif has_begun(request, obj):
            # SPEC: start, interval and day rule are fixed once the schedule has begun.
            readonly += FIXED_ONCE_INVOICED
        return readonly

    def has_change_permission(self, request, obj=None):
        # An ended schedule never changes: its page is read-only.
        return not is_ended(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        # One that has recorded an occurrence keeps its history: it is ended instead.
        return not has_begun(request, obj) and super().has_delete_permission(request, obj)

    def get_inlines(self, request, obj=None):
        return self.inlines if obj is not None else (ScheduleLineInline,)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.display(description=gettext_lazy("client"), ordering="client__code")
    def client_code(self, schedule):
        return schedule.client.code

    @admin.display(description=gettext_lazy("name"))
    def client_name(self, schedule):
        return Truncator(schedule.client.name).chars(30)

    @admin.display(description=gettext_lazy("interval"), ordering="interval_unit")
    def interval_display(self, schedule):
        return interval_words(schedule.interval_count, schedule.interval_unit)

    @admin.display(description=gettext_lazy("state"), ordering="state")
    def state_badge(self, schedule):
        state = ScheduleState(schedule.state)
        return badge(state.value, state.label)

    @admin.display(description=gettext_lazy("invoices made"))
    def invoices_made(self, schedule):
        return services.invoices_made(schedule)

    @admin.display(description=gettext_lazy("next dates"))
    def next_dates_display(self, schedule):
        dates = next_dates(schedule)
        if not dates:
            return "—"
        return format_html_join(
            "",
            "<div>{} {}</div>",
            ((day.isoformat(), "" if kind == "invoice" else _("(paused)")) for day, kind in dates),
        )

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("terms", get_business_settings().payment_terms_text)
        initial.setdefault("start_date", business_today())
        return initial

    def save_model(self, request, obj, form, change):
        # Saved with its lines by one operation, in save_related.
        pass

    def save_related(self, request, form, formsets, change):
        fields = {
            name: form.cleaned_data[name] for name in SCHEDULE_FIELDS if name in form.cleaned_data
        }
        if not fields.get("currency"):
            fields.pop("currency", None)  # the client's
        line_formset = next((fs for fs in formsets if fs.model is ScheduleLine), None)
        if line_formset is not None and (not change or line_formset.has_changed()):
            fields["lines"] = typed_lines(line_formset)
        if change:
            services.update_schedule(schedule=form.instance, acting_user=request.user, **fields)
        else:
            form.instance.pk = services.create_schedule(acting_user=request.user, **fields).pk
        saved_by_the_operation(formsets)

    def delete_model(self, request, obj):
        services.delete_schedule(schedule=obj, acting_user=request.user)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except DomainError as exc:
            # It recorded an occurrence since the page was shown.
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:recurring_schedule_changelist"))

    def _each(self, request, queryset, operation, done: str) -> None:
        count = 0
        for schedule in queryset.order_by("pk"):
            if self.run_operation(request, operation, schedule=schedule):
                count += 1
        if count:
            self.message_user(request, done % {"n": count}, messages.SUCCESS)

    @admin.action(
        description=gettext_lazy("Pause the selected schedules from today"),
        permissions=["change"],
    )
    def pause_selected(self, request, queryset):
        self._each(request, queryset, services.pause_schedule, _("%(n)d schedule(s) paused."))

    @admin.action(
        description=gettext_lazy("Resume the selected schedules from today"),
        permissions=["change"],
    )
    def resume_selected(self, request, queryset):
        self._each(request, queryset, services.resume_schedule, _("%(n)d schedule(s) resumed."))

    @admin.action(description=gettext_lazy("End the selected schedules"), permissions=["change"])
    def end_selected(self, request, queryset):
        self._each(request, queryset, services.end_schedule, _("%(n)d schedule(s) ended."))
