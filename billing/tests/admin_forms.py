"""Filling in admin forms in tests the way a browser would: start from what the page shows."""

import datetime
from decimal import Decimal

from django.db.models.fields.files import FieldFile


def _encode(value):
    if value is None or isinstance(value, FieldFile):
        return None  # files are not sent back by a browser unless chosen again
    if isinstance(value, bool):
        return "on" if value else None
    if isinstance(value, datetime.date | Decimal | int):
        return str(value)
    if hasattr(value, "pk"):
        return str(value.pk)
    return value


def form_data(response) -> dict:
    """Every field of the admin change form in ``response`` (main form and inline
    formsets, with their management forms) with the values the page shows."""
    data = {}

    def add_form(form):
        for bound in form:
            value = _encode(bound.value())
            if value is not None:
                data[bound.html_name] = value

    add_form(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        add_form(formset.management_form)
        for form in formset.forms:
            add_form(form)
    return data


def line_fields(index: int, **values) -> dict:
    """POST keys for line ``index`` of the invoice's line inline."""
    return {f"lines-{index}-{name}": value for name, value in values.items()}
