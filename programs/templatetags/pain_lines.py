"""{% pain_line chart %}: a dashboard row's small pain line (a programs.charts.Line) as inline
SVG, its 0–10 axis marked at the ends and each check-in's value above its point; its
description says the same in words for screen readers.

Drawn here rather than by a template: a page has a line on every row, and a template renders
each of its dozens of values separately, which was most of the dashboard's time.
"""

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString

from programs.charts import Line

register = template.Library()

# Up to this many points each have their value written; beyond, only the last one.
LABELLED = 6


@register.simple_tag
def pain_line(chart: Line) -> SafeString:
    description = escape(chart.description)
    left, top, bottom = chart.left, chart.top, chart.bottom
    width, height = chart.width, chart.height
    parts = [
        f'<svg class="pain-chart" role="img" aria-label="{description}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}">\n'
        f"  <title>{description}</title>\n"
        '  <g class="axis" aria-hidden="true">\n'
        f'    <line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}"/>\n'
        f'    <line x1="{left}" y1="{bottom}" x2="{width}" y2="{bottom}"/>\n'
        f'    <text x="{left - 3}" y="{top}" dy="0.35em" text-anchor="end">10</text>\n'
        f'    <text x="{left - 3}" y="{bottom}" dy="0.1em" text-anchor="end">0</text>\n'
        "  </g>\n  "
    ]
    if chart.points:
        parts.append(f'<polyline points="{escape(chart.points)}"/>')
    parts.append('\n  <g aria-hidden="true">')
    last = len(chart.dots) - 1
    for i, (x, y, value) in enumerate(chart.dots):
        parts.append(f'<circle cx="{x}" cy="{y}" r="2.5"/>')
        if i == last or len(chart.dots) <= LABELLED:
            parts.append(
                f'<text class="value" x="{x}" y="{y}" dy="-4" text-anchor="middle">{value}</text>'
            )
    parts.append("</g>\n</svg>\n")
    # Numbers and our own escaped description only.
    return SafeString("".join(parts))
