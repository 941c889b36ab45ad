"""Charts drawn on the server as SVG: no script, no external service, the same in the page,
on paper and offline."""

from __future__ import annotations

import math
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.money import format_money

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 78, 12, 16, 40
SERIES = (
    ("invoiced", gettext_lazy("Invoiced"), "#0d6efd"),
    ("collected", gettext_lazy("Collected"), "#198754"),
)


def _nice_step(maximum: Decimal, steps: int = 4) -> Decimal:
    """A round step (1, 2 or 5 times a power of ten) that covers ``maximum`` in ``steps``."""
    if maximum <= 0:
        return Decimal(1)
    raw = float(maximum) / steps
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return Decimal(str(factor * power))
    return Decimal(str(10 * power))


def invoiced_collected_svg(periods, *, currency: str, labels: list[str]) -> SafeString:
    """Bars of invoiced against collected per period (``periods`` have ``invoiced`` and
    ``collected``); a negative month of collections (reversals) draws no bar."""
    values = [max(p.invoiced, p.collected, Decimal(0)) for p in periods]
    step = _nice_step(max(values, default=Decimal(0)))
    top = step * 4
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    slot = plot_width / max(len(periods), 1)
    bar = min(slot * 0.38, 28)

    def y(value: Decimal) -> float:
        return TOP + plot_height - float(max(value, Decimal(0)) / top) * plot_height

    title = _("Invoiced and collected per period, %(currency)s") % {"currency": currency}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="{escape(title)}" class="report-chart">',
        f"<title>{escape(title)}</title>",
    ]
    for tick in range(5):
        value = step * tick
        ty = y(value)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{ty:.1f}" y2="{ty:.1f}" '
            f'stroke="#dee2e6" stroke-width="1"/>'
            f'<text x="{LEFT - 6}" y="{ty + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#6c757d">{escape(format_money(value))}</text>'
        )
    for index, (period, label) in enumerate(zip(periods, labels, strict=True)):
        x0 = LEFT + slot * index + slot / 2 - bar
        for offset, (name, series_label, colour) in enumerate(SERIES):
            value = getattr(period, name)
            height = TOP + plot_height - y(value)
            words = f"{label}: {series_label} {format_money(value, currency)}"
            parts.append(
                f'<rect x="{x0 + offset * bar:.1f}" y="{y(value):.1f}" width="{bar:.1f}" '
                f'height="{height:.1f}" fill="{colour}" class="bar-{name}">'
                f"<title>{escape(words)}</title></rect>"
            )
        parts.append(
            f'<text x="{LEFT + slot * index + slot / 2:.1f}" y="{HEIGHT - BOTTOM + 16}" '
            f'text-anchor="middle" font-size="11" fill="#495057">{escape(label)}</text>'
        )
    legend_y = HEIGHT - 8
    for offset, (_name, series_label, colour) in enumerate(SERIES):
        lx = LEFT + offset * 110
        parts.append(
            f'<rect x="{lx}" y="{legend_y - 9}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{lx + 14}" y="{legend_y}" font-size="11" fill="#212529">'
            f"{escape(series_label)}</text>"
        )
    parts.append("</svg>")
    # Every text above went through escape().
    return mark_safe("".join(parts))
