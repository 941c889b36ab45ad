"""The reports' filters. Each form supplies a default for every field it is not given, so a
report opened from the navigation shows something useful at once."""

from __future__ import annotations

import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from billing.models import Client
from otb.currencies import CURRENCY_CHOICES

from .selectors import period_starts

PERIOD_CHOICES = [("month", _("Month")), ("quarter", _("Quarter")), ("year", _("Year"))]
MAX_PERIODS = 60
EARLIEST = datetime.date(1970, 1, 1)
LATEST = datetime.date(2999, 12, 31)


def _checked_date(form: forms.Form, name: str) -> None:
    value = form.cleaned_data.get(name)
    if value is not None and not EARLIEST <= value <= LATEST:
        form.add_error(
            name,
            _("%(label)s: enter a date between %(first)s and %(last)s.")
            % {"label": form.fields[name].label, "first": EARLIEST, "last": LATEST},
        )


def _named(label, message) -> str:
    message = str(message)
    return f"{label}: {message[:1].lower()}{message[1:]}"


class ReportForm(forms.Form):
    """A form read from the query string, with defaults: ``report_values()`` after
    ``is_valid()`` gives every field."""

    def __init__(self, data, *, defaults: dict):
        if data is None:  # not asked yet: the defaults, and no errors
            super().__init__(initial=defaults)
        else:
            given = {key: value for key, value in data.items() if value not in ("", None)}
            super().__init__({**{k: v for k, v in defaults.items() if k not in given}, **given})
        # Every message names its field: "As of: enter a valid date."
        for bound_field in self.fields.values():
            bound_field.error_messages = {
                key: _named(bound_field.label, message)
                for key, message in bound_field.error_messages.items()
            }

    def report_values(self) -> dict:
        return dict(self.cleaned_data)


class AsOfForm(ReportForm):
    as_of = forms.DateField(label=_("As of"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        cleaned = super().clean()
        _checked_date(self, "as_of")
        return cleaned


class RangeForm(ReportForm):
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        cleaned = super().clean()
        _checked_date(self, "start")
        _checked_date(self, "end")
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start > end and not self.errors:
            self.add_error("end", _("To: must be on or after From (%(start)s).") % {"start": start})
        return cleaned


class PeriodRangeForm(RangeForm):
    period = forms.ChoiceField(label=_("By"), choices=PERIOD_CHOICES)

    def clean(self):
        cleaned = super().clean()
        start, end, period = cleaned.get("start"), cleaned.get("end"), cleaned.get("period")
        too_many = (start and end and period and not self.errors) and len(
            period_starts(start, end, period)
        ) > MAX_PERIODS
        if too_many:
            self.add_error(
                "period",
                _(
                    "By: at most %(max)s periods in one report; choose a shorter range "
                    "or a longer period."
                )
                % {"max": MAX_PERIODS},
            )
        return cleaned


class StatementForm(RangeForm):
    client = forms.CharField(label=_("Client code"), max_length=50)
    # A client's account is kept per currency: one statement each (SPEC: Client ledger).
    currency = forms.ChoiceField(
        label=_("Currency"),
        choices=[("", _("The client's"))] + list(CURRENCY_CHOICES),
        required=False,
    )

    def clean_client(self):
        code = self.cleaned_data["client"].strip().upper()
        client = Client.objects.filter(code=code).first()
        if client is None:
            raise forms.ValidationError(
                _("Client: there is no client with the code “%(code)s”.") % {"code": code[:50]}
            )
        return client

    def clean(self):
        cleaned = super().clean()
        client = cleaned.get("client")
        if client is not None and not cleaned.get("currency"):
            cleaned["currency"] = client.default_currency
        return cleaned
