"""The project's URLs and one that fails, for the error page test."""

from django.urls import path

from otb.urls import urlpatterns as project_urls


def fail(request):
    raise RuntimeError("a failure for the error page test")


urlpatterns = [path("fail-for-test/", fail), *project_urls]
