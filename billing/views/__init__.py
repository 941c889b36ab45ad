"""The office pages of billing, one module per area."""

import re

from django.contrib import messages
from django.http import HttpResponseRedirect


def refused(request, exc, back_url: str):
    """An operation refused something that has no form field to show it on: say why on the
    page the user came from."""
    messages.error(request, exc.message)
    return HttpResponseRedirect(back_url)


def object_or_none(model, pk):
    """The row whose id a query string or form names, or None for anything else (a missing,
    non-numeric or unknown id is no reason for a server error)."""
    if not isinstance(pk, str) or not re.fullmatch(r"[0-9]{1,18}", pk):
        return None
    return model.objects.filter(pk=int(pk)).first()
