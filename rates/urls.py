"""The office pages of exchange rates, under /rates/ (namespace ``rates``)."""

from django.urls import path

from . import views

app_name = "rates"
urlpatterns = [
    path("", views.rate_list, name="list"),
    path("new/", views.rate_create, name="create"),
    path("<int:pk>/edit/", views.rate_edit, name="edit"),
    path("<int:pk>/delete/", views.rate_delete, name="delete"),
]
