"""Signing in to the portal and out of it (SPEC: Client portal and document links).

/portal/ asks for an address and answers the same whether it is on file or not; the link
e-mailed opens /portal/sign-in/<token>/, a page with a button: only pressing it (a POST)
uses the link up, so a mail scanner that follows links leaves it working. The requests
for links are throttled per address asked about and per address they come from, like a
password reset (accounts.throttle); a token that opens nothing counts against the address
it came from, like a document link's."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts import throttle
from audit.addresses import client_address
from billing.errors import NotFound
from links.pages import private
from otb.forms import Form, show_refusal
from otb.operations import DomainError

from . import services
from .access import Access, delete_cookie, portal_view, set_cookie
from .context import page_context as _context

# Throttle keys: the address asked about, as a password reset's are.
SIGN_IN_SCOPE = "portal"


class SignInForm(Form):
    email = forms.CharField(
        label=_("Your e-mail address"),
        # Longer than allowed on purpose: the operation says what the limit is.
        max_length=2000,
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
        help_text=_("The address the business sends your invoices to."),
    )


def _where_to(access: Access | None) -> str:
    return reverse("portal:home" if access and access.client else "portal:choose")


def _requester(request: HttpRequest) -> dict:
    return {
        "ip_address": client_address(request) or None,
        "user_agent": request.META.get("HTTP_USER_AGENT", ""),
    }


@portal_view(needs_client=False)
@require_http_methods(["GET", "HEAD", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    """The address form; after a request, the same answer for every address."""
    access = request.portal  # type: ignore[attr-defined]
    if access is not None and request.method != "POST":
        return HttpResponseRedirect(_where_to(access))
    form = SignInForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        keys = [throttle.scoped_key(SIGN_IN_SCOPE, email), throttle.address_key(request)]
        try:
            address = services.clean_address(email)
            throttle.ensure_not_locked(keys, what=throttle.PORTAL_SIGN_IN_REQUEST)
            # Every request counts: a few are free, then they are slowed down like guesses.
            throttle.record_failure(keys=keys, what=throttle.PORTAL_SIGN_IN_REQUEST)
            services.request_sign_in(
                email=address, base_url=request.build_absolute_uri("/"), **_requester(request)
            )
        except DomainError as exc:
            show_refusal(form, exc)
        else:
            return HttpResponseRedirect(reverse("portal:sign_in") + "?sent=1", status=303)
    sent = request.method == "GET" and request.GET.get("sent") == "1"
    minutes = int(services.SIGN_IN_LINK_LIFETIME.total_seconds() // 60)
    return render(
        request,
        "portal/sign_in.html",
        _context(
            request,
            form=form,
            sent=sent,
            minutes=minutes,
            signed_out=request.GET.get("signed_out"),
        ),
    )


def _link_refused(request: HttpRequest) -> HttpResponse:
    """The one answer for a sign-in link that does not sign in (unknown, used, revoked,
    expired), with the way to ask for a new one."""
    response = render(request, "portal/sign_in_link.html", _context(request, link=None), status=404)
    response._has_been_logged = True  # type: ignore[attr-defined]  # its path holds a token
    return response


@portal_view(needs_client=False)
@require_http_methods(["GET", "HEAD", "POST"])
def sign_in_link(request: HttpRequest, token: str) -> HttpResponse:
    """GET: the page with the "Sign in" button (the link still works after it). POST: the
    button, which uses the link up and starts the session."""
    keys = [throttle.address_key(request)]
    found = throttle.look_up(
        keys, lambda: services.usable_link(token), what=throttle.PORTAL_SIGN_IN_LINK
    )
    if found is None:
        return _link_refused(request)
    if request.method != "POST":
        return render(request, "portal/sign_in_link.html", _context(request, link=found))
    try:
        session, key = services.sign_in(token=token, **_requester(request))
    except NotFound:  # used by another press a moment ago, or expired meanwhile
        return _link_refused(request)
    response = HttpResponseRedirect(
        reverse("portal:home" if session.client_id else "portal:choose"), status=303
    )
    return set_cookie(response, session, key)


@portal_view(needs_client=False)
@require_http_methods(["GET", "HEAD", "POST"])
def choose(request: HttpRequest) -> HttpResponse:
    """The clients the signed-in address is on file for, to pick the one to see."""
    access = request.portal  # type: ignore[attr-defined]
    if access is None:
        return HttpResponseRedirect(reverse("portal:sign_in"))
    error = ""
    if request.method == "POST":
        try:
            services.choose_client(session=access.session, client_id=request.POST.get("client"))
        except DomainError as exc:
            error = exc.message
        else:
            return HttpResponseRedirect(reverse("portal:home"), status=303)
    return render(
        request,
        "portal/choose.html",
        _context(request, clients=access.clients, error=error),
        status=400 if error else 200,
    )


def _signed_out(*, everywhere: bool = False) -> HttpResponse:
    url = reverse("portal:sign_in") + ("?signed_out=everywhere" if everywhere else "?signed_out=1")
    return private(delete_cookie(HttpResponseRedirect(url, status=303)))


@portal_view(needs_client=False)
@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    access = request.portal  # type: ignore[attr-defined]
    if access is not None:
        services.sign_out(session=access.session)
    return _signed_out()


@portal_view(needs_client=False)
@require_POST
def sign_out_everywhere(request: HttpRequest) -> HttpResponse:
    access = request.portal  # type: ignore[attr-defined]
    if access is not None:
        services.sign_out_everywhere(session=access.session)
    return _signed_out(everywhere=True)
