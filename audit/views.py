"""The audit trail page: administrators only (SPEC: Audit)."""

from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.shortcuts import render

from .forms import AuditFilterForm
from .models import AuditRecord
from .selectors import filter_records

PAGE_SIZE = 50


@permission_required("audit.view_auditrecord", raise_exception=True)
def audit_list(request):
    form = AuditFilterForm(request.GET or None)
    selection = form.selection()
    records = AuditRecord.objects.none()
    if selection is not None:
        records = filter_records(AuditRecord.objects.all(), **selection)
    page = Paginator(records, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/list.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )
