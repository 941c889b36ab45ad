"""The business's colour on the portal's and the document links' pages, as a stylesheet:
the Content-Security-Policy allows no inline style."""

from __future__ import annotations

import re

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

from settings_app.models import BRAND_COLOUR_PATTERN, DEFAULT_BRAND_COLOUR
from settings_app.selectors import get_business_settings

WHITE_TEXT_CONTRAST = 4.5
# A minute: a changed colour shows soon, and a page's reloads do not ask each time.
MAX_AGE = 60


def text_colour(colour: str) -> str:
    """White on ``colour`` (#RRGGBB) when it reads well enough (WCAG AA, a contrast of 4.5
    to 1, as Bootstrap's own blue has), else black."""
    channels = []
    for start in (1, 3, 5):
        value = int(colour[start : start + 2], 16) / 255
        channels.append(value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4)
    red, green, blue = channels
    luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue
    return "#fff" if (1.05 / (luminance + 0.05)) >= WHITE_TEXT_CONTRAST else "#000"


def brand_stylesheet(colour: str) -> str:
    return (
        ".public-page {\n"
        f"  --otb-brand: {colour};\n"
        f"  --otb-brand-text: {text_colour(colour)};\n"
        "}\n"
    )


@login_not_required
@require_safe
def brand_css(request: HttpRequest) -> HttpResponse:
    colour = get_business_settings().brand_colour
    if not re.fullmatch(BRAND_COLOUR_PATTERN, colour or ""):  # never anything else in CSS
        colour = DEFAULT_BRAND_COLOUR
    response = HttpResponse(brand_stylesheet(colour), content_type="text/css; charset=utf-8")
    patch_cache_control(response, public=True, max_age=MAX_AGE)
    return response
