"""What every back-office page shares: writes go through the domain operations, and a
refusal is shown to the user on the form it came from, never as a server error."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import OperationalError, models
from django.utils.translation import gettext as _

from .operations import DomainError, is_retryable
from .paging import CountPaginator

BUSY_MESSAGE = "The database is busy with another change to the same records; try again."


class OperationAdmin(admin.ModelAdmin):
    """A ModelAdmin whose saves call domain operations.

    When an operation refuses (``DomainError``), the admin's transaction is rolled back and
    the form is shown again with the user's input and the refusal on the field it names.
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

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:
            refusal = exc
        except OperationalError as exc:
            if not is_retryable(exc):
                raise
            refusal = DomainError(_(BUSY_MESSAGE), code="busy")
        # Second pass: same POST, forms bound again; get_form makes them invalid, so the page
        # is rendered with what the user typed and nothing is saved.
        request._otb_refusal = refusal
        return super().changeform_view(request, object_id, form_url, extra_context)

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
