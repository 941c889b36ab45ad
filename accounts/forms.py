"""Sign-in forms: the password (throttled), the second factor, and the password reset."""

from __future__ import annotations

import logging

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import authenticate
from django.contrib.auth import forms as auth_forms
from django.core.exceptions import ValidationError
from django.template import loader
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from otb.operations import DomainError
from outbox.models import MessageKind
from outbox.services import queue_sign_in_link

from . import throttle

log = logging.getLogger(__name__)


class ThrottledSignInMixin:
    """``AuthenticationForm.clean`` with the password checked through ``throttle.attempt``:
    while the account or the address is locked, the form says when to try again."""

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:

            def check():
                self.user_cache = authenticate(self.request, username=username, password=password)
                return self.user_cache is not None

            try:
                keys = throttle.sign_in_keys(self.request, username)
                passed = throttle.attempt(keys, check, what=throttle.PASSWORD)
            except throttle.SignInLocked as exc:
                raise ValidationError(exc.message, code="locked") from None
            if not passed:
                raise self.get_invalid_login_error()
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class LoginForm(ThrottledSignInMixin, auth_forms.AuthenticationForm):
    pass


class AdminLoginForm(ThrottledSignInMixin, AdminAuthenticationForm):
    pass


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}
        ),
        help_text=_("The 6 digits your authenticator app shows, or one of your backup codes."),
    )


class SetupCodeForm(CodeForm):
    code = forms.CharField(
        label=_("Code from the app"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's reset form, throttled per address asked about and per client address, and
    sending through the outbox (the business's SMTP server) with the link kept out of the
    stored copy."""

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request

    def clean_email(self):
        email = self.cleaned_data["email"]
        keys = [throttle.reset_key(email), throttle.address_key(self.request)]
        try:
            throttle.ensure_not_locked(keys, what=throttle.RESET_REQUEST)
        except throttle.SignInLocked as exc:
            raise ValidationError(exc.message, code="locked") from None
        # Every request counts: a few are free, then they are slowed down like guesses.
        throttle.record_failure(keys=keys, what=throttle.RESET_REQUEST)
        return email

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        path = reverse(
            "password_reset_confirm", kwargs={"uidb64": context["uid"], "token": context["token"]}
        )
        link = f"{context['protocol']}://{context['domain']}{path}"
        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        try:
            queue_sign_in_link(
                kind=MessageKind.PASSWORD_RESET,
                to=to_email,
                subject=subject,
                body_template=lambda masked: loader.render_to_string(
                    email_template_name, {**context, "link": masked}
                ),
                link=link,
            )
        except DomainError as exc:
            # The page answers the same whatever happened: it must not tell who has an
            # account. The log tells the administrator.
            log.warning("Password reset for %s not sent: %s", to_email, exc)
