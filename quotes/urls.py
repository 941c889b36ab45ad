"""The office pages of quotes, included by otb/urls.py under the "quotes" namespace."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.quote_list, name="list"),
    path("new/", views.quote_create, name="create"),
    path("preview/", views.quote_preview, name="preview"),
    path("<int:pk>/", views.quote_detail, name="detail"),
    path("<int:pk>/print/", views.quote_print, name="print"),
    path("<int:pk>/pdf/", views.quote_pdf_view, name="pdf"),
    path("<int:pk>/edit/", views.quote_edit, name="edit"),
    path("<int:pk>/delete/", views.quote_delete, name="delete"),
    path("<int:pk>/mark-sent/", views.quote_mark_sent, name="mark_sent"),
    path("<int:pk>/withdraw/", views.quote_withdraw, name="withdraw"),
    path("<int:pk>/answer/", views.quote_answer, name="answer"),
    path("<int:pk>/convert/", views.quote_convert, name="convert"),
    path("<int:pk>/duplicate/", views.quote_duplicate, name="duplicate"),
]
