"""What every back-office page shares: writes go through the domain operations, and a
refusal is shown to the user on the form it came from, never as a server error.

Django's admin runs a saving add, change or delete page in ``transaction.atomic``. An
operation called inside it would only open a savepoint, and ``@operation`` cannot start a
transaction it does not own over again: a deadlock or a Galera certification failure would
reach the user instead of being retried (SPEC: Scale). So these pages run without that
transaction, and the operation a page calls is the outermost transaction, retried as a whole.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.options import csrf_protect_m
from django.db import OperationalError, models
from django.http import HttpResponseRedirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from audit import recording as audit

from .operations import DomainError, is_retryable, operation
from .paging import CountPaginator

# Marked for extraction here, translated where it is shown (a constant the tests assert on).
BUSY_MESSAGE = gettext_noop(
    "The database is busy with another change to the same records; try again."
)


@operation
def delete_rows(model, pks) -> None:
    """Django's own delete, for objects without a delete operation of their own (clients,
    services), as one transaction retried on a deadlock, each row in the audit trail. By
    primary key, so that an attempt run again finds the rows again: a deleted instance has
    lost its key."""
    rows = model._base_manager.filter(pk__in=list(pks))
    for row in rows.select_for_update():
        audit.deleted(row)
    rows.delete()


@operation
def record_admin_save(*, obj: models.Model, before: dict | None, acting_user) -> None:
    """The audit record of a back-office page that saves a model itself (Django's users and
    groups, reminder stages, API tokens), in that page's transaction."""
    if before is None:
        audit.created(obj)
    else:
        audit.changed(obj, before)


@operation
def record_admin_event(*, name: str, obj: models.Model, acting_user) -> None:
    audit.event(name, subject=str(obj.pk), object_type=obj._meta.label_lower)


@operation
def record_admin_delete(*, objs: list[models.Model], acting_user) -> None:
    for obj in objs:
        audit.deleted(obj)


class AuditedAdminMixin:
    """For a ModelAdmin that saves and deletes through Django's own code (in Django's
    transaction around the page): each save and delete gets its audit record in that same
    transaction, with the fields before and after (many-to-many fields too: they are saved
    in ``save_related``, so the record is written there)."""

    def save_model(self, request, obj, form, change):
        stored = type(obj)._base_manager.filter(pk=obj.pk).first() if change else None
        form._audit_before = audit.snapshot(stored) if stored is not None else None
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        record_admin_save(
            obj=form.instance, before=getattr(form, "_audit_before", None), acting_user=request.user
        )

    def delete_model(self, request, obj):
        record_admin_delete(objs=[obj], acting_user=request.user)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        record_admin_delete(objs=list(queryset), acting_user=request.user)
        super().delete_queryset(request, queryset)


class OperationAdmin(admin.ModelAdmin):
    """A ModelAdmin whose saves call domain operations.

    Everything a save writes goes through the one operation ``save_model`` or
    ``save_related`` calls (InvoiceAdmin saves an invoice with its lines in
    ``save_related``). Django's default ``save_related`` would write many-to-many fields and
    inline rows after it, each in a transaction of its own; no page here has any to write
    (billing/tests/test_admin_retry.py checks it). Nor does any use ``list_editable``: Django
    saves those rows inside a transaction of its own, which would make each operation a
    savepoint again.

    When an operation refuses (``DomainError``), it has changed nothing, and the form is
    shown again with the user's input and the refusal on the field it names.
    """

    show_full_result_count = False  # no second COUNT(*) over the whole table per page
    # Exact counts when they are quick, the optimizer's estimate on millions of rows.
    paginator = CountPaginator
    # As the office lists: the admin's per-row rendering is most of a page's time (bench/).
    list_per_page = 50
    # Related rows a changelist shows, fetched in one query each after the page's rows.
    list_prefetch_related: tuple[str, ...] = ()

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if self.list_prefetch_related and request.resolver_match.url_name.endswith("_changelist"):
            queryset = queryset.prefetch_related(*self.list_prefetch_related)
        return queryset

    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    @csrf_protect_m
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # Django's changeform_view is _changeform_view inside transaction.atomic; called
        # directly, the operation is the outermost transaction and is retried. What else the
        # page writes is the admin's history (LogEntry), after the operation committed: if
        # that failed, the change itself would stand, complete, without its history line.
        try:
            return self._changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:
            refusal = exc
        except OperationalError as exc:
            if not is_retryable(exc):
                raise
            # Still deadlocked after every attempt @operation made.
            refusal = DomainError(_(BUSY_MESSAGE), code="busy")
        # Second pass: same POST, forms bound again; get_form makes them invalid, so the page
        # is rendered with what the user typed and nothing is saved.
        request._otb_refusal = refusal
        return self._changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        refusal = getattr(request, "_otb_refusal", None)
        if refusal is None:
            return form_class

        class RefusedForm(form_class):
            def clean(self):
                cleaned_data = super().clean()
                field = refusal.field if refusal.field in self.fields else None
                self.add_error(field, refusal.message)
                return cleaned_data

        return RefusedForm

    @csrf_protect_m
    def delete_view(self, request, object_id, extra_context=None):
        # As changeform_view: _delete_view without Django's transaction around it, so the
        # operation delete_model calls is retried.
        try:
            return self._log_deletions_after(request, self._delete_view, object_id, extra_context)
        except OperationalError as exc:
            if not is_retryable(exc):
                raise
            self.message_user(request, _(BUSY_MESSAGE), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def response_action(self, request, queryset):
        # Django runs actions in no transaction: each operation an action calls is its own,
        # retried (run_operation reports each refusal). "Delete selected" logs its deletions
        # first, as the delete page does.
        try:
            return self._log_deletions_after(request, super().response_action, queryset)
        except OperationalError as exc:
            if not is_retryable(exc):
                raise
            self.message_user(request, _(BUSY_MESSAGE), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def _log_deletions_after(self, request, view, *args):
        """Run ``view(request, *args)``; save the LogEntry rows of what it deleted only once
        it returned. Django logs a deletion just before it, counting on its transaction to
        take the entry back if the deletion fails; without one, a refused deletion would
        leave a history that says the object was deleted."""
        from django.contrib.admin.models import LogEntry

        request._otb_deletion_log = pending = []
        try:
            response = view(request, *args)
        finally:
            del request._otb_deletion_log
        LogEntry.objects.bulk_create(pending)
        return response

    def log_deletions(self, request, queryset):
        pending = getattr(request, "_otb_deletion_log", None)
        if pending is None:
            return super().log_deletions(request, queryset)
        from django.contrib.admin.models import DELETION, LogEntry
        from django.contrib.contenttypes.models import ContentType

        # Made now, while the objects still have their keys and names; saved once they are
        # gone (_log_deletions_after). The fields are those LogEntryManager.log_actions sets.
        entries = [
            LogEntry(
                user_id=request.user.pk,
                content_type_id=ContentType.objects.get_for_model(obj, for_concrete_model=False).pk,
                object_id=obj.pk,
                object_repr=str(obj)[:200],
                action_flag=DELETION,
            )
            for obj in queryset
        ]
        pending.extend(entries)
        return entries

    def delete_model(self, request, obj):
        delete_rows(type(obj), [obj.pk])

    def delete_queryset(self, request, queryset):
        delete_rows(queryset.model, queryset.values_list("pk", flat=True))

    def run_operation(self, request, operation, success_message: str | None = None, **kwargs):
        """Call ``operation(acting_user=request.user, **kwargs)``; report the outcome as a
        message. Returns the result, or None when refused."""
        try:
            result = operation(acting_user=request.user, **kwargs)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return None
        except OperationalError as exc:
            if not is_retryable(exc):
                raise
            self.message_user(request, _(BUSY_MESSAGE), messages.ERROR)
            return None
        if success_message:
            self.message_user(request, success_message, messages.SUCCESS)
        return result if result is not None else True


class ReadOnlyAdmin(OperationAdmin):
    """Rows written only by operations elsewhere (a quote's answers, document links, portal
    sessions): looked at here, never added, changed or deleted. ``hidden``: fields never
    shown (a token's hash); every other field is shown read-only."""

    hidden: tuple[str, ...] = ()

    def get_exclude(self, request, obj=None):
        return self.hidden or None

    def get_readonly_fields(self, request, obj=None):
        if self.readonly_fields:
            return self.readonly_fields
        return [field.name for field in self.model._meta.fields if field.name not in self.hidden]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
