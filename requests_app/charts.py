"""Bar charts drawn on the server as inline SVG, for the statistics page: no script, no
external file, readable by a screen reader (role="img", a <title> and a <desc>) and always
shown beside a table with the same numbers.

The colours come from classes in static/css/admin.css (the Content-Security-Policy allows no
inline style).
"""

import math

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext

WIDTH = 640
BAR = 22  # a horizontal bar's height, or a vertical bar's slot width at most
GAP = 6
LABEL_WIDTH = 220  # left of horizontal bars
VALUE_WIDTH = 60  # right of horizontal bars
PLOT_HEIGHT = 180  # vertical charts
AXIS_HEIGHT = 46  # below vertical bars: the labels, turned


def _truncated(label: str, length: int = 18) -> str:
    return label if len(label) <= length else label[: length - 1] + "…"


def bar_chart(items, *, title: str, chart_id: str, vertical: bool = False) -> SafeString:
    """`items`: (label, count) pairs, in the order to draw. Returns the <svg> element."""
    items = list(items)
    highest = max((value for _label, value in items), default=0) or 1
    desc = gettext("Bar chart; the table beside it gives the same numbers.")
    if vertical:
        body, width, height = _vertical(items, highest)
    else:
        body, width, height = _horizontal(items, highest)
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="stats-chart" role="img" '
        'width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
        'aria-labelledby="{id}-title {id}-desc"><title id="{id}-title">{title}</title>'
        '<desc id="{id}-desc">{desc}</desc>{body}</svg>',
        w=width,
        h=height,
        id=chart_id,
        title=title,
        desc=desc,
        body=body,
    )


def _horizontal(items, highest):
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    parts = []
    for index, (label, value) in enumerate(items):
        y = index * (BAR + GAP)
        length = round(span * value / highest)
        parts.append(
            (
                LABEL_WIDTH - 8,
                y + BAR * 0.7,
                _truncated(label),
                LABEL_WIDTH,
                y,
                length,
                BAR,
                f"{label}: {value}",
                LABEL_WIDTH + length + 6,
                y + BAR * 0.7,
                value,
            )
        )
    body = format_html_join(
        "",
        '<text class="stats-label" x="{}" y="{}" text-anchor="end">{}</text>'
        '<rect class="stats-bar" x="{}" y="{}" width="{}" height="{}"><title>{}</title></rect>'
        '<text class="stats-value" x="{}" y="{}">{}</text>',
        parts,
    )
    return body, WIDTH, max(len(items), 1) * (BAR + GAP)


def _vertical(items, highest):
    # Room on the left for the axis's highest value.
    left = 16 + 8 * len(str(highest))
    slot = min(2 * BAR, max((WIDTH - left) // max(len(items), 1), 4))
    bar = max(slot - 4, 2)
    # Labels at least 14 units apart: with many bars only every n-th is labelled (each bar
    # still names itself in its <title>, and the table beside lists them all).
    every = math.ceil(14 / slot)
    parts = []
    for index, (label, value) in enumerate(items):
        x = left + index * slot
        length = round(PLOT_HEIGHT * value / highest)
        parts.append(
            (
                x,
                PLOT_HEIGHT - length,
                bar,
                length,
                f"{label}: {value}",
                x + bar / 2,
                PLOT_HEIGHT + 8,
                x + bar / 2,
                PLOT_HEIGHT + 8,
                label if index % every == 0 else "",
            )
        )
    axis = format_html(
        '<line class="stats-axis" x1="{x1}" y1="{y}" x2="{x2}" y2="{y}"/>'
        '<text class="stats-value" x="{at}" y="12" text-anchor="end">{top}</text>'
        '<text class="stats-value" x="{at}" y="{y}" text-anchor="end">0</text>',
        x1=left - 2,
        y=PLOT_HEIGHT,
        x2=left + len(items) * slot,
        at=left - 6,
        top=highest,
    )
    body = format_html_join(
        "",
        '<rect class="stats-bar" x="{}" y="{}" width="{}" height="{}"><title>{}</title></rect>'
        '<text class="stats-label" x="{}" y="{}" text-anchor="end" '
        'transform="rotate(-60 {} {})">{}</text>',
        parts,
    )
    width = max(WIDTH, left + len(items) * slot + 10)
    return axis + body, width, PLOT_HEIGHT + AXIS_HEIGHT + 10
