"""The office pages of billing (the admin is the back office). Included by otb/urls.py under
one namespace per area: clients, services, invoices, credit notes, payments, refunds. The
invoices and credit notes namespaces also hold the outbox's pages of them (outbox/urls.py:
``invoices:send``, ``credit_notes:send``)."""

from django.urls import path

from .views import clients, credit_notes, documents, invoices, payments, services
from .views import ledger as ledger_views

client_patterns = [
    path("", clients.client_list, name="list"),
    path("new/", clients.client_create, name="create"),
    path("<str:code>/", clients.client_detail, name="detail"),
    path("<str:code>/edit/", clients.client_edit, name="edit"),
    path("<str:code>/delete/", clients.client_delete, name="delete"),
    path("<str:code>/ledger/", ledger_views.client_ledger, name="ledger"),
    path("<str:code>/refund/", credit_notes.refund_create, name="refund"),
]

service_patterns = [
    path("", services.service_list, name="list"),
    path("new/", services.service_create, name="create"),
    path("<str:code>/edit/", services.service_edit, name="edit"),
]

invoice_patterns = [
    path("", invoices.invoice_list, name="list"),
    path("new/", invoices.invoice_create, name="create"),
    path("preview/", invoices.invoice_preview, name="preview"),
    # Drafts have no number yet: they are addressed by id.
    path("draft/<int:pk>/", documents.draft_detail, name="draft_detail"),
    path("draft/<int:pk>/pdf/", documents.draft_pdf, name="draft_pdf"),
    path("id/<int:pk>/edit/", invoices.invoice_edit, name="edit"),
    path("id/<int:pk>/issue/", invoices.invoice_issue, name="issue"),
    path("id/<int:pk>/cancel/", invoices.invoice_cancel, name="cancel"),
    path("id/<int:pk>/delete/", invoices.invoice_delete, name="delete"),
    path("id/<int:pk>/duplicate/", invoices.invoice_duplicate, name="duplicate"),
    path("id/<int:pk>/credit/", credit_notes.credit_note_create, name="credit"),
    path("<str:number>/", documents.invoice_detail, name="detail"),
    path("<str:number>/pdf/", documents.invoice_pdf, name="pdf"),
]

payment_patterns = [
    path("", payments.payment_list, name="list"),
    path("new/", payments.payment_create, name="create"),
    path("<int:pk>/edit/", payments.payment_edit, name="edit"),
    path("<int:pk>/confirm/", payments.payment_confirm, name="confirm"),
    path("<int:pk>/reverse/", payments.payment_reverse, name="reverse"),
]

credit_note_patterns = [
    path("", credit_notes.credit_note_list, name="list"),
    path("<int:pk>/", credit_notes.credit_note_detail, name="detail"),
    path("<int:pk>/pdf/", credit_notes.credit_note_pdf, name="pdf"),
    path("<int:pk>/edit/", credit_notes.credit_note_edit, name="edit"),
    path("<int:pk>/issue/", credit_notes.credit_note_issue, name="issue"),
    path("<int:pk>/delete/", credit_notes.credit_note_delete, name="delete"),
]

refund_patterns = [
    path("<int:pk>/reverse/", credit_notes.refund_reverse, name="reverse"),
]
