"""The client portal, under /portal/ in the namespace ``portal`` (otb/urls.py): signing in
and out (signin_views.py), the signed-in client's pages (page_urls.py), and the business's
colour for every client-facing page (brand.py)."""

from django.urls import path

from . import brand, page_urls
from . import signin_views as views
from .public_views import nothing_here

urlpatterns = [
    path("", views.sign_in, name="sign_in"),
    path("sign-in/<str:token>/", views.sign_in_link, name="sign_in_link"),
    # A sign-in link cut short or with more added: its path may hold a token; never logged.
    path("sign-in/", nothing_here),
    path("sign-in/<path:rest>", nothing_here),
    path("choose/", views.choose, name="choose"),
    path("sign-out/", views.sign_out, name="sign_out"),
    path("sign-out-everywhere/", views.sign_out_everywhere, name="sign_out_everywhere"),
    path("brand.css", brand.brand_css, name="brand_css"),
    *page_urls.urlpatterns,
]
