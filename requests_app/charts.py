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
    slot = min(BAR + GAP, max((WIDTH - 40) // max(len(items), 1), 4))
    bar = max(slot - 2, 2)
    # Labels at least 14 units apart: with many bars only every n-th is labelled (each bar
    # still names itself in its <title>, and the table beside lists them all).
    every = math.ceil(14 / slot)
    parts = []
    for index, (label, value) in enumerate(items):
        x = 40 + index * slot
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
        '<line class="stats-axis" x1="38" y1="{y}" x2="{x2}" y2="{y}"/>'
        '<text class="stats-value" x="34" y="12" text-anchor="end">{top}</text>'
        '<text class="stats-value" x="34" y="{y}" text-anchor="end">0</text>',
        y=PLOT_HEIGHT,
        x2=40 + len(items) * slot,
        top=highest,
    )
    body = format_html_join(
        "",
        '<rect class="stats-bar" x="{}" y="{}" width="{}" height="{}"><title>{}</title></rect>'
        '<text class="stats-label" x="{}" y="{}" text-anchor="end" '
        'transform="rotate(-60 {} {})">{}</text>',
        parts,
    )
    return axis + body, max(WIDTH, 40 + len(items) * slot + 10), PLOT_HEIGHT + AXIS_HEIGHT + 10
