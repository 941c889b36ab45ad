"""Operations on recurring schedules (SPEC: Recurring invoices): schedules made, changed,
paused, resumed, ended and deleted; and ``bill_due``, the one operation that records
schedules' due occurrences and makes their invoices, a batch in one transaction.

Exactly once: ``bill_due`` locks the schedules (after their clients: the lock order of
billing.services.locking) and writes each occurrence row, unique per (schedule, date), in
the transaction that makes its invoice. A second run waits for the locks and then finds the
occurrences recorded; on a Galera cluster, where locks taken through two nodes do not block
each other, one of the two commits fails (a deadlock, retried by ``@operation``, or the
unique constraint, which the run reads as "made by another run")."""

from __future__ import annotations

import datetime
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import Count, Prefetch, prefetch_related_objects
from django.db.models import Field as DbField
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import recording as audit
from billing.errors import InvalidTransition, NotFound
from billing.inputs import clean_currency, clean_date, clean_text
from billing.models import Client, Invoice
from billing.money import DISCOUNT_NONE
from billing.rules import has_billable_line
from billing.services import locking
from billing.services.figures import (
    LineData,
    apply_figures,
    clean_discount,
    clean_lines,
    document_taxes,
)
from billing.services.invoices import (
    INVOICE_RELATED,
    DraftParts,
    build_draft,
    prepare_issue,
    save_batch,
)
from otb.operations import (
    UNSET,
    DomainError,
    InvalidInput,
    StaleRead,
    ensure_permitted,
    given,
    operation,
)
from settings_app.models import BusinessSettings, Tax
from settings_app.selectors import business_today, get_business_settings, settings_read_once

from .dates import Recurrence
from .models import (
    MAX_INTERVAL,
    DayRule,
    EndKind,
    IntervalUnit,
    IssueMode,
    Occurrence,
    Outcome,
    Pause,
    Schedule,
    ScheduleLine,
    ScheduleState,
)
from .rules import (
    end_problem,
    end_reason,
    fill_period,
    fixed_change_refusal,
    pause_problem,
    paused_on,
    period_values,
    recurrence_problem,
    resume_default,
    resume_problem,
    upcoming,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

SCHEDULE_RELATED = ("lines",)
NAME_MAX_LENGTH = 200


# --- Reading and locking ------------------------------------------------------------------
def lock_schedule(schedule_pk: int, *, also_clients: Iterable[int] = ()) -> Schedule:
    """Lock the schedule's client (and ``also_clients``, one it moves to), then the
    schedule: clients first, a schedule where an invoice sits in the lock order."""
    try:
        client_id = Schedule.objects.values_list("client_id", flat=True).get(pk=schedule_pk)
    except Schedule.DoesNotExist:
        raise NotFound(_("That recurring schedule no longer exists.")) from None
    locking.lock_clients([client_id, *also_clients])
    schedule = Schedule.objects.select_for_update().select_related("client").get(pk=schedule_pk)
    if schedule.client_id != client_id:
        raise StaleRead(f"schedule {schedule_pk} moved to another client")
    return schedule


def invoices_made(schedule: Schedule) -> int:
    """How many invoices ``schedule`` has made ("after N invoices" counts these); a review
    draft that was deleted is not one."""
    return schedule.occurrences.filter(invoice__isnull=False).count()


# --- Input --------------------------------------------------------------------------------
def _client(client: Any) -> Client:
    if not isinstance(client, Client):
        raise InvalidInput.single("client", _("Client: choose a client."))
    return client


def _choice(value: Any, choices: Any, *, field: str, label: str) -> str:
    if value not in choices.values:
        raise InvalidInput.single(
            field,
            _("%(label)s: “%(value)s” is not one of %(choices)s.")
            % {
                "label": label,
                "value": str(value)[:40],
                "choices": ", ".join(str(choice) for choice in choices.values),
            },
        )
    return str(value)


def _positive(value: Any, *, field: str, label: str, maximum: int) -> int:
    try:
        number = int(str(value).strip()) if not isinstance(value, bool) else None
    except (TypeError, ValueError):
        number = None
    if number is None or not 1 <= number <= maximum:
        raise InvalidInput.single(
            field,
            _("%(label)s: give a whole number from 1 to %(maximum)d.")
            % {"label": label, "maximum": maximum},
        )
    return number


def _name(value: Any) -> str:
    name = clean_text(value or "", field="name", label=_("Name")).strip()
    if not name:
        raise InvalidInput.single("name", _("Name: give the schedule a name, such as “Hosting”."))
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidInput.single(
            "name",
            _("Name: at most %(n)d characters.") % {"n": NAME_MAX_LENGTH},
        )
    return name


def _refuse(problem: tuple[str, str] | None) -> None:
    if problem is not None:
        raise InvalidInput.single(*problem)


def _clean_plan(values: dict[str, Any]) -> dict[str, Any]:
    """The schedule's dates and end, cleaned: start, interval, day rule, end."""
    cleaned: dict[str, Any] = {}
    if "start_date" in values:
        cleaned["start_date"] = clean_date(
            values["start_date"], field="start_date", label=_("Start date")
        )
    if "interval_count" in values:
        cleaned["interval_count"] = _positive(
            values["interval_count"], field="interval_count", label=_("Every"), maximum=MAX_INTERVAL
        )
    if "interval_unit" in values:
        cleaned["interval_unit"] = _choice(
            values["interval_unit"], IntervalUnit, field="interval_unit", label=_("Interval")
        )
    if "day_rule" in values:
        cleaned["day_rule"] = _choice(
            values["day_rule"], DayRule, field="day_rule", label=_("Day of the month")
        )
    if "end_kind" in values:
        cleaned["end_kind"] = _choice(
            values["end_kind"], EndKind, field="end_kind", label=_("Ends")
        )
    if values.get("end_after") not in (None, ""):
        cleaned["end_after"] = _positive(
            values["end_after"], field="end_after", label=_("Number of invoices"), maximum=100_000
        )
    elif "end_after" in values:
        cleaned["end_after"] = None
    if "end_date" in values:
        cleaned["end_date"] = clean_date(
            values["end_date"], field="end_date", label=_("End date"), required=False
        )
    if "issue_mode" in values:
        cleaned["issue_mode"] = _choice(
            values["issue_mode"], IssueMode, field="issue_mode", label=_("When an invoice is made")
        )
    if "email_invoices" in values:
        cleaned["email_invoices"] = bool(values["email_invoices"])
    return cleaned


def _check_plan(schedule: Schedule) -> None:
    """The schedule's start, interval, day rule and end fit together; an unused end is
    cleared."""
    _refuse(recurrence_problem(Recurrence.of(schedule)))
    _refuse(
        end_problem(
            end_kind=schedule.end_kind,
            end_after=schedule.end_after,
            end_date=schedule.end_date,
            start=schedule.start_date,
        )
    )
    if schedule.end_kind != EndKind.AFTER:
        schedule.end_after = None
    if schedule.end_kind != EndKind.ON_DATE:
        schedule.end_date = None


def _template_lines(schedule: Schedule, lines: Sequence[LineData]) -> list[ScheduleLine]:
    """The template lines, cleaned against the client's tax set as it is today (each
    invoice takes the set as it stands when it is made), with their amounts and the
    schedule's discount checked as an invoice made now would have them."""
    _basis, taxes = document_taxes(schedule.client, get_business_settings())
    cleaned = clean_lines(lines, taxes, currency=schedule.currency, line_class=ScheduleLine)
    apply_figures(
        Invoice(
            currency=schedule.currency,
            discount_kind=schedule.discount_kind,
            discount_value=schedule.discount_value,
        ),
        cleaned,
        taxes,
    )
    if not has_billable_line(cleaned):
        # Each invoice would be refused its issue, every period, as a draft with no amount.
        raise InvalidInput.single(
            "lines",
            _("Lines: give the schedule at least one line with a quantity and a price."),
        )
    return cleaned


def _save_lines(schedule: Schedule, lines: list[ScheduleLine]) -> None:
    for line in lines:
        line.schedule = schedule
    ScheduleLine.objects.bulk_create(lines)


def _move_to_start(schedule: Schedule) -> None:
    schedule.next_index = 0
    schedule.next_date = Recurrence.of(schedule).date(0)


# --- Schedules ----------------------------------------------------------------------------
@operation
def create_schedule(
    *,
    client: Client,
    acting_user: User | None,
    name: str,
    start_date: Any,
    lines: Sequence[LineData] = (),
    currency: str | None = None,
    notes: str = "",
    terms: str | None = None,
    discount_kind: str = DISCOUNT_NONE,
    discount_value: Any = 0,
    interval_count: Any = 1,
    interval_unit: str = IntervalUnit.MONTH,
    day_rule: str = DayRule.START_DAY,
    end_kind: str = EndKind.NEVER,
    end_after: Any = None,
    end_date: Any = None,
    issue_mode: str = IssueMode.ISSUE,
    email_invoices: bool = False,
) -> Schedule:
    """A new active schedule for ``client``; its first invoice is dated ``start_date``
    (SPEC: the start itself is billed), made by the first run on or after it."""
    ensure_permitted(acting_user, "recurring.add_schedule", _("create recurring schedules"))
    client = _client(client)
    settings = get_business_settings()
    currency = clean_currency(currency) if currency else client.default_currency
    discount_kind, discount_value = clean_discount(discount_kind, discount_value, currency)
    plan = _clean_plan(
        {
            "start_date": start_date,
            "interval_count": interval_count,
            "interval_unit": interval_unit,
            "day_rule": day_rule,
            "end_kind": end_kind,
            "end_after": end_after,
            "end_date": end_date,
            "issue_mode": issue_mode,
            "email_invoices": email_invoices,
        }
    )
    schedule = Schedule(
        name=_name(name),
        client=client,
        currency=currency,
        notes=clean_text(notes or "", field="notes", label=_("Notes")),
        terms=clean_text(
            settings.payment_terms_text if terms is None else terms,
            field="terms",
            label=_("Payment terms"),
        ),
        discount_kind=discount_kind,
        discount_value=discount_value,
        created_by=acting_user,
        **plan,
    )
    _check_plan(schedule)
    client = locking.lock_clients([client.pk])[0]
    if not client.is_active:
        raise InvalidInput.single(
            "client", _("Client: %(code)s is inactive.") % {"code": client.code}
        )
    schedule.client = client
    template = _template_lines(schedule, lines)
    _move_to_start(schedule)
    schedule.save()
    _save_lines(schedule, template)
    audit.created(schedule, SCHEDULE_RELATED)
    return schedule


@operation
def update_schedule(
    *,
    schedule: Schedule,
    acting_user: User | None,
    name: str = UNSET,
    client: Client = UNSET,
    currency: str = UNSET,
    lines: Sequence[LineData] = UNSET,
    notes: str = UNSET,
    terms: str = UNSET,
    discount_kind: str = UNSET,
    discount_value: Any = UNSET,
    start_date: Any = UNSET,
    interval_count: Any = UNSET,
    interval_unit: str = UNSET,
    day_rule: str = UNSET,
    end_kind: str = UNSET,
    end_after: Any = UNSET,
    end_date: Any = UNSET,
    issue_mode: str = UNSET,
    email_invoices: bool = UNSET,
) -> Schedule:
    """Change a schedule: what it changes reaches only the invoices not yet made (SPEC).
    Its start, interval and day rule (and its client and currency) are fixed once it has
    recorded an occurrence; an ended schedule never changes."""
    ensure_permitted(acting_user, "recurring.change_schedule", _("change recurring schedules"))
    requested = given(
        name=name,
        client=client,
        currency=currency,
        lines=lines,
        notes=notes,
        terms=terms,
        discount_kind=discount_kind,
        discount_value=discount_value,
        start_date=start_date,
        interval_count=interval_count,
        interval_unit=interval_unit,
        day_rule=day_rule,
        end_kind=end_kind,
        end_after=end_after,
        end_date=end_date,
        issue_mode=issue_mode,
        email_invoices=email_invoices,
    )
    if "client" in requested:
        _client(requested["client"])
    schedule = lock_schedule(
        schedule.pk, also_clients=[requested["client"].pk] if "client" in requested else []
    )
    if schedule.is_ended:
        raise InvalidTransition(
            _("Schedule “%(name)s” has ended and no longer changes; start a new one.")
            % {"name": schedule.name}
        )
    before = audit.snapshot(schedule, SCHEDULE_RELATED)
    if "currency" in requested:
        requested["currency"] = clean_currency(requested["currency"])
    plan = _clean_plan(requested)
    changing = {
        key
        for key, value in {**requested, **plan}.items()
        if key != "lines"
        and getattr(schedule, key if key != "client" else "client_id")
        != (value.pk if key == "client" else value)
    }
    _refuse(fixed_change_refusal(schedule, changing))
    new_client = (
        Client.objects.get(pk=requested["client"].pk) if "client" in requested else schedule.client
    )
    if "client" in changing and not new_client.is_active:
        raise InvalidInput.single(
            "client", _("Client: %(code)s is inactive.") % {"code": new_client.code}
        )
    currency = requested.get("currency", schedule.currency)
    for attribute, value in plan.items():
        setattr(schedule, attribute, value)
    if "name" in requested:
        schedule.name = _name(requested["name"])
    if "notes" in requested:
        schedule.notes = clean_text(requested["notes"] or "", field="notes", label=_("Notes"))
    if "terms" in requested:
        schedule.terms = clean_text(
            requested["terms"] or "", field="terms", label=_("Payment terms")
        )
    if "discount_kind" in requested or "discount_value" in requested or "currency" in changing:
        schedule.discount_kind, schedule.discount_value = clean_discount(
            requested.get("discount_kind", schedule.discount_kind),
            requested.get("discount_value", schedule.discount_value),
            currency,
        )
    schedule.client = new_client
    schedule.currency = currency
    _check_plan(schedule)
    if changing & {"start_date", "interval_count", "interval_unit", "day_rule"}:
        _move_to_start(schedule)
    if requested.keys() & {"lines", "discount_kind", "discount_value"} or changing & {
        "client",
        "currency",
    }:
        source = requested["lines"] if "lines" in requested else template_line_data(schedule)
        template = _template_lines(schedule, source)
        schedule.lines.all().delete()
        _save_lines(schedule, template)
    reason = end_reason(schedule, made=invoices_made(schedule), next_date=schedule.next_date)
    if reason and schedule.occurrences.exists():
        _end(schedule, reason)
    schedule.save()
    audit.changed(schedule, before, SCHEDULE_RELATED)
    return schedule


def template_line_data(
    schedule: Schedule,
    *,
    labels: Collection[str] | None = None,
    values: dict[str, str] | None = None,
    template: Iterable[ScheduleLine] | None = None,
) -> list[LineData]:
    """The template lines (``template``: the schedule's lines already read, else read
    here) as the input of an invoice's lines: ``values`` fill each description's
    ``{period}``, ``{month}`` and ``{year}``; a tax the template named that the client's
    set (``labels``) no longer has is left off."""
    found = []
    if template is None:
        template = schedule.lines.select_related("service")
    for line in template:
        taxes = line.taxes
        if taxes is not None and labels is not None:
            taxes = [label for label in taxes if label in labels]
        found.append(
            LineData(
                description=fill_period(line.description, values) if values else line.description,
                quantity=line.quantity,
                unit_price=line.unit_price,
                unit=line.unit,
                discount_percent=line.discount_percent,
                taxable=line.taxable,
                service=line.service,
                taxes=taxes,
            )
        )
    return found


def _end(schedule: Schedule, reason: str) -> None:
    """End ``schedule`` (saved by the caller); an open pause ends with it, today (or on
    its first day, if that is later)."""
    schedule.state = ScheduleState.ENDED
    schedule.ended_at = timezone.now()
    schedule.end_reason = reason[:200]
    pause = schedule.pauses.filter(ends_on__isnull=True).first()
    if pause is not None:
        before = audit.snapshot(pause)
        pause.ends_on = max(business_today(), pause.starts_on)
        pause.save(update_fields=["ends_on"])
        audit.changed(pause, before)


def _last_recorded(schedule: Schedule) -> datetime.date | None:
    return schedule.occurrences.order_by("-index").values_list("date", flat=True).first()


@operation
def pause_schedule(
    *, schedule: Schedule, acting_user: User | None, starts_on: Any = None
) -> Schedule:
    """Pause from ``starts_on`` (default today): its occurrences from that day on are
    skipped, never billed later, whenever a run happens, until it is resumed."""
    ensure_permitted(acting_user, "recurring.change_schedule", _("pause recurring schedules"))
    starts_on = clean_date(starts_on, field="starts_on", label=_("Paused from"), required=False)
    schedule = lock_schedule(schedule.pk)
    if schedule.state != ScheduleState.ACTIVE:
        raise InvalidTransition(
            _("Schedule “%(name)s” is %(state)s; only an active schedule is paused.")
            % {"name": schedule.name, "state": ScheduleState(schedule.state).label.lower()}
        )
    starts_on = starts_on or business_today()
    last_resumed = (
        schedule.pauses.exclude(ends_on__isnull=True)
        .order_by("-ends_on")
        .values_list("ends_on", flat=True)
        .first()
    )
    _refuse(
        pause_problem(
            starts_on=starts_on, last_recorded=_last_recorded(schedule), last_resumed=last_resumed
        )
    )
    before = audit.snapshot(schedule)
    pause = Pause.objects.create(schedule=schedule, starts_on=starts_on, created_by=acting_user)
    schedule.state = ScheduleState.PAUSED
    schedule.save(update_fields=["state", "updated_at"])
    audit.created(pause)
    audit.changed(schedule, before)
    return schedule


@operation
def resume_schedule(
    *, schedule: Schedule, acting_user: User | None, ends_on: Any = None
) -> Schedule:
    """End the pause on ``ends_on`` (default today): the occurrence of that day and those
    after are billed again; those in the pause stay skipped."""
    ensure_permitted(acting_user, "recurring.change_schedule", _("resume recurring schedules"))
    ends_on = clean_date(ends_on, field="ends_on", label=_("Resume on"), required=False)
    schedule = lock_schedule(schedule.pk)
    pause = schedule.pauses.select_for_update().filter(ends_on__isnull=True).first()
    if schedule.state != ScheduleState.PAUSED or pause is None:
        raise InvalidTransition(_("Schedule “%(name)s” is not paused.") % {"name": schedule.name})
    today = business_today()
    last = _last_recorded(schedule)
    ends_on = ends_on or resume_default(today=today, last_recorded=last)
    _refuse(resume_problem(pause=pause, ends_on=ends_on, today=today, last_recorded=last))
    before_pause, before = audit.snapshot(pause), audit.snapshot(schedule)
    pause.ends_on = ends_on
    pause.resumed_by = acting_user
    pause.save(update_fields=["ends_on", "resumed_by"])
    schedule.state = ScheduleState.ACTIVE
    schedule.save(update_fields=["state", "updated_at"])
    audit.changed(pause, before_pause)
    audit.changed(schedule, before)
    return schedule


@operation
def end_schedule(*, schedule: Schedule, acting_user: User | None, reason: str = "") -> Schedule:
    """End a schedule for good: it makes nothing more; the invoices it made stay."""
    ensure_permitted(acting_user, "recurring.change_schedule", _("end recurring schedules"))
    schedule = lock_schedule(schedule.pk)
    if schedule.is_ended:
        raise InvalidTransition(
            _("Schedule “%(name)s” has already ended.") % {"name": schedule.name}
        )
    before = audit.snapshot(schedule)
    reason = clean_text(reason or "", field="reason", label=_("Reason")).strip()
    _end(schedule, reason or _("Ended by hand."))
    schedule.save()
    audit.changed(schedule, before)
    return schedule


@operation
def delete_schedule(*, schedule: Schedule, acting_user: User | None) -> None:
    """Delete a schedule that has recorded nothing yet; one with a history is ended."""
    ensure_permitted(acting_user, "recurring.delete_schedule", _("delete recurring schedules"))
    schedule = lock_schedule(schedule.pk)
    if schedule.occurrences.exists():
        raise InvalidTransition(
            _(
                "Schedule “%(name)s” has made invoices or skipped dates, which stay on record; "
                "end it instead."
            )
            % {"name": schedule.name}
        )
    audit.deleted(schedule, SCHEDULE_RELATED)
    schedule.delete()


# --- The run ------------------------------------------------------------------------------
@dataclass
class _Progress:
    """What recording a schedule's occurrences reads once, however many are recorded in
    one transaction: its invoices made so far and its pauses."""

    made: int
    pauses: list[Pause]


@dataclass
class _Step:
    """One occurrence of a batch, built in memory (``_next_step``): its row, and its
    invoice (None when skipped), to be issued or left as a draft."""

    occurrence: Occurrence
    draft: DraftParts | None = None
    issue: bool = False


@dataclass
class Batch:
    """What ``bill_due`` recorded, and why a schedule stopped short (its id: the refusal)."""

    occurrences: list[Occurrence] = field(default_factory=list)
    # Invoices made, by schedule id.
    made: dict[int, int] = field(default_factory=dict)
    refused: dict[int, str] = field(default_factory=dict)
    # Schedules whose catch-up stopped at their limit: how many invoices are still due.
    behind: dict[int, int] = field(default_factory=dict)
    # Schedules left with dates due when the batch had made its ``budget`` of invoices.
    unfinished: list[int] = field(default_factory=list)
    # Schedules that reached their end in this batch.
    ended: list[int] = field(default_factory=list)


# The schedule's fields a batch moves (its place, and its end).
PROGRESS_FIELDS = ["next_index", "next_date", "state", "ended_at", "end_reason", "updated_at"]


@operation
def bill_due(
    *,
    limits: Mapping[int, int],
    today: datetime.date,
    budget: int,
    acting_user: User | None = None,
) -> Batch:
    """Record the due occurrences of many schedules in one transaction: the run's batch.
    ``limits`` maps each schedule's id to the most invoices it may make here (what is left
    of its catch-up); the batch stops at ``budget`` invoices in all, the schedules it did
    not finish in ``Batch.unfinished``, so the invoice counter is never held for long by
    one transaction while a user issues an invoice by hand.

    Exactly once: each occurrence's row, unique per (schedule, date) and per (schedule,
    index), is written in the transaction that makes its invoice. The clients are locked
    first, then the schedules, each in id order, then the invoice counter, held to the
    end: a second run waits, then finds the dates recorded. On a Galera cluster, where
    locks taken through two nodes do not block each other, one of two commits fails (a
    deadlock, retried by ``@operation``, or the unique rows, an IntegrityError the run
    reads as "recorded by another run").

    In bulk: every occurrence is first built in memory (``_next_step``) with the
    settings, the default tax set and each template read once, the invoices by the
    functions ``create_draft`` and ``issue_invoice`` use (``build_draft``,
    ``prepare_issue``); then all are written in a few statements for the whole batch
    (``billing.services.invoices.save_batch``: one take of the counter, the money events
    through ``accounting.issue_in_bulk``). An occurrence whose invoice cannot be built (an
    inactive client) stops its schedule, before it moves: ``Batch.refused`` says why, the
    date stays due, and the other schedules go on."""
    ids = sorted({int(pk) for pk in limits})
    client_of = dict(Schedule.objects.filter(pk__in=ids).values_list("pk", "client_id"))
    clients = {client.pk: client for client in locking.lock_clients(client_of.values())}
    prefetch_related_objects(list(clients.values()), "taxes")
    locked = list(
        Schedule.objects.select_for_update()
        .filter(pk__in=client_of)
        .order_by("pk")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=ScheduleLine.objects.select_related("service").prefetch_related(
                    "service__prices"
                ),
            ),
            "pauses",
        )
    )
    if any(schedule.client_id != client_of[schedule.pk] for schedule in locked):
        raise StaleRead("a schedule moved to another client")
    made = _invoices_made([schedule.pk for schedule in locked])
    batch = Batch()
    steps: list[_Step] = []
    moved: list[tuple[Schedule, dict[str, Any]]] = []
    total = 0
    with settings_read_once() as settings:
        build = _Builder(settings=settings, acting_user=acting_user)
        for schedule in locked:
            if schedule.is_ended:
                continue
            if total >= budget:
                batch.unfinished.append(schedule.pk)
                continue
            schedule.client = clients[schedule.client_id]
            moved.append((schedule, audit.snapshot(schedule)))
            progress = _Progress(made=made.get(schedule.pk, 0), pauses=list(schedule.pauses.all()))
            invoices = 0
            while True:
                if invoices >= limits[schedule.pk] or total >= budget:
                    if due := _due_count(schedule, today, progress):
                        if invoices >= limits[schedule.pk]:
                            batch.behind[schedule.pk] = due
                        else:
                            batch.unfinished.append(schedule.pk)
                    break
                try:
                    step = _next_step(schedule, today, progress, build)
                except DomainError as exc:
                    batch.refused[schedule.pk] = exc.message
                    break
                if step is None:
                    break
                steps.append(step)
                if step.draft is not None:
                    invoices += 1
                    total += 1
                if schedule.is_ended:
                    break
            batch.made[schedule.pk] = invoices
            if schedule.is_ended:
                batch.ended.append(schedule.pk)
        _write(steps, moved, build)
    batch.occurrences = [step.occurrence for step in steps]
    return batch


def _invoices_made(schedule_ids: list[int]) -> dict[int, int]:
    """``invoices_made`` of many schedules, in one query."""
    return dict(
        Occurrence.objects.filter(schedule_id__in=schedule_ids, invoice__isnull=False)
        .values_list("schedule_id")
        .annotate(count=Count("pk"))
        .values_list("schedule_id", "count")
    )


def _due_count(schedule: Schedule, today: datetime.date, progress: _Progress) -> int:
    """How many invoices ``schedule`` has due by ``today`` not yet made."""
    return sum(
        1
        for _day, what in upcoming(
            schedule, made=progress.made, pauses=progress.pauses, until=today, count=None
        )
        if what == "invoice"
    )


@dataclass
class _Builder:
    """Builds the invoice of an occurrence (``__call__``), reading what is the same for a
    whole batch once: the settings, the default tax set."""

    settings: BusinessSettings
    acting_user: User | None
    default_set: list[Tax] = field(init=False)
    # The business's today: an invoice's status (overdue) is derived as of it.
    today: datetime.date = field(init=False)

    def __post_init__(self) -> None:
        self.default_set = list(Tax.objects.default_set())
        self.today = business_today(self.settings)

    def __call__(
        self, schedule: Schedule, day: datetime.date, next_day: datetime.date | None
    ) -> DraftParts:
        """The invoice of the occurrence on ``day``, not saved: the template as it stands,
        each line's ``{period}``, ``{month}`` and ``{year}`` filled, with the client's tax
        set of now. Refused as ``create_draft`` would refuse it."""
        values = period_values(day, next_day)
        basis, taxes = document_taxes(schedule.client, self.settings, default_set=self.default_set)
        lines = template_line_data(
            schedule,
            labels={tax.label for tax in taxes},
            values=values,
            template=schedule.lines.all(),
        )
        return build_draft(
            client=schedule.client,
            settings=self.settings,
            acting_user=self.acting_user,
            lines=lines,
            notes=fill_period(schedule.notes, values),
            terms=schedule.terms,
            discount_kind=schedule.discount_kind,
            discount_value=schedule.discount_value,
            issue_date=day,
            currency=schedule.currency,
            tax_set=(basis, taxes),
            # The template's lines were cleaned when it was saved.
            check_constraints=False,
        )


def _next_step(
    schedule: Schedule, today: datetime.date, progress: _Progress, build: _Builder
) -> _Step | None:
    """The locked ``schedule``'s next occurrence if it is due on ``today``, built in
    memory: skipped when it falls in a pause, else with its invoice, dated the
    occurrence, to be issued when the schedule says so. The schedule's place
    (``next_index``, ``next_date``, ended) moves on in memory, saved with the batch;
    ``progress`` counts the invoice made.

    An invoice whose issue is refused (no exchange rate for its date) is left as a draft,
    its occurrence saying why. Any other refusal (an inactive client) raises before the
    schedule moves: nothing is recorded, and the date stays due for the next run."""
    recurrence = Recurrence.of(schedule)
    index = schedule.next_index
    day = recurrence.date(index)
    reason = end_reason(schedule, made=progress.made, next_date=day)
    if reason:
        _end(schedule, reason)
        return None
    assert day is not None  # end_reason ends a schedule without a next date
    if day > today:
        return None
    next_day = recurrence.date(index + 1)
    step = _Step(Occurrence(schedule=schedule, index=index, date=day))
    occurrence = step.occurrence
    pause = paused_on(progress.pauses, day)
    if pause is not None:
        occurrence.outcome = Outcome.SKIPPED_PAUSED
        occurrence.note = _("Paused from %(date)s.") % {"date": pause.starts_on.isoformat()}
    else:
        step.draft = build(schedule, day, next_day)
        occurrence.outcome = Outcome.MADE
        if schedule.issue_mode == IssueMode.ISSUE:
            parts = step.draft
            try:
                prepare_issue(
                    parts.invoice,
                    parts.lines,
                    parts.taxes,
                    settings=build.settings,
                    today=build.today,
                    issue_date=day,
                )
            except DomainError as exc:
                occurrence.outcome = Outcome.HELD
                occurrence.note = _("Left as a draft: %(reason)s") % {"reason": exc.message}
            else:
                step.issue = True
                occurrence.email_pending = schedule.email_invoices
        progress.made += 1
    # Nothing below can be refused: the schedule moves on only with its occurrence.
    schedule.next_index = index + 1
    schedule.next_date = next_day
    reason = end_reason(schedule, made=progress.made, next_date=next_day)
    if reason:
        _end(schedule, reason)
    return step


def _write(
    steps: list[_Step], moved: list[tuple[Schedule, dict[str, Any]]], build: _Builder
) -> None:
    """Write a batch built in memory: its invoices (``save_batch``), its occurrences and
    the schedules' new places, each kind in one INSERT or UPDATE, with their audit
    records."""
    drafts = [step.draft for step in steps if step.draft is not None]
    save_batch(
        issued=[step.draft for step in steps if step.draft is not None and step.issue],
        drafts=[step.draft for step in steps if step.draft is not None and not step.issue],
        settings=build.settings,
        acting_user=build.acting_user,
        today=build.today,
    )
    audit.created_many([draft.invoice for draft in drafts], INVOICE_RELATED)
    for step in steps:
        if step.draft is not None:
            step.occurrence.invoice = step.draft.invoice
    occurrences = [step.occurrence for step in steps]
    Occurrence.objects.bulk_create(occurrences)
    audit.created_many(occurrences)
    now = timezone.now()
    moved = [
        (schedule, before)
        for schedule, before in moved
        if any(getattr(schedule, name) != before[name] for name in PROGRESS_FIELDS[:-1])
    ]
    for schedule, _before in moved:
        schedule.updated_at = now
    _save_places([schedule for schedule, _before in moved])
    audit.changed_many(moved)


def _column(name: str) -> DbField:
    found = Schedule._meta.get_field(name)
    assert isinstance(found, DbField)
    return found


def _save_places(schedules: list[Schedule]) -> None:
    """Save the ``PROGRESS_FIELDS`` of many schedules: one UPDATE each, sent at once
    (Django's ``bulk_update`` writes a CASE of every row into every column, which cost
    more than the rest of a batch's writes together)."""
    if not schedules:
        return
    fields = [_column(name) for name in PROGRESS_FIELDS]
    quote = connection.ops.quote_name
    sql = (
        f"UPDATE {quote(Schedule._meta.db_table)} SET "
        + ", ".join(f"{quote(f.column)} = %s" for f in fields)
        + f" WHERE {quote(_column('id').column)} = %s"
    )
    rows = [
        [f.get_db_prep_save(getattr(schedule, f.attname), connection) for f in fields]
        + [schedule.pk]
        for schedule in schedules
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


@operation
def settle_email(*, occurrence: Occurrence, note: str = "") -> Occurrence:
    """The occurrence's invoice no longer waits to be e-mailed: its message was queued (in
    this same transaction), or ``note`` says why it never will be. Refused (``EmailSettled``)
    when another run settled it first, so the message of this one is rolled back."""
    locked = Occurrence.objects.select_for_update().get(pk=occurrence.pk)
    if not locked.email_pending:
        raise EmailSettled(_("This invoice was already e-mailed by another run."))
    before = audit.snapshot(locked)
    locked.email_pending = False
    if note:
        locked.note = "\n".join(filter(None, [locked.note, note]))
    locked.save(update_fields=["email_pending", "note"])
    audit.changed(locked, before)
    return locked


class EmailSettled(DomainError):
    code = "email_settled"
