"""``/healthz``: whether this process can serve requests, for the installer and monitors.

Answers without a login, so it says no more than "ok", the version and whether the database
answers; 503 when it does not.
"""

from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from otb.version import app_version


@login_not_required
@never_cache
@require_GET
def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse(
            {"status": "error", "database": "unavailable", "version": app_version()}, status=503
        )
    return JsonResponse({"status": "ok", "database": "ok", "version": app_version()})
