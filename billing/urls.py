"""The office pages of billing (the admin is the back office). Included by otb/urls.py under
one namespace per area: clients, services, invoices, payments. The invoices namespace also
holds the outbox's invoice pages (outbox/urls.py: ``invoices:send``)."""

from django.urls import path

from .views import clients, documents, invoices, payments, services
from .views import ledger as ledger_views

client_patterns = [
    path("", clients.client_list, name="list"),
    path("new/", clients.client_create, name="create"),
    path("<str:code>/", clients.client_detail, name="detail"),
    path("<str:code>/edit/", clients.client_edit, name="edit"),
    path("<str:code>/delete/", clients.client_delete, name="delete"),
    path("<str:code>/ledger/", ledger_views.client_ledger, name="ledger"),
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
