"""What every portal page's template is given: the business (its name, logo and colours
show on each page, templates/portal/base.html) and the visitor's portal access."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from links.pages import with_business


def page_context(request: HttpRequest, **more: Any) -> dict[str, Any]:
    return with_business({"portal": getattr(request, "portal", None), **more})
