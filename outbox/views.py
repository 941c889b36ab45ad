"""The outbox pages: sending an invoice, the list of messages, one message with its attempts
and attachment, and the buttons that deal with a failure."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from billing.models import CreditNote, Invoice
from billing.views import refused
from otb.forms import show_refusal
from otb.operations import DomainError
from otb.paging import keyset_page
from settings_app.selectors import get_business_settings

from . import services
from .forms import OutboxFilterForm, SendCreditNoteForm, SendInvoiceForm, TestEmailForm
from .models import Message, MessageStatus

PAGE_SIZE = 50


def report_delivery(request, message: Message, *, sent_text: str) -> None:
    """Tell the user at once how the delivery went, in the words the outbox recorded."""
    if message.status == MessageStatus.SENT:
        messages.success(request, sent_text)
        if message.problem:
            messages.warning(request, message.problem)
    elif message.status in (MessageStatus.QUEUED, MessageStatus.SENDING) and not message.problem:
        messages.info(request, _("Queued: it goes out in a moment."))
    elif message.status == MessageStatus.QUEUED and message.next_attempt_at:
        when = formats.date_format(timezone.localtime(message.next_attempt_at), "H:i T")
        messages.warning(
            request,
            _("Not sent yet: %(problem)s It will be tried again at %(time)s.")
            % {"problem": message.problem, "time": when},
        )
    else:
        messages.error(request, _("Not sent: %(problem)s") % {"problem": message.problem})


def prefilled(request, initial: dict) -> dict:
    """The send form's defaults, with the recipient the page was opened for ("Send a new
    link" on a document's links: ``?to=address``), if any."""
    to = request.GET.get("to", "").strip()
    return {**initial, "to": to} if to else initial


@permission_required("outbox.send_message", raise_exception=True)
def send_invoice(request, pk: int):
    invoice = get_object_or_404(Invoice.objects.select_related("client"), pk=pk)
    if invoice.is_cancelled:
        return refused(
            request,
            DomainError(_("A cancelled invoice cannot be sent.")),
            invoice.get_absolute_url(),
        )
    business = get_business_settings()
    if request.method == "POST":
        form = SendInvoiceForm(request.POST, is_draft=invoice.is_draft)
        if form.is_valid():
            try:
                sent = services.send_invoice(
                    invoice=invoice,
                    acting_user=request.user,
                    base_url=request.build_absolute_uri("/"),
                    **form.operation_fields(),
                )
            except services.IssuedNotSent as exc:
                # Issued now: its page (with "Send by e-mail") is where to try again, not
                # this form, which was for a draft.
                messages.error(request, exc.message)
                return HttpResponseRedirect(exc.invoice.get_absolute_url())
            except DomainError as exc:
                show_refusal(form, exc)
            else:
                invoice.refresh_from_db()  # numbered now, if it was a draft
                for message in sent:
                    message.refresh_from_db()
                    report_delivery(
                        request,
                        message,
                        sent_text=_("Invoice %(number)s sent to %(to)s.")
                        % {"number": invoice.number, "to": message.to_addresses},
                    )
                return HttpResponseRedirect(invoice.get_absolute_url())
    else:
        form = SendInvoiceForm(
            initial=prefilled(request, services.invoice_message_defaults(invoice, business)),
            is_draft=invoice.is_draft,
        )
    return render(
        request,
        "outbox/send_invoice.html",
        {"invoice": invoice, "form": form, "business": business},
    )


@permission_required("outbox.send_message", raise_exception=True)
def send_credit_note(request, pk: int):
    note = get_object_or_404(CreditNote.objects.select_related("client", "invoice"), pk=pk)
    if note.is_draft:
        return refused(
            request,
            DomainError(_("Issue this credit note before sending it.")),
            note.get_absolute_url(),
        )
    business = get_business_settings()
    form = SendCreditNoteForm(
        request.POST or None,
        initial=prefilled(request, services.credit_note_message_defaults(note, business)),
    )
    if request.method == "POST" and form.is_valid():
        try:
            sent = services.send_credit_note(
                credit_note=note,
                acting_user=request.user,
                base_url=request.build_absolute_uri("/"),
                **form.cleaned_data,
            )
        except DomainError as exc:
            show_refusal(form, exc)
        else:
            for message in sent:
                message.refresh_from_db()
                report_delivery(
                    request,
                    message,
                    sent_text=_("Credit note %(number)s sent to %(to)s.")
                    % {"number": note.number, "to": message.to_addresses},
                )
            return HttpResponseRedirect(note.get_absolute_url())
    return render(
        request,
        "outbox/send_credit_note.html",
        {"note": note, "form": form, "business": business},
    )


@permission_required("outbox.view_message", raise_exception=True)
def message_list(request):
    found = Message.objects.prefetch_related("invoice")
    filters = OutboxFilterForm(request.GET or None)
    if filters.is_valid():
        show = filters.cleaned_data["show"]
        if show == OutboxFilterForm.ATTENTION:
            found = found.needing_attention()
        elif show:
            found = found.filter(status=show)
    page = keyset_page(
        found,
        keys=("created_at", "id"),
        size=PAGE_SIZE,
        older=request.GET.get("older"),
        newer=request.GET.get("newer"),
    )
    return render(request, "outbox/message_list.html", {"page": page, "filters": filters})


@permission_required("outbox.view_message", raise_exception=True)
def message_detail(request, pk: int):
    message = get_object_or_404(
        Message.objects.select_related(
            "invoice", "payment", "reminder_stage", "attachment", "created_by", "dealt_with_by"
        ).defer("attachment__content"),
        pk=pk,
    )
    attempts = message.attempts.select_related("acting_user")
    return render(request, "outbox/message_detail.html", {"message": message, "attempts": attempts})


@permission_required("outbox.view_message", raise_exception=True)
def message_attachment(request, pk: int):
    """The attachment exactly as it went out."""
    message = get_object_or_404(Message.objects.select_related("attachment"), pk=pk)
    if message.attachment is None:
        return HttpResponse(
            _("This message has no attachment."), status=404, content_type="text/plain"
        )
    response = HttpResponse(bytes(message.attachment.content), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{message.attachment_name}"'
    return response


@permission_required("outbox.send_message", raise_exception=True)
@require_POST
def message_retry(request, pk: int):
    message = get_object_or_404(Message, pk=pk)
    try:
        services.retry_message(message=message, acting_user=request.user)
    except DomainError as exc:
        return refused(request, exc, message.get_absolute_url())
    message.refresh_from_db()
    report_delivery(request, message, sent_text=_("Sent to %(to)s.") % {"to": message.to_addresses})
    return HttpResponseRedirect(message.get_absolute_url())


@permission_required("outbox.send_message", raise_exception=True)
@require_POST
def message_dealt_with(request, pk: int):
    message = get_object_or_404(Message, pk=pk)
    try:
        services.mark_dealt_with(message=message, acting_user=request.user)
    except DomainError as exc:
        return refused(request, exc, message.get_absolute_url())
    messages.success(request, _("Marked as dealt with."))
    return HttpResponseRedirect(message.get_absolute_url())


@permission_required("settings_app.change_businesssettings", raise_exception=True)
@require_POST
def test_email(request):
    form = TestEmailForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Send a test e-mail to: enter an e-mail address."))
        return redirect("settings")
    try:
        message = services.send_test_email(to=form.cleaned_data["to"], acting_user=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("settings")
    message.refresh_from_db()
    report_delivery(
        request,
        message,
        sent_text=_("Test e-mail sent to %(to)s. Check that it arrived.")
        % {"to": message.to_addresses},
    )
    return redirect("settings")
