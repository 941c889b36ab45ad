"""Sign-in pages: the password, the second factor, setting the second factor up, and the
forgotten password."""

from __future__ import annotations

import base64

import segno
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpRequest
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from otb.forms import show_refusal
from otb.operations import DomainError

from . import second_factor, throttle
from .forms import CodeForm, LoginForm, PasswordResetForm, SetupCodeForm


class LoginView(auth_views.LoginView):
    authentication_form = LoginForm
    redirect_authenticated_user = True


class PasswordResetView(auth_views.PasswordResetView):
    form_class = PasswordResetForm
    success_url = reverse_lazy("password_reset_done")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    success_url = reverse_lazy("password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        # Whoever holds the mailbox is the account's owner: its lock (if any) is lifted.
        throttle.record_success(
            keys=[throttle.account_key(self.user.get_username())], what=throttle.NEW_PASSWORD
        )
        return response


def _next_url(request: HttpRequest) -> str:
    """Where to go after the second factor: the ``next`` asked for, if it is on this site."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return str(reverse_lazy("home"))


@require_http_methods(["GET", "POST"])
def verify(request):
    """The second step of signing in: the code from the app, or a backup code."""
    if request.user.is_verified() or not second_factor.has_second_factor(request.user):
        return redirect(_next_url(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            second_factor.verify(request=request, user=request.user, code=form.cleaned_data["code"])
        except DomainError as exc:
            show_refusal(form, exc)
        else:
            return redirect(_next_url(request))
    return render(
        request, "accounts/verify.html", {"form": form, "next": request.GET.get("next", "")}
    )


def _qr_data_uri(uri: str) -> str:
    """The QR code as an SVG data: URI, drawn here: nothing is fetched."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


@require_http_methods(["GET", "POST"])
def second_factor_page(request):
    """Turn the second factor on (scan, type a code, keep the backup codes), get new backup
    codes, or turn it off."""
    user = request.user
    context: dict = {"required": second_factor.required(user)}
    if second_factor.has_second_factor(user):
        action = request.POST.get("action")
        if request.method == "POST" and action == "backup-codes":
            context["backup_codes"] = second_factor.new_backup_codes(user=user)
        elif request.method == "POST" and action == "turn-off":
            try:
                second_factor.turn_off(user=user)
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, _("The second factor is off."))
            return redirect("second_factor")
        context.update(enabled=True, backup_codes_left=second_factor.backup_codes_left(user))
        return render(request, "accounts/second_factor.html", context)

    device = second_factor.begin_setup(user=user)
    form = SetupCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = second_factor.confirm_setup(
                request=request, user=user, code=form.cleaned_data["code"]
            )
        except DomainError as exc:
            show_refusal(form, exc)
        else:
            context.update(enabled=True, backup_codes=codes, just_enabled=True)
            context["next"] = _next_url(request) if request.GET.get("next") else ""
            return render(request, "accounts/second_factor.html", context)
    context.update(
        form=form,
        qr=_qr_data_uri(device.config_url),
        secret=base64.b32encode(device.bin_key).decode(),
    )
    return render(request, "accounts/second_factor.html", context)


__all__ = [
    "LoginView",
    "PasswordResetConfirmView",
    "PasswordResetView",
    "second_factor_page",
    "verify",
]
