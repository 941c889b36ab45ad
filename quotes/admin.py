"""The back office for quotes. Every write goes through quotes.services, as on the office
pages: a draft or a sent quote not yet answered is saved with its lines by one operation;
an accepted, declined or withdrawn quote is shown, never changed; answers and the change
history are read-only. The invoice's admin pieces are reused (billing.admin)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import DateFieldListFilter
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.admin import (
    ClientCodeFilter,
    InvoiceChangeInline,
    InvoiceLineForm,
    InvoiceLineInline,
    InvoiceTaxInline,
    ObjectAction,
    ObjectActionsMixin,
    ReadOnlyInline,
    badge,
    changes_html,
    saved_by_the_operation,
    typed_lines,
)
from billing.money import format_money
from otb.admin import OperationAdmin, ReadOnlyAdmin
from otb.forms import OperationModelForm
from otb.operations import DomainError
from settings_app.selectors import business_today, get_business_settings

from . import services
from .forms import AnswerForm, MarkSentForm, WithdrawForm
from .models import Quote, QuoteAnswer, QuoteChange, QuoteLine, QuoteState, QuoteStatus, QuoteTax
from .rules import change_refusal
from .selectors import shown_as, with_shown_state

# What the quote form sends to create_quote and update_quote.
QUOTE_FIELDS = (
    "client",
    "currency",
    "issue_date",
    "valid_until",
    "discount_kind",
    "discount_value",
    "notes",
    "terms",
)


def closed_reason(request, quote) -> str | None:
    """``change_refusal`` of the quote (why it can no longer change), once per request."""
    if quote is None or quote.pk is None:
        return None
    cache = request.__dict__.setdefault("_otb_quote_refusals", {})
    if quote.pk not in cache:
        cache[quote.pk] = change_refusal(quote)
    return cache[quote.pk]


class QuoteLineForm(InvoiceLineForm):
    class Meta(InvoiceLineForm.Meta):
        model = QuoteLine


class QuoteLineInline(InvoiceLineInline):
    model = QuoteLine
    form = QuoteLineForm

    def locked(self, request, obj) -> bool:
        return bool(closed_reason(request, obj))


class QuoteTaxInline(InvoiceTaxInline):
    model = QuoteTax


class QuoteChangeInline(InvoiceChangeInline):
    model = QuoteChange


class QuoteAnswerInline(ReadOnlyInline):
    model = QuoteAnswer
    fields = (
        "answer",
        "channel",
        "name",
        "reason",
        "answered_at",
        "recorded_by",
        "after_expiry",
        "ip_address",
        "user_agent",
        "pdf_sha256",
    )
    verbose_name_plural = gettext_lazy("the client's answer")


class QuoteForm(OperationModelForm):
    class Meta:
        model = Quote
        fields = QUOTE_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "currency" in self.fields:
            self.fields["currency"].required = False
            self.fields["currency"].help_text = _("Empty: the client's currency.")


class StateFilter(admin.SimpleListFilter):
    """The state each quote shows today: expired is derived, never stored."""

    title = gettext_lazy("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return QuoteState.choices

    def queryset(self, request, queryset):
        if self.value() in QuoteState.values:
            return shown_as(queryset, self.value(), today=business_today())
        return queryset


@admin.register(Quote)
class QuoteAdmin(ObjectActionsMixin, OperationAdmin):
    form = QuoteForm
    list_display = (
        "display_number",
        "client_code",
        "client_name",
        "issue_date",
        "valid_until",
        "state_badge",
        "total_display",
        "invoice_link",
    )
    list_filter = (
        StateFilter,
        ClientCodeFilter,
        "currency",
        ("issue_date", DateFieldListFilter),
    )
    search_fields = ("number", "client__code", "client__name")
    # Prefetched, not joined: see billing.views.invoices.invoice_list.
    list_select_related = ()
    list_prefetch_related = ("client", "invoice")
    autocomplete_fields = ("client",)
    inlines = (QuoteLineInline, QuoteTaxInline, QuoteAnswerInline, QuoteChangeInline)
    actions: tuple[Any, ...] = ("mark_sent_selected",)
    object_actions = (
        ObjectAction(
            "mark_sent",
            gettext_lazy("Mark %(object)s sent"),
            services.mark_sent,
            gettext_lazy("Quote marked sent."),
            MarkSentForm,
            permissions=("quotes.send_quote",),
        ),
        ObjectAction(
            "withdraw",
            gettext_lazy("Withdraw %(object)s"),
            services.withdraw_quote,
            gettext_lazy("Quote withdrawn."),
            WithdrawForm,
            permissions=("quotes.send_quote",),
        ),
        ObjectAction(
            "answer",
            gettext_lazy("Record the client's answer to %(object)s"),
            services.record_answer,
            gettext_lazy("Answer recorded."),
            AnswerForm,
            permissions=("quotes.answer_quote",),
        ),
        ObjectAction(
            "convert",
            gettext_lazy("Convert %(object)s into an invoice"),
            services.convert_quote,
            gettext_lazy("Converted into a draft invoice."),
            permissions=("quotes.convert_quote", "billing.add_invoice"),
        ),
    )
    figure_fields = (
        "state_badge",
        "subtotal",
        "discount_total",
        "tax_total",
        "total",
        "invoice_link",
    )
    sending_fields = ("sent_at", "sent_by", "withdrawn_at", "withdrawn_by", "withdraw_reason")

    def get_fieldsets(self, request, obj=None):
        header = ["client", "currency", "issue_date", "valid_until"]
        fieldsets: list[tuple[Any, dict]] = [
            (None, {"fields": ["display_number", *header] if obj is not None else header}),
            (
                gettext_lazy("Discount on the subtotal"),
                {"fields": ("discount_kind", "discount_value")},
            ),
            (gettext_lazy("Text"), {"fields": ("notes", "terms")}),
        ]
        if obj is not None:
            fieldsets += [
                (gettext_lazy("Figures"), {"fields": self.figure_fields}),
                (gettext_lazy("Sending"), {"fields": self.sending_fields}),
            ]
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        readonly = ["display_number", *self.figure_fields, *self.sending_fields]
        if obj is not None and not obj.is_draft:
            # SPEC: a sent quote went to that client, in that currency; it keeps both.
            readonly += ["client", "currency"]
        if closed_reason(request, obj):
            readonly += [name for name in QUOTE_FIELDS if name not in readonly]
        return readonly

    def has_change_permission(self, request, obj=None):
        # An accepted, declined or withdrawn quote never changes: its page is read-only.
        return not closed_reason(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        # Only drafts are deleted; a sent quote keeps its number and is withdrawn.
        return (obj is None or obj.is_draft) and super().has_delete_permission(request, obj)

    def get_inlines(self, request, obj=None):
        return self.inlines if obj is not None else (QuoteLineInline,)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def get_queryset(self, request):
        return with_shown_state(super().get_queryset(request), today=business_today())

    @admin.display(description=gettext_lazy("number"), ordering="sequence")
    def display_number(self, quote):
        return quote.number or format_html("<i>{}</i>", _("Draft #%(id)s") % {"id": quote.pk})

    @admin.display(description=gettext_lazy("client"), ordering="client__code")
    def client_code(self, quote):
        return quote.client.code

    @admin.display(description=gettext_lazy("name"))
    def client_name(self, quote):
        return Truncator(quote.client.name).chars(30)

    @admin.display(description=gettext_lazy("state"), ordering="shown_state")
    def state_badge(self, quote):
        state = QuoteState(getattr(quote, "shown_state", quote.status))
        return badge(state.value, state.label)

    @admin.display(description=gettext_lazy("total"), ordering="total")
    def total_display(self, quote):
        return format_money(quote.total, quote.currency)

    @admin.display(description=gettext_lazy("invoice"))
    def invoice_link(self, quote):
        if quote.invoice_id is None:
            return "—"
        url = reverse("admin:billing_invoice_change", args=[quote.invoice_id])
        return format_html('<a href="{}">{}</a>', url, quote.invoice)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("terms", get_business_settings().quote_terms_text)
        return initial

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        quote = self.get_object(request, object_id)
        if quote is not None:
            extra_context["lock_reason"] = closed_reason(request, quote)
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        # Saved with its lines by one operation, in save_related.
        pass

    def save_related(self, request, form, formsets, change):
        fields = {
            name: form.cleaned_data[name] for name in QUOTE_FIELDS if name in form.cleaned_data
        }
        if not fields.get("currency"):
            fields.pop("currency", None)  # the client's
        line_formset = next((fs for fs in formsets if fs.model is QuoteLine), None)
        if line_formset is not None and (not change or line_formset.has_changed()):
            fields["lines"] = typed_lines(line_formset)
        if change:
            services.update_quote(quote=form.instance, acting_user=request.user, **fields)
        else:
            form.instance.pk = services.create_quote(acting_user=request.user, **fields).pk
        saved_by_the_operation(formsets)

    def delete_model(self, request, obj):
        services.delete_quote(quote=obj, acting_user=request.user)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:quotes_quote_changelist"))

    def object_action_initial(self, quote, action):
        if action.name == "mark_sent":
            return {"issue_date": quote.issue_date or business_today()}
        return {}

    @admin.action(description=gettext_lazy("Mark the selected drafts sent"), permissions=["send"])
    def mark_sent_selected(self, request, queryset):
        marked = 0
        for quote in queryset.filter(status=QuoteStatus.DRAFT).order_by("pk"):
            if self.run_operation(request, services.mark_sent, quote=quote):
                marked += 1
        skipped = queryset.exclude(status=QuoteStatus.DRAFT).count()
        if marked:
            self.message_user(request, _("%(n)d quote(s) marked sent.") % {"n": marked})
        if skipped:
            self.message_user(
                request,
                _("%(n)d selected quote(s) were already sent.") % {"n": skipped},
                messages.WARNING,
            )

    def has_send_permission(self, request):
        return request.user.has_perm("quotes.send_quote")


@admin.register(QuoteAnswer)
class QuoteAnswerAdmin(ReadOnlyAdmin):
    actions = None
    list_display = (
        "quote",
        "answer",
        "channel",
        "name",
        "answered_at",
        "recorded_by",
        "after_expiry",
    )
    list_filter = ("answer", "channel", "after_expiry")
    search_fields = ("quote__number", "name", "quote__client__code")
    list_select_related = ()
    list_prefetch_related = ("quote", "recorded_by")


@admin.register(QuoteChange)
class QuoteChangeAdmin(ReadOnlyAdmin):
    actions = None
    list_display = ("quote", "changed_at", "changed_by")
    search_fields = ("quote__number",)
    list_select_related = ()
    list_prefetch_related = ("quote", "changed_by")
    fields = ("quote", "changed_at", "changed_by", "changes_display")
    readonly_fields = fields

    @admin.display(description=gettext_lazy("changes"))
    def changes_display(self, change):
        return changes_html(change.changes)
