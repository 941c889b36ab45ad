"""The outbox in the back office: read-only messages with their attempts, the two ways of
dealing with a failure, and the invoice action that e-mails several invoices at once."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.admin import InvoiceAdmin
from billing.models import InvoiceStatus
from otb.admin import ReadOnlyAdmin

from . import services
from .models import DeliveryAttempt, Message, MessageStatus


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    fields = (
        "started_at",
        "server",
        "outcome",
        "smtp_code",
        "server_answer",
        "problem",
        "acting_user",
    )
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    """Messages are a record of what was sent: nobody edits or deletes them."""

    list_display = (
        "created_at",
        "kind",
        "invoice",
        "to_addresses",
        "subject",
        "status",
        "needs_attention",
    )
    list_filter = ("status", "needs_attention", "kind", "failure_kind")
    search_fields = ("to_addresses", "subject", "invoice__number")
    list_prefetch_related = ("invoice",)
    inlines = (DeliveryAttemptInline,)
    actions = ("retry_selected", "mark_selected_dealt_with")
    hidden = ("claimed_at",)

    def has_send_permission(self, request):
        return request.user.has_perm("outbox.send_message")

    @admin.action(
        description=gettext_lazy("Send the selected failed messages again"), permissions=["send"]
    )
    def retry_selected(self, request, queryset):
        for message in queryset.filter(status=MessageStatus.FAILED).order_by("pk"):
            if self.run_operation(request, services.retry_message, message=message):
                message.refresh_from_db()
                level = (
                    messages.SUCCESS if message.status == MessageStatus.SENT else messages.WARNING
                )
                self.message_user(
                    request, f"{message}: {message.get_status_display()}. {message.problem}", level
                )

    @admin.action(
        description=gettext_lazy("Mark the selected messages as dealt with"), permissions=["send"]
    )
    def mark_selected_dealt_with(self, request, queryset):
        done = 0
        for message in queryset.filter(needs_attention=True).order_by("pk"):
            if self.run_operation(request, services.mark_dealt_with, message=message):
                done += 1
        self.message_user(request, _("%(n)d message(s) marked as dealt with.") % {"n": done})


@admin.action(
    description=gettext_lazy("Send the selected invoices by e-mail"), permissions=["send"]
)
def send_selected_by_email(modeladmin, request, queryset):
    """With a confirmation page first: it says which drafts sending will issue, and which
    invoices cannot be sent (cancelled, or the client has no address)."""
    invoices = list(queryset.select_related("client").order_by("pk"))
    sendable = [i for i in invoices if i.status != InvoiceStatus.CANCELLED and i.client.email]
    skipped = [i for i in invoices if i not in sendable]
    if request.POST.get("confirmed") != "yes":
        return TemplateResponse(
            request,
            "admin/outbox/send_invoices_confirm.html",
            {
                **modeladmin.admin_site.each_context(request),
                "title": _("Send invoices by e-mail"),
                "opts": modeladmin.model._meta,
                "sendable": sendable,
                "drafts": [i for i in sendable if i.status == InvoiceStatus.DRAFT],
                "skipped": skipped,
                "queryset": queryset,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )
    sent = not_sent = 0
    for invoice in sendable:
        defaults = services.invoice_message_defaults(invoice)
        queued = modeladmin.run_operation(
            request,
            services.send_invoice,
            invoice=invoice,
            issue_draft=True,
            to=defaults["to"],
            subject=defaults["subject"],
            body=defaults["body"],
            base_url=request.build_absolute_uri("/"),
        )
        if not queued:
            not_sent += 1
            continue
        problems = []
        for message in queued:
            message.refresh_from_db()
            if message.status != MessageStatus.SENT:
                problems.append(f"{message.invoice}: {message.problem}")
        if not problems:
            sent += 1
        else:
            not_sent += 1
            for problem in problems:
                modeladmin.message_user(request, problem, messages.WARNING)
    if sent:
        modeladmin.message_user(
            request, _("%(n)d invoice(s) sent.") % {"n": sent}, messages.SUCCESS
        )
    if not_sent:
        modeladmin.message_user(
            request,
            _("%(n)d invoice(s) not sent; the outbox says why.") % {"n": not_sent},
            messages.WARNING,
        )
    if skipped:
        modeladmin.message_user(
            request,
            _("Skipped (cancelled, or no client e-mail address): %(list)s")
            % {"list": ", ".join(str(i) for i in skipped)},
            messages.WARNING,
        )
    return None


# Offered on billing's invoice list, but added from here, so that billing need not import
# the outbox, which builds on it. On the class: it is there whatever order the apps' admin
# modules load in, since this module imports billing's.
InvoiceAdmin.actions = (*InvoiceAdmin.actions, send_selected_by_email)
