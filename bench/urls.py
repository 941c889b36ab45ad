"""The project's URLs plus /bench/hello/, the cheapest page Django can serve.

The throughput phase compares the invoice page with it: the ratio says how much of a
request's cost is the page's own work rather than the server, middleware and session.
Bench only: it must never be added to otb/urls.py.
"""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.urls import path

from otb.urls import urlpatterns as base


@login_not_required
def hello(request):
    return HttpResponse("hello")


urlpatterns = [*base, path("bench/hello/", hello)]
