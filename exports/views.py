"""The export page: a form, and the download it asks for (``?format=…&start=…&end=…``).
A bad field shows the page again with the field's message (400), never a 500."""

from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import render

from settings_app.selectors import business_today

from .forms import ExportForm
from .inputs import last_year
from .streaming import EXPORT_PERMISSIONS, download

ASKED = ("format", "start", "end")


@permission_required(EXPORT_PERMISSIONS, raise_exception=True)
def export_books(request: HttpRequest) -> HttpResponseBase:
    # Reads only: nothing is written, so no audit record.
    if not any(name in request.GET for name in ASKED):
        start, end = last_year(business_today())
        form = ExportForm(
            initial={"format": "csv", "start": start.isoformat(), "end": end.isoformat()}
        )
        return render(request, "exports/export.html", {"form": form})
    form = ExportForm(request.GET)
    if form.is_valid() and form.export is not None:
        return download(form.export)
    return render(request, "exports/export.html", {"form": form}, status=400)
