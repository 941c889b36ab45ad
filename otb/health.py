"""``/healthz``: whether this process can serve requests, for the installer and monitors.

Answers without a login, so it says no more than "ok" and whether the database answers (503
when it does not); the version only to a signed-in user or a caller on this machine (the
installer, a local monitor): a version tells an attacker which holes to try.
"""

from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from audit.addresses import client_address
from otb.version import app_version

LOCAL = {"127.0.0.1", "::1"}


@login_not_required
@never_cache
@require_GET
def healthz(request):
    body: dict[str, str] = {}
    # The address nginx saw, not nginx's own (audit.addresses): through the proxy, nobody
    # is "on this machine".
    if request.user.is_authenticated or client_address(request) in LOCAL:
        body["version"] = app_version()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "error", "database": "unavailable", **body}, status=503)
    return JsonResponse({"status": "ok", "database": "ok", **body})
