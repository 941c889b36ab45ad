"""The office's page for sending a quote by e-mail. (Its links are revoked from the quote's
page by links/views.py, as every document's.)"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _

from billing.views import refused
from billing.views.documents import MAX_ID
from otb.forms import Form, show_refusal
from otb.operations import DomainError
from outbox.forms import SendInvoiceForm
from outbox.views import prefilled, report_delivery
from settings_app.selectors import get_business_settings

from . import sending
from .models import Quote


class SendQuoteForm(Form):
    to = SendInvoiceForm.base_fields["to"]
    cc = SendInvoiceForm.base_fields["cc"]
    subject = SendInvoiceForm.base_fields["subject"]
    body = SendInvoiceForm.base_fields["body"]


def _quote(pk: int) -> Quote:
    if pk > MAX_ID:
        raise Http404("No quote with this id.")
    return get_object_or_404(Quote.objects.select_related("client"), pk=pk)


@permission_required("quotes.send_quote", raise_exception=True)
def send_quote(request, pk: int) -> HttpResponse:
    quote = _quote(pk)
    refusal = sending.send_refusal(quote)
    if refusal:
        return refused(request, DomainError(refusal), quote.get_absolute_url())
    business = get_business_settings()
    form = SendQuoteForm(
        request.POST or None,
        initial=prefilled(request, sending.quote_message_defaults(quote, business)),
    )
    if request.method == "POST" and form.is_valid():
        try:
            sent = sending.send_quote(
                quote=quote,
                acting_user=request.user,
                base_url=request.build_absolute_uri("/"),
                **form.cleaned_data,
            )
        except sending.SentNotQueued as exc:
            # Sent now: its page (with "Send by e-mail") is where to try again.
            messages.error(request, exc.message)
            return HttpResponseRedirect(exc.quote.get_absolute_url())
        except DomainError as exc:
            show_refusal(form, exc)
        else:
            quote.refresh_from_db()  # numbered now, if it was a draft
            for message in sent:
                message.refresh_from_db()
                report_delivery(
                    request,
                    message,
                    sent_text=_("Quote %(number)s sent to %(to)s.")
                    % {"number": quote.number, "to": message.to_addresses},
                )
            return HttpResponseRedirect(quote.get_absolute_url())
    return render(request, "quotes/send.html", {"quote": quote, "form": form, "business": business})
