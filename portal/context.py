"""What every portal page's template is given: the business (its name, logo and colours
show on each page, templates/portal/base.html) and the visitor's portal access."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from links.pages import logo_data_uri
from settings_app.selectors import get_business_settings


def page_context(request: HttpRequest, **more: Any) -> dict[str, Any]:
    business = get_business_settings()
    return {
        "business": business,
        "logo_url": logo_data_uri(business.logo),
        "portal": getattr(request, "portal", None),
        **more,
    }
