"""The daily run of recurring invoices (``manage.py run_recurring``): every schedule's due
occurrences recorded in batches through ``services.bill_due``, the invoices e-mailed when
their schedule asks, and a report of what was done. Safe to start any number of times, and
at once on several servers: each occurrence is recorded exactly once
(``services.bill_due``)."""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError
from django.db.models import Q
from django.utils.translation import gettext as _

from billing.money import format_money
from otb.operations import DomainError
from outbox.services import send_invoice, site_address_known
from settings_app.selectors import business_today, get_business_settings

from . import services
from .models import EndKind, IssueMode, Occurrence, Outcome, Schedule, ScheduleState
from .rules import upcoming

logger = logging.getLogger(__name__)

# How often a batch is tried again when another run recorded one of its dates first (Galera).
RECORDED_ELSEWHERE_ATTEMPTS = 5
# Schedules, and invoices at most, per transaction (``services.bill_due``): the invoice
# counter is held for the batch, which stays short for a user issuing an invoice by hand
# meanwhile.
BATCH_SCHEDULES = 50
BATCH_INVOICES = 100


@dataclass
class RunReport:
    """What a run did (or, dry, would do), line by line, for the command to print."""

    today: datetime.date
    dry_run: bool = False
    # The most invoices one schedule makes in this run.
    catch_up: int = 0
    made: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)
    emailed: list[str] = field(default_factory=list)
    ended: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def due_schedules(today: datetime.date):
    """The schedules a run looks at: not ended, and a date due or an end reached."""
    return (
        Schedule.objects.filter(state__in=[ScheduleState.ACTIVE, ScheduleState.PAUSED])
        .filter(
            Q(next_date__lte=today)
            | Q(next_date__isnull=True)
            | Q(end_kind=EndKind.ON_DATE, end_date__lt=today)
        )
        .select_related("client")
        .order_by("pk")
    )


def run_recurring(
    *, today: datetime.date | None = None, dry_run: bool = False, catch_up: int | None = None
) -> RunReport:
    """Record every due occurrence of every schedule, at most ``catch_up`` invoices per
    schedule (``OTB_RECURRING_CATCH_UP``): a schedule further behind is caught up by the
    next runs, with a warning. ``dry_run`` writes nothing and reports what would be made."""
    today = today or business_today()
    limit = catch_up if catch_up is not None else settings.OTB_RECURRING_CATCH_UP
    report = RunReport(today=today, dry_run=dry_run, catch_up=limit)
    if dry_run:
        for schedule in due_schedules(today):
            _plan(schedule, today, limit, report)
        return report
    # Invoices an earlier run made and could not e-mail (it stopped, the PDF failed).
    for occurrence in Occurrence.objects.filter(email_pending=True).order_by("pk"):
        _email(occurrence, report)
    _run_batches(list(due_schedules(today).values_list("pk", flat=True)), today, limit, report)
    return report


def _label(schedule: Schedule) -> str:
    return f"“{schedule.name}” ({schedule.client.code})"


def _plan(schedule: Schedule, today: datetime.date, limit: int, report: RunReport) -> None:
    dates = upcoming(
        schedule,
        made=services.invoices_made(schedule),
        pauses=schedule.pauses.all(),
        until=today,
    )
    invoices = 0
    verb = (
        _("would issue an invoice dated %(date)s")
        if schedule.issue_mode == IssueMode.ISSUE
        else _("would leave a draft dated %(date)s")
    )
    for day, what in dates:
        if what == "paused":
            report.skipped.append(
                _("%(schedule)s: would skip %(date)s (paused)")
                % {"schedule": _label(schedule), "date": day.isoformat()}
            )
            continue
        if invoices == limit:
            rest = dates[dates.index((day, what)) :]
            _warn_behind(schedule, report, more=sum(1 for _d, w in rest if w == "invoice"))
            return
        invoices += 1
        report.made.append(f"{_label(schedule)}: " + verb % {"date": day.isoformat()})


def _warn_behind(schedule: Schedule, report: RunReport, *, more: int) -> None:
    report.warnings.append(
        _(
            "%(schedule)s is behind: %(count)d more date(s) are due; each run makes up to "
            "%(limit)d (OTB_RECURRING_CATCH_UP, or --catch-up)."
        )
        % {"schedule": _label(schedule), "count": more, "limit": report.catch_up}
    )


def _run_batches(ids: list[int], today: datetime.date, limit: int, report: RunReport) -> None:
    """The schedules ``ids`` through ``services.bill_due``, ``BATCH_SCHEDULES`` at a time
    and at most ``BATCH_INVOICES`` invoices a transaction, each at most ``limit`` invoices
    in this run; a schedule a batch did not finish goes into the next one."""
    left = dict.fromkeys(ids, limit)
    queue = list(ids)
    while queue:
        chunk, queue = queue[:BATCH_SCHEDULES], queue[BATCH_SCHEDULES:]
        batch = _run_batch({pk: left[pk] for pk in chunk}, today, report)
        if batch is None:
            continue
        for pk, made in batch.made.items():
            left[pk] -= made
        queue = batch.unfinished + queue


def _run_batch(
    limits: dict[int, int], today: datetime.date, report: RunReport
) -> services.Batch | None:
    """One ``services.bill_due``, reported, and the invoices it issued e-mailed once it has
    committed."""
    ids = list(limits)
    for _attempt in range(RECORDED_ELSEWHERE_ATTEMPTS):
        try:
            batch = services.bill_due(limits=limits, today=today, budget=BATCH_INVOICES)
            break
        except IntegrityError:
            # A run on another node recorded one of these dates first (Galera): read again.
            continue
        except DomainError as exc:  # a schedule or client deleted since the list was read
            report.problems.append(
                _("Schedules %(ids)s: %(reason)s")
                % {"ids": ", ".join(str(pk) for pk in ids), "reason": exc.message}
            )
            return None
    else:
        report.problems.append(
            _("Another run kept recording the same dates (schedules %(ids)s); try again.")
            % {"ids": ", ".join(str(pk) for pk in ids)}
        )
        return None
    for occurrence in batch.occurrences:
        _report(occurrence, report)
    schedules = Schedule.objects.select_related("client").in_bulk(ids)
    for pk, message in batch.refused.items():
        report.problems.append(
            _("%(schedule)s: nothing made for its next date: %(reason)s")
            % {"schedule": _label(schedules[pk]), "reason": message}
        )
    for pk, more in batch.behind.items():
        _warn_behind(schedules[pk], report, more=more)
    for pk in batch.ended:
        schedule = schedules[pk]
        report.ended.append(f"{_label(schedule)}: {_('ended.')} {schedule.end_reason}")
    for occurrence in batch.occurrences:
        if occurrence.email_pending:
            _email(occurrence, report)
    return batch


def _report(occurrence: Occurrence, report: RunReport) -> None:
    schedule = occurrence.schedule
    day = occurrence.date.isoformat()
    if occurrence.outcome == Outcome.SKIPPED_PAUSED:
        report.skipped.append(
            _("%(schedule)s: %(date)s skipped (paused)")
            % {"schedule": _label(schedule), "date": day}
        )
        return
    invoice = occurrence.invoice
    assert invoice is not None
    total = format_money(invoice.total, invoice.currency)
    if occurrence.outcome == Outcome.HELD:
        report.held.append(
            _("%(schedule)s: draft dated %(date)s, %(total)s. %(note)s")
            % {"schedule": _label(schedule), "date": day, "total": total, "note": occurrence.note}
        )
    elif invoice.is_draft:
        report.made.append(
            _("%(schedule)s: draft to review dated %(date)s, %(total)s")
            % {"schedule": _label(schedule), "date": day, "total": total}
        )
    else:
        report.made.append(
            _("%(schedule)s: %(number)s dated %(date)s, %(total)s")
            % {"schedule": _label(schedule), "number": invoice.number, "date": day, "total": total}
        )


def _settle(occurrence: Occurrence, note: str, report: RunReport) -> None:
    """The occurrence's invoice will not be e-mailed: ``note`` says why, on the schedule's
    page and in the run's warnings."""
    try:
        services.settle_email(occurrence=occurrence, note=note)
    except services.EmailSettled:
        return
    report.warnings.append(f"{_label(occurrence.schedule)}: {occurrence.date}: {note}")


def _email(occurrence: Occurrence, report: RunReport) -> None:
    """E-mail an occurrence's issued invoice to its client, once: the message is queued in
    the transaction that clears ``email_pending`` (``services.settle_email``), so two runs
    cannot both queue it, and a run that stopped before it leaves it to the next one."""
    invoice = occurrence.invoice
    business = get_business_settings()
    problem = None
    if invoice is None or invoice.is_draft or invoice.is_cancelled:
        problem = _("the invoice is no longer an issued one")
    elif not invoice.client.email:
        problem = _("client %(code)s has no e-mail address") % {"code": invoice.client.code}
    elif not business.smtp_configured:
        problem = _("e-mail is not set up in the settings")
    if problem is not None:
        _settle(occurrence, _("Not e-mailed: %(problem)s.") % {"problem": problem}, report)
        return
    assert invoice is not None
    if not site_address_known():
        # The e-mail carries the client's link to the invoice, which starts with the site's
        # address. A setting missing on this instance (one upgraded from before 0.18.0):
        # the invoice waits, and the first run after it is set e-mails it.
        report.problems.append(
            _(
                "%(number)s was made but not e-mailed yet: the address of this site is not "
                "known (set OTB_BASE_URL); the next run tries again."
            )
            % {"number": invoice.number}
        )
        return
    try:
        send_invoice(
            invoice=invoice,
            to=invoice.client.email,
            subject=business.invoice_email_subject,
            body=business.invoice_email_body,
            acting_user=None,
            # Once, in the transaction that queues the messages: they and the claim commit
            # together, or neither does.
            on_queued=lambda messages: services.settle_email(occurrence=occurrence),
        )
    except services.EmailSettled:
        return
    except DomainError as exc:
        # Refused as it stands (an address the outbox does not take, a template of the
        # settings with a placeholder it does not know): trying again changes nothing.
        _settle(occurrence, _("Not e-mailed: %(problem)s") % {"problem": exc.message}, report)
        return
    except Exception as exc:  # the PDF or the database: the next run tries again
        logger.exception("Invoice %s was not e-mailed", invoice.number)
        report.problems.append(
            _("%(number)s was made but not e-mailed yet (%(error)s); the next run tries again.")
            % {"number": invoice.number, "error": exc}
        )
        return
    report.emailed.append(
        _("%(number)s e-mailed to %(address)s")
        % {"number": invoice.number, "address": invoice.client.email}
    )
