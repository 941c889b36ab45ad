"""The signed-in client's pages (views.py), under /portal/ in the namespace ``portal``.

A document is named by its number. A number prefix may hold a slash (settings: INV/2026/),
hence ``path``; each PDF's address comes first, and a number never ends in "/pdf" (it
ends in digits), so the two never take each other's."""

from django.urls import path

from . import views

urlpatterns = [
    path("home/", views.home, name="home"),
    path("invoices/", views.invoices, name="invoices"),
    path("invoices/<path:number>/pdf/", views.invoice_pdf, name="invoice_pdf"),
    path("invoices/<path:number>/", views.invoice, name="invoice"),
    path("credit-notes/", views.credit_notes, name="credit_notes"),
    path("credit-notes/<path:number>/pdf/", views.credit_note_pdf, name="credit_note_pdf"),
    path("credit-notes/<path:number>/", views.credit_note, name="credit_note"),
    path("quotes/", views.quotes, name="quotes"),
    path("quotes/<path:number>/pdf/", views.quote_pdf, name="quote_pdf"),
    path("quotes/<path:number>/", views.quote, name="quote"),
    path("payments/", views.payments, name="payments"),
    path("statement/", views.statement, name="statement"),
    path("statement/pdf/", views.statement_pdf, name="statement_pdf"),
    path("statement/csv/", views.statement_csv, name="statement_csv"),
]
