"""The import pages, under /imports/ (namespace ``imports``)."""

from django.urls import path

from . import views

app_name = "imports"

urlpatterns = [
    path("", views.import_upload, name="index"),
    path("template/<str:kind>.csv", views.import_template, name="template"),
    # A text argument, read as a UUID by the view: anything else is "not found".
    path("<str:pk>/", views.import_preview, name="preview"),
]
