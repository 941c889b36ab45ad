"""The invoice as a document: its page (with print layout) and its PDF.

An issued invoice is addressed by its number, a draft (which has none) by its id.
"""

from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from billing import pdf
from billing.models import Invoice
from settings_app.selectors import get_business_settings

# Ids beyond a signed 64-bit integer cannot exist; SQLite would fail on them rather than
# find nothing.
MAX_ID = 2**63 - 1


def _issued_invoice(number: str, *, with_payments: bool = True) -> Invoice:
    try:
        return pdf.load_invoice(number=number, with_payments=with_payments)
    except Invoice.DoesNotExist:
        raise Http404("No invoice with this number.") from None


def _invoice_by_id(pk: int, *, with_payments: bool = True) -> Invoice:
    if pk > MAX_ID:
        raise Http404("No invoice with this id.")
    try:
        return pdf.load_invoice(pk=pk, with_payments=with_payments)
    except Invoice.DoesNotExist:
        raise Http404("No invoice with this id.") from None


def _render_page(request, invoice: Invoice):
    payments = sorted(invoice.payments.all(), key=lambda payment: (payment.date, payment.pk))
    business = get_business_settings()
    context = {
        "invoice": invoice,
        "business": business,
        "doc": pdf.document_data(invoice, business=business),
        "payments": payments,
        "credit_notes": list(invoice.credit_notes.order_by("created_at", "pk")),
        "pdf_url": pdf_url(invoice),
        "email_messages": _email_messages(request, invoice),
    }
    return render(request, "billing/invoice_detail.html", context)


def _email_messages(request, invoice: Invoice) -> list:
    if invoice.is_draft or not request.user.has_perm("outbox.view_message"):
        return []
    return list(invoice.messages.select_related("reminder_stage")[:20])


def pdf_url(invoice: Invoice) -> str:
    if invoice.number:
        return reverse("invoices:pdf", args=[invoice.number])
    return reverse("invoices:draft_pdf", args=[invoice.pk])


def _pdf_response(request, invoice: Invoice) -> HttpResponse:
    response = HttpResponse(pdf.invoice_pdf(invoice, request=request), "application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{pdf.pdf_filename(invoice)}"'
    return response


@permission_required("billing.view_invoice", raise_exception=True)
def invoice_detail(request, number: str):
    return _render_page(request, _issued_invoice(number))


@permission_required("billing.view_invoice", raise_exception=True)
def draft_detail(request, pk: int):
    invoice = _invoice_by_id(pk)
    if invoice.number:
        return redirect(invoice)
    return _render_page(request, invoice)


@permission_required("billing.view_invoice", raise_exception=True)
def invoice_pdf(request, number: str):
    return _pdf_response(request, _issued_invoice(number, with_payments=False))


@permission_required("billing.view_invoice", raise_exception=True)
def draft_pdf(request, pk: int):
    invoice = _invoice_by_id(pk, with_payments=False)
    if invoice.number:
        return redirect("invoices:pdf", invoice.number)
    return _pdf_response(request, invoice)
