"""Sending a quote by e-mail: otb/urls.py mounts this under /quotes/, beside the quote pages,
in the namespace ``quote_sending``. Its links are revoked by links/urls.py."""

from django.urls import path

from . import send_views

urlpatterns = [
    path("<int:pk>/send/", send_views.send_quote, name="send"),
]
