"""{% exercise_figure exercise as drawing %}: the exercise's drawing, or "" when it has none."""

from django import template
from django.utils.safestring import mark_safe

from programs.poses import svg_for

register = template.Library()


@register.simple_tag
def exercise_figure(exercise) -> str:
    drawing = svg_for(getattr(exercise, "slug", "") or "")
    # Our own markup from programs/figures.py: the alt text in it is escaped there.
    return mark_safe(drawing) if drawing else ""  # noqa: S308
