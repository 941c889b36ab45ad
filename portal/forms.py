"""The portal's statement form, read from the query string: the office statement's dates
(reports.forms.RangeForm, whose every message names its field), among the client's own
currencies."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from reports.forms import RangeForm

# <input type="date"> takes ISO dates only, whatever the language's date format.
ISO_DATE = "%Y-%m-%d"


def default_dates(today: datetime.date) -> dict[str, datetime.date]:
    """A year up to today, from the first of the month: the recent months a client looks
    for, whole."""
    return {"start": today.replace(year=today.year - 1, day=1), "end": today}


class StatementForm(RangeForm):
    currency = forms.ChoiceField(label=_("Currency"))

    def __init__(self, data: Any, *, today: datetime.date, currencies: list[str]) -> None:
        super().__init__(data, defaults={**default_dates(today), "currency": currencies[0]})
        currency = self.fields["currency"]
        assert isinstance(currency, forms.ChoiceField)
        currency.choices = [(code, code) for code in currencies]
        for name in ("start", "end"):
            self.fields[name].widget.format = ISO_DATE
