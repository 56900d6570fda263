"""Server-side SVG charts for the admin dashboard: no JavaScript library, no CDN.

Each bar or slice carries a `<title>`, which browsers show as a tooltip.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

PALETTE = ["#2563eb", "#16a34a", "#f59e0b", "#dc2626", "#7c3aed", "#0891b2", "#db2777", "#65a30d"]


@dataclass(frozen=True)
class Point:
    label: str
    value: float | int | Decimal
    tooltip: str


def _nice_ceiling(value: float) -> float:
    if value <= 0:
        return 1.0
    exponent = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * exponent:
            return step * exponent
    return 10 * exponent


def _compact(value: float) -> str:
    for threshold, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= threshold:
            return f"{value / threshold:.1f}".rstrip("0").rstrip(".") + suffix
    return f"{value:.0f}"


def bar_chart(
    points: Sequence[Point],
    *,
    title: str,
    width: int = 720,
    height: int = 240,
    label_every: int = 1,
    color: str = PALETTE[0],
) -> SafeString:
    """Vertical bars with a y axis of four gridlines and x labels every `label_every` bars."""
    left, right, top, bottom = 48, 8, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = _nice_ceiling(max((float(p.value) for p in points), default=0))
    slot = plot_w / max(len(points), 1)
    bar_w = max(1.0, slot * 0.72)
    parts = [
        f'<svg class="wm-chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
        f'width="100%" preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for i in range(5):
        y = top + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" class="wm-grid"/>')
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="wm-axis">{_compact(peak * i / 4)}</text>'
        )
    for index, point in enumerate(points):
        value = float(point.value)
        bar_h = plot_h * value / peak if peak else 0
        x = left + index * slot + (slot - bar_w) / 2
        y = top + plot_h - bar_h
        parts.append(
            f'<rect class="wm-bar" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{max(bar_h, 0):.1f}" '
            f'fill="{color}" rx="2"><title>{escape(point.tooltip)}</title></rect>'
        )
        if index % label_every == 0:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{height - 10}" text-anchor="middle" class="wm-axis">'
                f"{escape(point.label)}</text>"
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above


def donut_chart(points: Sequence[Point], *, title: str, size: int = 200) -> SafeString:
    """A donut of shares with a legend; an empty donut (grey ring) when everything is 0."""
    radius, stroke = size / 2 - 18, 28
    cx = cy = size / 2
    circumference = 2 * math.pi * radius
    total = sum(float(p.value) for p in points)
    parts = [
        f'<svg class="wm-chart wm-donut" role="img" aria-label="{escape(title)}" viewBox="0 0 {size + 170} {size}" '
        f'width="100%" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        f'<circle cx="{cx}" cy="{cy}" r="{radius:.1f}" fill="none" stroke="#e5e7eb" stroke-width="{stroke}"/>',
    ]
    offset = 0.0
    for index, point in enumerate(points):
        share = float(point.value) / total if total else 0
        color = PALETTE[index % len(PALETTE)]
        if share > 0:
            length = share * circumference
            parts.append(
                f'<circle class="wm-slice" cx="{cx}" cy="{cy}" r="{radius:.1f}" fill="none" stroke="{color}" '
                f'stroke-width="{stroke}" stroke-dasharray="{length:.2f} {circumference - length:.2f}" '
                f'stroke-dashoffset="{-offset:.2f}" transform="rotate(-90 {cx} {cy})">'
                f"<title>{escape(point.tooltip)}</title></circle>"
            )
            offset += length
        y = 24 + index * 22
        parts.append(f'<rect x="{size + 10}" y="{y - 11}" width="12" height="12" rx="2" fill="{color}"/>')
        parts.append(
            f'<text x="{size + 28}" y="{y}" class="wm-legend">{escape(point.label)} · '
            f"{escape(_compact(float(point.value)))}</text>"
        )
    parts.append(f'<text x="{cx}" y="{cy + 6}" text-anchor="middle" class="wm-total">{_compact(total)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above
