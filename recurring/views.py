"""Recurring schedule pages: the list, the form (the invoice form, reused, with live
totals), and the detail page with its next dates, every occurrence recorded and the buttons
of its state.

Views validate the shape of the input, call one operation (recurring.services), and show
its refusal on the form or, when no field is concerned, on the schedule's page.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from billing.forms.invoices import LineFormSet, initial_lines
from billing.services.invoices import preview_invoice
from billing.views import action_with_form, confirm_page, object_or_none, refused
from billing.views.documents import MAX_ID
from billing.views.invoices import create_with_lines, line_form_page, totals_json
from otb.forms import show_refusal
from otb.operations import DomainError
from otb.paging import keyset_page
from settings_app.selectors import business_today, get_business_settings

from . import services
from .forms import EndForm, PauseForm, ResumeForm, ScheduleFilterForm, ScheduleForm
from .models import Schedule, ScheduleState
from .rules import fill_period, fixed_change_refusal
from .selectors import (
    figures_today,
    filter_schedules,
    history,
    next_dates,
    next_period_values,
)

PAGE_SIZE = 50


def _schedule(pk: int) -> Schedule:
    if pk > MAX_ID:
        raise Http404("No recurring schedule with this id.")
    try:
        return Schedule.objects.select_related("client").get(pk=pk)
    except Schedule.DoesNotExist:
        raise Http404("No recurring schedule with this id.") from None


# --- List ---------------------------------------------------------------------------------
@permission_required("recurring.view_schedule", raise_exception=True)
def schedule_list(request):
    schedules = Schedule.objects.select_related("client").prefetch_related("lines__service")
    filters = ScheduleFilterForm(request.GET or None)
    selection = filters.selection()
    if selection is None:
        # An invalid filter lists nothing, and says why beside the filters.
        schedules = schedules.none()
    else:
        try:
            schedules = filter_schedules(schedules, **selection)
        except DomainError as exc:
            filters.add_error(exc.field if exc.field in filters.fields else None, exc.message)
            schedules = schedules.none()
    page = keyset_page(
        schedules,
        keys=("created_at", "id"),
        size=PAGE_SIZE,
        older=request.GET.get("older"),
        newer=request.GET.get("newer"),
    )
    business = get_business_settings()
    for schedule in page:
        schedule.figures = figures_today(schedule, business=business)
    return render(request, "recurring/schedule_list.html", {"page": page, "filters": filters})


# --- The form -----------------------------------------------------------------------------
def _form_page(request, *, form, formset, schedule: Schedule | None = None):
    # The invoice form's template, which this page extends, shows the saved totals of the
    # document it edits; a schedule has none saved: the live totals show.
    return line_form_page(
        request,
        "recurring/schedule_form.html",
        form=form,
        formset=formset,
        document=schedule,
        schedule=schedule,
        invoice=None,
    )


@permission_required("recurring.add_schedule", raise_exception=True)
def schedule_create(request):
    business = get_business_settings()
    return create_with_lines(
        request,
        form_class=ScheduleForm,
        create=services.create_schedule,
        success=_("Recurring schedule saved."),
        page=_form_page,
        initial={"start_date": business_today(business), "terms": business.payment_terms_text},
    )


def _initial(schedule: Schedule) -> dict:
    return {
        "name": schedule.name,
        "client": schedule.client.code,
        "currency": schedule.currency,
        "discount_kind": schedule.discount_kind,
        "discount_value": schedule.discount_value,
        "notes": schedule.notes,
        "terms": schedule.terms,
        "start_date": schedule.start_date,
        "interval_count": schedule.interval_count,
        "interval_unit": schedule.interval_unit,
        "day_rule": schedule.day_rule,
        "end_kind": schedule.end_kind,
        "end_after": schedule.end_after,
        "end_date": schedule.end_date,
        "issue_mode": schedule.issue_mode,
        "email_invoices": schedule.email_invoices,
    }


@permission_required("recurring.change_schedule", raise_exception=True)
def schedule_edit(request, pk):
    schedule = _schedule(pk)
    if schedule.is_ended:
        messages.error(
            request,
            _("Schedule “%(name)s” has ended and no longer changes; start a new one.")
            % {"name": schedule.name},
        )
        return HttpResponseRedirect(schedule.get_absolute_url())
    options = {
        "initial": _initial(schedule),
        "begun": schedule.occurrences.exists(),
        "current_client": schedule.client,
    }
    if request.method == "POST":
        form = ScheduleForm(request.POST, **options)
        formset = LineFormSet(request.POST, prefix="lines")
        if form.is_valid() and (
            problem := fixed_change_refusal(schedule, form.fixed_fields_posted_changed())
        ):
            form.add_error(*problem)
        if form.is_valid() and formset.is_valid():
            try:
                services.update_schedule(
                    schedule=schedule,
                    acting_user=request.user,
                    lines=formset.line_data(),
                    **form.operation_fields(),
                )
            except DomainError as exc:
                show_refusal(form, exc, formset)
            else:
                messages.success(
                    request,
                    _("Recurring schedule saved: the change reaches the invoices not made yet."),
                )
                return HttpResponseRedirect(schedule.get_absolute_url())
    else:
        form = ScheduleForm(**options)
        formset = LineFormSet(prefix="lines", initial=initial_lines(schedule))
    return _form_page(request, form=form, formset=formset, schedule=schedule)


@permission_required("recurring.view_schedule", raise_exception=True)
@require_POST
def schedule_preview(request):
    """Live totals for the schedule form: the invoice a schedule would make today, computed
    by billing.money like a run would."""
    schedule = object_or_none(Schedule, request.POST.get("schedule"))
    data = request.POST
    if schedule is not None and schedule.occurrences.exists():
        # A schedule that has begun keeps its client and currency: the page shows them
        # disabled, and a browser does not post a disabled field.
        data = data.copy()
        data["client"] = schedule.client.code
        data["currency"] = schedule.currency
    return totals_json(
        form=ScheduleForm(data),
        preview=preview_invoice,
    )


# --- The schedule -------------------------------------------------------------------------
@permission_required("recurring.view_schedule", raise_exception=True)
def schedule_detail(request, pk: int):
    schedule = _schedule(pk)
    business = get_business_settings()
    today = business_today(business)
    figures = figures_today(schedule, business=business)
    period = next_period_values(schedule)
    # Each template line, as the next invoice will read it, with its amount of today.
    lines = [
        {
            "line": line,
            "description": fill_period(line.description, period) if period else line.description,
            "amount": figures.lines[index] if index < len(figures.lines) else None,
        }
        for index, line in enumerate(schedule.lines.select_related("service"))
    ]
    occurrences = history(schedule, today=today)
    notes = fill_period(schedule.notes, period) if period else schedule.notes
    state = schedule.state
    return render(
        request,
        "recurring/schedule_detail.html",
        {
            "schedule": schedule,
            "figures": figures,
            "lines": lines,
            "notes": notes,
            "next_dates": next_dates(schedule),
            "occurrences": occurrences,
            "made": sum(1 for occurrence, _invoice in occurrences if occurrence.invoice_id),
            "pauses": list(schedule.pauses.select_related("created_by", "resumed_by")),
            "today": today,
            # What the schedule's state allows; the buttons also need the user's permission.
            "can_edit": state != ScheduleState.ENDED,
            "can_pause": state == ScheduleState.ACTIVE,
            "can_resume": state == ScheduleState.PAUSED,
            "can_end": state != ScheduleState.ENDED,
            "can_delete": not occurrences,
            "pause_form": PauseForm(initial={"starts_on": today}, auto_id="pause-%s"),
            "resume_form": ResumeForm(initial={"ends_on": today}, auto_id="resume-%s"),
            "end_form": EndForm(auto_id="end-%s"),
        },
    )


# --- The buttons --------------------------------------------------------------------------
def _confirm_page(request, schedule: Schedule, *, form, title: str, button: str, danger=False):
    return confirm_page(
        request,
        schedule,
        form=form,
        title=title % {"name": schedule.name},
        button=button,
        danger=danger,
    )


def _schedule_action(request, pk: int, *, title: str, **action):
    """An action on the schedule that takes a form's details (``action_with_form``)."""
    schedule = _schedule(pk)
    return action_with_form(
        request, schedule, argument="schedule", title=title % {"name": schedule.name}, **action
    )


@permission_required("recurring.change_schedule", raise_exception=True)
def schedule_pause(request, pk: int):
    return _schedule_action(
        request,
        pk,
        form_class=PauseForm,
        operation=services.pause_schedule,
        title=_("Pause “%(name)s”"),
        button=_("Pause"),
        success=_("Schedule paused: its dates in the pause are skipped."),
        initial={"starts_on": business_today()},
    )


@permission_required("recurring.change_schedule", raise_exception=True)
def schedule_resume(request, pk: int):
    return _schedule_action(
        request,
        pk,
        form_class=ResumeForm,
        operation=services.resume_schedule,
        title=_("Resume “%(name)s”"),
        button=_("Resume"),
        success=_("Schedule resumed."),
        initial={"ends_on": business_today()},
    )


@permission_required("recurring.change_schedule", raise_exception=True)
def schedule_end(request, pk: int):
    return _schedule_action(
        request,
        pk,
        form_class=EndForm,
        operation=services.end_schedule,
        title=_("End “%(name)s”"),
        button=_("End schedule"),
        success=_("Schedule ended: it makes no more invoices."),
        danger=True,
    )


@permission_required("recurring.delete_schedule", raise_exception=True)
def schedule_delete(request, pk: int):
    schedule = _schedule(pk)
    if request.method == "POST":
        try:
            services.delete_schedule(schedule=schedule, acting_user=request.user)
        except DomainError as exc:
            return refused(request, exc, schedule.get_absolute_url())
        messages.success(request, _("Recurring schedule deleted."))
        return HttpResponseRedirect(reverse("recurring:list"))
    return _confirm_page(
        request,
        schedule,
        form=forms.Form(),
        title=_("Delete “%(name)s”"),
        button=_("Delete schedule"),
        danger=True,
    )
