"""A quote's own link, for its client, without a login (SPEC: Client portal and document
links). otb/urls.py mounts these under /q/, in the namespace ``quote_link``."""

from django.urls import path

from . import public_views

urlpatterns = [
    path("<str:token>/", public_views.quote_page, name="page"),
    path("<str:token>/pdf/", public_views.quote_pdf, name="pdf"),
    # Anything else under /q/ (a link cut short or with more added): the same "not found",
    # and, unlike Django's own 404, its path (maybe holding a token) is not logged.
    path("", public_views.nothing_here),
    path("<path:rest>", public_views.nothing_here),
]
