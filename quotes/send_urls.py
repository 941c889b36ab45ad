"""Sending a quote by e-mail and revoking its links: otb/urls.py mounts these under
/quotes/, beside the quote pages, in the namespace ``quote_sending``."""

from django.urls import path

from . import send_views

urlpatterns = [
    path("<int:pk>/send/", send_views.send_quote, name="send"),
    path("<int:pk>/links/<int:link_pk>/revoke/", send_views.revoke_link, name="revoke_link"),
]
