"""Charts drawn on the server as SVG: no script, no external service, the same in the page,
on paper and offline."""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from django.utils import formats
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.money import format_money
from otb.numbers import format_number

WIDTH, HEIGHT = 720, 270
RIGHT, TOP, BOTTOM = 12, 16, 52
# Labels under the bars: at most this many, so that they never run together.
MOST_LABELS = 12
SERIES = (
    ("invoiced", gettext_lazy("Invoiced"), "#0d6efd"),
    ("collected", gettext_lazy("Collected"), "#198754"),
)


@dataclass(frozen=True)
class PeriodLabel:
    """What a period is called under its bars: "Jan" over "2026" (the year under the first
    label of each year), "Q1" over "2026", or "2026"; ``name`` is empty where the bars are
    too many to name each (every second or third is named), ``full`` names it in titles."""

    name: str
    year: str
    full: str


def period_name(start: datetime.date, period: str) -> str:
    """A period as tables and titles name it: "Jan 2026", "Q1 2026", "2026"."""
    if period == "month":
        return formats.date_format(start, "M Y")
    if period == "quarter":
        return f"Q{(start.month - 1) // 3 + 1} {start.year}"
    return str(start.year)


def period_labels(starts: list[datetime.date], period: str) -> list[PeriodLabel]:
    every = max(1, math.ceil(len(starts) / MOST_LABELS))
    labels = []
    last_year = None
    for index, start in enumerate(starts):
        full = period_name(start, period)
        # The name without its year, which goes under it: "Jan", "Q1"; a year is its name.
        name = full.rsplit(" ", 1)[0] if period != "year" else full
        if index % every:
            labels.append(PeriodLabel("", "", full))
            continue
        year = str(start.year) if period != "year" and start.year != last_year else ""
        last_year = start.year
        labels.append(PeriodLabel(name, year, full))
    return labels


def _nice_step(span: Decimal, steps: int = 4) -> Decimal:
    """A round step (1, 2 or 5 times a power of ten) that covers ``span`` in ``steps``."""
    if span <= 0:
        return Decimal(1)
    raw = float(span) / steps
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return Decimal(str(factor * power))
    return Decimal(str(10 * power))


def _scale(values: list[Decimal]) -> tuple[Decimal, Decimal, Decimal]:
    """The axis (bottom, top, step): round numbers holding every value and zero, so that a
    negative period (a month of reversals) has room below the zero line."""
    low, high = min([Decimal(0), *values]), max([Decimal(0), *values])
    step = _nice_step(high - low)
    bottom = (low / step).to_integral_value(rounding=ROUND_FLOOR) * step
    top = (high / step).to_integral_value(rounding=ROUND_CEILING) * step
    return bottom, max(top, bottom + step), step


def invoiced_collected_svg(periods, *, currency: str, labels: list[PeriodLabel]) -> SafeString:
    """Bars of invoiced against collected per period (``periods`` have ``invoiced`` and
    ``collected``); a negative figure (reversals over collections) is a bar below zero."""
    bottom, top, step = _scale([getattr(p, name) for p in periods for name, *_ in SERIES])
    ticks = [bottom + step * n for n in range(int((top - bottom) / step) + 1)]
    tick_texts = [format_number(value) for value in ticks]
    # Room for the longest tick at the phone's larger font (static/otb/site.css).
    left = 16 + 11 * max(len(text) for text in tick_texts)
    plot_width = WIDTH - left - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    slot = plot_width / max(len(periods), 1)
    bar = min(slot * 0.38, 28)

    def y(value: Decimal) -> float:
        return TOP + float((top - value) / (top - bottom)) * plot_height

    zero = y(Decimal(0))
    title = _("Invoiced and collected per period, %(currency)s") % {"currency": currency}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="{escape(title)}" class="report-chart">',
        f"<title>{escape(title)}</title>",
    ]
    for value, text in zip(ticks, tick_texts, strict=True):
        ty = y(value)
        colour = "#6c757d" if value == 0 else "#dee2e6"
        parts.append(
            f'<line x1="{left}" x2="{WIDTH - RIGHT}" y1="{ty:.1f}" y2="{ty:.1f}" '
            f'stroke="{colour}" stroke-width="1"/>'
            f'<text x="{left - 6}" y="{ty + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#6c757d" class="tick-label">{escape(text)}</text>'
        )
    for index, (period, label) in enumerate(zip(periods, labels, strict=True)):
        middle = left + slot * index + slot / 2
        for offset, (name, series_label, colour) in enumerate(SERIES):
            value = getattr(period, name)
            words = f"{label.full}: {series_label} {format_money(value, currency)}"
            negative = " negative" if value < 0 else ""
            parts.append(
                f'<rect x="{middle - bar + offset * bar:.1f}" y="{min(y(value), zero):.1f}" '
                f'width="{bar:.1f}" height="{abs(y(value) - zero):.1f}" fill="{colour}" '
                f'class="bar-{name}{negative}"><title>{escape(words)}</title></rect>'
            )
        if label.name:
            parts.append(
                f'<text x="{middle:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" '
                f'font-size="11" fill="#495057" class="axis-label">{escape(label.name)}'
                + (
                    f'<tspan x="{middle:.1f}" dy="1.2em" class="axis-year">'
                    f"{escape(label.year)}</tspan>"
                    if label.year
                    else ""
                )
                + "</text>"
            )
    legend_y = HEIGHT - 6
    for offset, (_name, series_label, colour) in enumerate(SERIES):
        lx = left + offset * 110
        parts.append(
            f'<rect x="{lx}" y="{legend_y - 9}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{lx + 14}" y="{legend_y}" font-size="11" fill="#212529">'
            f"{escape(series_label)}</text>"
        )
    parts.append("</svg>")
    # Every text above went through escape().
    return mark_safe("".join(parts))
