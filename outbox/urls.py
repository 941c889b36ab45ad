"""The outbox's pages. ``invoice_patterns`` are its pages of an invoice: otb/urls.py puts them
in the invoices namespace beside billing's (``invoices:send``); ``credit_note_patterns``
likewise (``credit_notes:send``)."""

from django.urls import path

from . import views

app_name = "outbox"

urlpatterns = [
    path("", views.message_list, name="list"),
    path("test/", views.test_email, name="test"),
    path("<int:pk>/", views.message_detail, name="detail"),
    path("<int:pk>/attachment/", views.message_attachment, name="attachment"),
    path("<int:pk>/retry/", views.message_retry, name="retry"),
    path("<int:pk>/dealt-with/", views.message_dealt_with, name="dealt_with"),
]

invoice_patterns = [
    path("id/<int:pk>/send/", views.send_invoice, name="send"),
]

credit_note_patterns = [
    path("<int:pk>/send/", views.send_credit_note, name="send"),
]
