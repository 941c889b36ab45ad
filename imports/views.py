"""The import pages (SPEC: Exports and imports): upload a file, map its columns and see
the preview, then import. The file waits in the database between the steps
(``PendingImport``), for the user who uploaded it only. Nothing is written before the
import, and the import writes only a file whose every row goes through."""

from __future__ import annotations

import csv
import datetime
import io
import uuid
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods

from billing.money import format_money, format_price
from otb.countries import country_name
from otb.forms import show_refusal
from otb.operations import DomainError
from settings_app.selectors import business_today

from . import presets, services
from .forms import MappingForm, UploadForm, initial_mapping, mapping_signature
from .kinds import KINDS, Kind, opens_balances
from .models import PendingImport
from .reading import FileRefused, Table, read_table
from .services import (
    Outcome,
    Problem,
    discard_upload,
    keep_mapping,
    keep_upload,
    suggested_mapping,
)

# The rows a column's sample is looked for in.
SAMPLE_ROWS = 5
# Where the imported things are listed.
LIST_OF = {"clients": "clients:list", "services": "services:list", "balances": "clients:list"}
ALREADY_GONE = gettext_lazy("This file was imported or discarded already.")
AMOUNTS = ("opening_balance", "unit_price")
# Columns of the preview a phone leaves out (the table would be twice its width).
SECONDARY = ("email", "country", "unit")
DELIMITERS = {
    ",": gettext_lazy("commas"),
    ";": gettext_lazy("semicolons"),
    "\t": gettext_lazy("tabs"),
}


def permitted_kinds(user) -> list[Kind]:
    return [kind for kind in KINDS.values() if user.has_perms(kind.permissions)]


def counted(kind: Kind, count: int) -> str:
    """ "3 clients", "1 opening balance"."""
    if kind.name == "clients":
        text = ngettext("%(n)d client", "%(n)d clients", count)
    elif kind.name == "services":
        text = ngettext("%(n)d service", "%(n)d services", count)
    else:
        text = ngettext("%(n)d opening balance", "%(n)d opening balances", count)
    return text % {"n": count}


@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest) -> HttpResponse:
    kinds = permitted_kinds(request.user)
    if not kinds:
        raise PermissionDenied
    if request.method != "POST":
        form = UploadForm(kinds=kinds, initial={"kind": kinds[0].name})
        return _upload_page(request, form, kinds)
    form = UploadForm(request.POST, request.FILES, kinds=kinds)
    if form.is_valid():
        try:
            pending = keep_upload(
                kind=form.cleaned_data["kind"],
                file_name=form.cleaned_data["file"].name,
                data=form.content,
                cut_over=form.cleaned_data["cut_over"],
                acting_user=request.user,
            )
        except DomainError as exc:
            show_refusal(form, exc)
        else:
            return redirect("imports:preview", pk=pending.pk)
    return _upload_page(request, form, kinds, status=400)


def _upload_page(
    request: HttpRequest, form: UploadForm, kinds: list[Kind], status: int = 200
) -> HttpResponse:
    offered = [
        {
            "kind": kind,
            "presets": [preset for preset in presets.PRESETS if preset.kind == kind.name],
        }
        for kind in kinds
    ]
    waiting = services.waiting_uploads(request.user)
    return render(
        request,
        "imports/upload.html",
        {
            "form": form,
            "offered": offered,
            "page_rows": services.PAGE_ROWS,
            "waiting": [(pending, KINDS.get(pending.kind)) for pending in waiting[:10]],
        },
        status=status,
    )


@require_http_methods(["GET"])
def import_template(request: HttpRequest, kind: str) -> HttpResponse:
    """Our own template of a kind: a file with the header row only."""
    found = KINDS.get(kind)
    if found is None:
        raise Http404
    if not request.user.has_perms(found.permissions):
        raise PermissionDenied
    buffer = io.StringIO()
    csv.writer(buffer).writerow(presets.template(kind).template())
    # A byte order mark: a spreadsheet opens the file as UTF-8 and keeps accented letters.
    response = HttpResponse(
        ("\ufeff" + buffer.getvalue()).encode(), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{kind}.csv"'
    return response


def _key(pk: str) -> uuid.UUID:
    try:
        return uuid.UUID(pk)
    except ValueError:
        raise Http404 from None


def _pending(request: HttpRequest, pk: str) -> tuple[PendingImport, Kind]:
    """The user's own file waiting for its import; anyone else's, or one a day old, is "not
    found"."""
    pending = services.pending_upload(_key(pk), request.user)
    if pending is None:
        raise Http404
    kind = KINDS.get(pending.kind)
    if kind is None:
        raise Http404
    if not request.user.has_perms(kind.permissions):
        raise PermissionDenied
    return pending, kind


def _samples(table: Table) -> list[str]:
    """A cell of each column from the first rows: the first that is not empty."""
    first = table.rows[:SAMPLE_ROWS]
    return [
        next((row.cells[index] for row in first if row.cells[index]), "")
        for index in range(len(table.headers))
    ]


@require_http_methods(["GET", "POST"])
def import_preview(request: HttpRequest, pk: str) -> HttpResponse:
    if request.method == "POST" and not PendingImport.objects.filter(pk=_key(pk)).exists():
        # A second click on "Import" (or a page left open): the first one took the file.
        messages.info(request, ALREADY_GONE)
        return redirect("imports:index")
    pending, kind = _pending(request, pk)
    action = request.POST.get("action") if request.method == "POST" else None
    if action == "discard":
        discard_upload(pending=pending, acting_user=request.user)
        messages.info(request, _("%(file)s discarded.") % {"file": pending.file_name})
        return redirect("imports:index")
    try:
        table = read_table(bytes(pending.data))
    except FileRefused as exc:  # read once already; only a change of the reading rules
        messages.error(request, exc.message)
        return redirect("imports:index")
    samples = _samples(table)
    if request.method != "POST":
        mapping, source = suggested_mapping(kind, table.headers)
        return _preview_page(request, pending, kind, table, samples, mapping, source)

    form = MappingForm(request.POST, kind=kind, table=table, samples=samples)
    source = _("your choices")
    if not form.is_valid():
        context = {"form": form, "outcome": None}
        return _render_preview(request, pending, kind, table, source, context, status=400)
    mapping = form.mapping()
    if action == "import" and form.cleaned_data["previewed"] == mapping_signature(mapping):
        outcome = _import(request, pending, kind, mapping)
        if outcome is None:
            messages.info(request, ALREADY_GONE)
            return redirect("imports:index")
        if outcome.written:
            messages.success(
                request, _("Imported %(count)s.") % {"count": counted(kind, outcome.imported)}
            )
            return redirect(LIST_OF[kind.name])
        # The rows met the books as they are now: they changed since the preview.
        return _preview_page(
            request, pending, kind, table, samples, mapping, source, outcome, status=400
        )
    if action == "import":
        messages.warning(
            request, _("The columns changed since the preview: check it again, then import.")
        )
    else:
        # The user's choices are kept as they are made: a file refused for its rows and
        # uploaded again, mended, starts from them.
        keep_mapping(kind=kind, headers=table.headers, mapping=mapping, acting_user=request.user)
    return _preview_page(request, pending, kind, table, samples, mapping, source)


def _import(
    request: HttpRequest, pending: PendingImport, kind: Kind, mapping: dict[str, str]
) -> Outcome | None:
    """``import_upload``; a refusal of the whole import (a cut-over day that is after today
    in the business's time zone since it changed) shown as its one problem."""
    try:
        return services.import_upload(pending=pending, mapping=mapping, acting_user=request.user)
    except DomainError as exc:
        return Outcome(kind=kind, rows=0, problems=[Problem(None, "", exc.message)])


def _preview(
    request: HttpRequest,
    kind: Kind,
    table: Table,
    mapping: dict[str, str],
    cut_over: datetime.date | None,
) -> Outcome:
    """``preview_table``; a refusal of the whole import (a cut-over day that is after today
    in the business's time zone since it changed) shown as its one problem."""
    try:
        return services.preview_table(
            kind=kind, table=table, mapping=mapping, acting_user=request.user, cut_over=cut_over
        )
    except DomainError as exc:
        return Outcome(kind=kind, rows=len(table.rows), problems=[Problem(None, "", exc.message)])


def _preview_page(
    request: HttpRequest,
    pending: PendingImport,
    kind: Kind,
    table: Table,
    samples: list[str],
    mapping: dict[str, str],
    source: str,
    outcome: Outcome | None = None,
    status: int = 200,
) -> HttpResponse:
    """The mapping's choices set to ``mapping``, and what importing with it would do (or,
    given, what it did)."""
    form = MappingForm(
        kind=kind, table=table, samples=samples, initial=initial_mapping(table, mapping)
    )
    if outcome is None:
        outcome = _preview(request, kind, table, mapping, pending.cut_over)
    context = {
        "form": form,
        "outcome": outcome,
        "rows": [
            (number, [(_shown(key, values), _css(key)) for key, _heading in kind.shown])
            for number, values in outcome.shown
        ],
        "count": counted(kind, outcome.imported),
        "can_import": outcome.ok and outcome.imported > 0,
        "opens_balances": opens_balances(kind.name, mapping.values()),
    }
    return _render_preview(request, pending, kind, table, source, context, status=status)


def _render_preview(
    request: HttpRequest,
    pending: PendingImport,
    kind: Kind,
    table: Table,
    source: str,
    context: dict,
    status: int = 200,
) -> HttpResponse:
    context |= {
        "pending": pending,
        "kind": kind,
        "table": table,
        "delimiter": DELIMITERS.get(table.delimiter, table.delimiter),
        "source": source,
        "headings": [(heading, _css(key)) for key, heading in kind.shown],
        "cut_over": pending.cut_over or business_today(),
    }
    return render(request, "imports/preview.html", context, status=status)


def _css(key: str) -> str:
    """The classes of a preview column: amounts to the right, secondary ones not on phones."""
    classes = ["amount"] if key in AMOUNTS else []
    if key in SECONDARY:
        classes += ["d-none", "d-md-table-cell"]
    return " ".join(classes)


def _shown(key: str, values: dict[str, str]) -> str:
    """A preview cell as the lists write it: amounts grouped, countries by name."""
    text = values.get(key, "")
    if not text:
        return ""
    if key == "country":
        return country_name(text)
    if key in AMOUNTS:
        try:
            amount = Decimal(text)
        except InvalidOperation:
            return text
        if key == "unit_price":
            return format_price(amount)
        return format_money(amount, values.get("currency", ""))
    return text
