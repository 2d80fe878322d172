"""Small charts drawn on the server as inline SVG: no chart library, no JavaScript.

Each chart is plain geometry for a template to draw, with a sentence that says the same thing
for screen readers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Line:
    width: int
    height: int
    points: str  # for <polyline points="...">
    dots: tuple[tuple[float, float, int], ...]  # x, y and the value, for each point
    description: str


@dataclass(frozen=True)
class Bars:
    width: int
    height: int
    bars: tuple[tuple[float, float, float, float, str], ...]  # x, y, width, height, label
    description: str


def pain_line(pains: Sequence[int], width: int = 120, height: int = 32) -> Line:
    """Pain scores (0 to 10) over time, oldest first."""
    pad = 3
    if not pains:
        return Line(width, height, "", (), "No check-ins yet.")
    step = (width - 2 * pad) / max(len(pains) - 1, 1)
    dots = tuple(
        (round(pad + i * step, 1), round(height - pad - (height - 2 * pad) * p / 10, 1), p)
        for i, p in enumerate(pains)
    )
    points = " ".join(f"{x},{y}" for x, y, _ in dots)
    scores = ", ".join(str(p) for p in pains)
    description = f"Pain at each check-in, oldest first, out of 10: {scores}."
    return Line(width, height, points, dots, description)


def percent_bars(values: Sequence[int], width: int = 240, height: int = 60) -> Bars:
    """Percentages (0 to 100), one bar each, e.g. adherence per program week."""
    if not values:
        return Bars(width, height, (), "No weeks yet.")
    gap = 4
    bar_width = (width - gap * (len(values) - 1)) / len(values)
    bars = []
    for i, value in enumerate(values):
        value = max(0, min(100, value))
        bar_height = round((height - 12) * value / 100, 1)
        x = round(i * (bar_width + gap), 1)
        bars.append(
            (x, round(height - bar_height, 1), round(bar_width, 1), bar_height, f"{value}%")
        )
    weeks = ", ".join(f"week {i + 1}: {v}%" for i, v in enumerate(values))
    return Bars(width, height, tuple(bars), f"Sessions done against the prescription, {weeks}.")
