"""The office's pages of document links: otb/urls.py mounts them under /links/ in the
namespace ``links``. (A link's own pages, for the client, are each document's: /q/, /i/,
/c/, /s/.)"""

from django.urls import path

from . import views

urlpatterns = [
    path("<int:pk>/revoke/", views.revoke, name="revoke"),
]
