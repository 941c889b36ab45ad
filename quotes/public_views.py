"""A quote's own link, for its client, without a login (SPEC: Quotes; Client portal and
document links): the quote and its terms, its PDF, and the answer form. The token in the
address is the only key; every token that opens nothing gets the same "not found" answer
(links.pages.not_found). Every opening of the page or the PDF is recorded as a view.

The page and the PDF themselves (``answer_page``, ``quote_pdf_response``) serve the client
portal's quote pages too (portal/views.py), which answer through the portal's operations."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_safe

from accounts.throttle import DOCUMENT_LINK, address_key, look_up
from audit.addresses import client_address
from billing.errors import NotFound
from links.models import DocumentLink, LinkKind
from links.pages import csrf_protect_quietly, not_found, pdf_response, private, with_business
from links.selectors import open_link
from links.services import record_view
from otb.forms import Form, show_refusal
from otb.operations import DomainError, InvalidInput
from settings_app.selectors import business_today

from . import document, sending, services
from .models import Answer, Quote, QuoteAnswer, QuoteState
from .rules import shown_state

logger = logging.getLogger(__name__)

ACCEPT, DECLINE = "accept", "decline"


class AnswerForm(Form):
    """The client's answer. What the values may be is for the operation
    (quotes.services.accept_by_link / decline_by_link, or accept_in_portal /
    decline_in_portal), which names the field it refuses."""

    name = forms.CharField(
        label=_("Your name"), max_length=services.NAME_MAX_LENGTH, required=False
    )
    agreed = forms.BooleanField(label=_("I accept these terms"), required=False)
    reason = forms.CharField(
        label=_("Reason for declining (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    # The key of the version shown: an answer to another version is refused.
    version = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
    answer = forms.ChoiceField(
        choices=[(ACCEPT, _("Accept")), (DECLINE, _("Decline"))],
        required=False,
        widget=forms.HiddenInput,
    )


def _open(request: HttpRequest, token: str) -> tuple[DocumentLink, Quote] | None:
    # Throttled per address (accounts.throttle): a token that opens nothing counts a failure.
    link = look_up(
        [address_key(request)], lambda: open_link(token, kind=LinkKind.QUOTE), what=DOCUMENT_LINK
    )
    if link is None:
        return None
    try:
        quote = document.load_quote(pk=link.quote_id)
    except Quote.DoesNotExist:
        return None
    if quote.is_draft:  # never shown (a draft cannot have a link; this holds it anyway)
        return None
    return link, quote


def _viewed(request: HttpRequest, link: DocumentLink) -> None:
    record_view(
        link=link,
        ip_address=client_address(request) or None,
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
    )


def _answer(
    request: HttpRequest,
    quote: Quote,
    form: AnswerForm,
    *,
    accept: Callable[..., QuoteAnswer],
    decline: Callable[..., QuoteAnswer],
) -> QuoteAnswer:
    values = form.cleaned_data
    common = {
        "quote": quote,
        "shown_key": values["version"],
        "name": values["name"],
        "ip_address": client_address(request) or None,
        "user_agent": request.META.get("HTTP_USER_AGENT", ""),
    }
    if values["answer"] == ACCEPT:
        return accept(**common, agreed=values["agreed"])
    if values["answer"] == DECLINE:
        return decline(**common, reason=values["reason"])
    raise InvalidInput.single("__all__", str(_("Press Accept or Decline to answer the quote.")))


def _tell_business(request: HttpRequest, answer: QuoteAnswer) -> None:
    """The answer has committed; the business's e-mail is a second step, and a failure to
    queue it must not turn the client's answer into an error page."""
    try:
        sending.notify_business(answer=answer, base_url=request.build_absolute_uri("/"))
    except Exception:  # the database or the settings; the answer stands either way
        logger.exception("Quote %s was answered, but the business was not told", answer.quote)


def answer_page(
    request: HttpRequest,
    quote: Quote,
    *,
    accept: Callable[..., QuoteAnswer],
    decline: Callable[..., QuoteAnswer],
    page_url: str,
    pdf_url: str,
    context: dict[str, Any] | None = None,
) -> HttpResponse:
    """A quote's page for its client, with the answer form: the quote's link's and the
    client portal's alike. A POST answers through ``accept`` or ``decline`` (the link's
    or the portal's operation), tells the business, and goes back to ``page_url``;
    ``context``: what the page's layout needs more (the portal's menu)."""
    form = AnswerForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if form.is_valid():
            try:
                answer = _answer(request, quote, form, accept=accept, decline=decline)
            except NotFound:  # the link or the portal no longer opens it (page left open)
                return not_found()
            except DomainError as exc:
                show_refusal(form, exc)
            else:
                _tell_business(request, answer)
                # After the answer, the page (a GET) shows it; reloading it answers nothing.
                return private(HttpResponseRedirect(page_url, status=303))
        quote = document.load_quote(pk=quote.pk)  # as it stands now
    shown = with_business(context)
    business = shown["business"]
    data = document.quote_data(quote, business=business)
    state = shown_state(quote, today=business_today(business))
    page = {
        **shown,
        "quote": quote,
        "doc": {**data, "business": {**data["business"], "logo_url": shown["logo_url"]}},
        "state": state,
        "answer": QuoteAnswer.objects.filter(quote=quote).first(),
        "form": form,
        "version": document.version_key(data),
        # The hidden fields' refusals ("changed since you opened it"), shown at the top.
        "hidden_errors": [
            *form.errors.get("version", []),
            *form.errors.get("answer", []),
        ],
        "may_answer": state == QuoteState.SENT,
        "accepted": Answer.ACCEPTED,
        "pdf_url": pdf_url,
        # The link downloads the PDF under its name rather than opening it in the page.
        "pdf_filename": document.quote_filename(quote),
    }
    return private(render(request, "quotes/public_quote.html", page))


def quote_pdf_response(request: HttpRequest, quote: Quote) -> HttpResponse:
    """The quote's PDF for its client; once accepted, the exact bytes that were accepted."""
    answer = QuoteAnswer.objects.select_related("document").filter(quote=quote).first()
    accepted = answer.document if answer is not None else None
    return pdf_response(
        (lambda: bytes(accepted.content))
        if accepted is not None
        else (lambda: document.quote_pdf(quote, request=request)),
        filename=document.quote_filename(quote),
        what=f"quote {quote.pk}",
    )


@login_not_required
@csrf_protect_quietly
# HEAD too: mail scanners check links with it, and Django logs a refused method.
@require_http_methods(["GET", "HEAD", "POST"])
def quote_page(request: HttpRequest, token: str) -> HttpResponse:
    opened = _open(request, token)
    if opened is None:
        return not_found()
    link, quote = opened
    if request.method == "GET":  # a HEAD (a mail scanner's check) is no view
        _viewed(request, link)
    return answer_page(
        request,
        quote,
        accept=functools.partial(services.accept_by_link, link_id=link.pk),
        decline=functools.partial(services.decline_by_link, link_id=link.pk),
        page_url=reverse("quote_link:page", args=[token]),
        pdf_url=reverse("quote_link:pdf", args=[token]),
    )


@login_not_required
def nothing_here(request: HttpRequest, rest: str = "") -> HttpResponse:
    return not_found()


@login_not_required
@require_safe
def quote_pdf(request: HttpRequest, token: str) -> HttpResponse:
    """The quote's PDF; once accepted, the exact bytes that were accepted."""
    opened = _open(request, token)
    if opened is None:
        return not_found()
    link, quote = opened
    if request.method == "GET":
        _viewed(request, link)
    return quote_pdf_response(request, quote)
