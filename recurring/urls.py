"""The office pages of recurring schedules, included by otb/urls.py under the "recurring"
namespace."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.schedule_list, name="list"),
    path("new/", views.schedule_create, name="create"),
    path("preview/", views.schedule_preview, name="preview"),
    path("<int:pk>/", views.schedule_detail, name="detail"),
    path("<int:pk>/edit/", views.schedule_edit, name="edit"),
    path("<int:pk>/pause/", views.schedule_pause, name="pause"),
    path("<int:pk>/resume/", views.schedule_resume, name="resume"),
    path("<int:pk>/end/", views.schedule_end, name="end"),
    path("<int:pk>/delete/", views.schedule_delete, name="delete"),
]
