"""Small charts drawn on the server as inline SVG: no chart library, no JavaScript.

Each chart is plain geometry for a template to draw, worked out from plain values (no ORM, no
clock: the caller passes today), with a sentence or table rows that say the same thing for
screen readers.
"""

from __future__ import annotations

import calendar
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Line:
    """A small pain line for a row of the coach's dashboard: a 0–10 axis marked at its ends,
    and each point's value written above it."""

    width: int
    height: int
    left: int  # x of the axis
    top: int  # y of 10
    bottom: int  # y of 0
    points: str  # for <polyline points="...">
    dots: tuple[tuple[float, float, int], ...]  # x, y and the value, for each point
    description: str


def pain_line(pains: Sequence[int], width: int = 140, height: int = 46) -> Line:
    """Pain scores (0 to 10) over time, oldest first, as a small line with its axis."""
    left, right, top, bottom = 16, width - 6, 11, height - 4
    if not pains:
        return Line(width, height, left, top, bottom, "", (), "No check-ins yet.")
    first = left + 4  # the first point clear of the axis
    step = (right - first) / max(len(pains) - 1, 1)
    dots = tuple(
        (
            round(first + i * step, 1),
            round(bottom - (bottom - top) * max(0, min(10, p)) / 10, 1),
            p,
        )
        for i, p in enumerate(pains)
    )
    points = " ".join(f"{x},{y}" for x, y, _ in dots)
    scores = ", ".join(str(p) for p in pains)
    description = f"Pain at each check-in, oldest first, out of 10: {scores}."
    return Line(width, height, left, top, bottom, points, dots, description)


@dataclass(frozen=True)
class Tick:
    position: float  # y for a vertical axis, x for a horizontal one
    label: str


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    value: int
    day: date
    label_y: float  # where its value is written, above the dot


@dataclass(frozen=True)
class Plot:
    """The drawing area inside the axes."""

    left: float
    top: float
    right: float
    bottom: float


@dataclass(frozen=True)
class Trend:
    """Pain over time with a 0–10 axis, each point dated and its value written beside it."""

    width: int
    height: int
    plot: Plot
    points: str
    dots: tuple[Dot, ...]
    y_ticks: tuple[Tick, ...]
    x_ticks: tuple[Tick, ...]
    description: str


def _short(day: date) -> str:
    return f"{day.day} {day:%b}"


def pain_trend(readings: Sequence[tuple[date, int]], width: int = 320, height: int = 170) -> Trend:
    """Pain scores (0 to 10) on the days she gave them, oldest first, with axes.

    Every point's value is written above it; dates are written under as many points as fit
    (about one per 48 px), always the first and the last.
    """
    plot = Plot(left=26, top=16, right=width - 10, bottom=height - 22)
    span = plot.bottom - plot.top
    y_ticks = tuple(
        Tick(round(plot.bottom - span * value / 10, 1), str(value)) for value in range(0, 11, 2)
    )
    if not readings:
        return Trend(width, height, plot, "", (), y_ticks, (), "No check-ins yet.")
    # The points stand clear of the axis and of the right edge, so their labels do too.
    first, last = plot.left + 12, plot.right - 8
    step = (last - first) / max(len(readings) - 1, 1)
    dots = []
    for i, (day, value) in enumerate(readings):
        value = max(0, min(10, value))
        x = round(first + i * step if len(readings) > 1 else (first + last) / 2, 1)
        y = round(plot.bottom - span * value / 10, 1)
        dots.append(Dot(x, y, value, day, round(y - 6, 1)))
    every = max(1, -(-len(dots) * 48 // int(last - first)))  # ceiling division
    shown = list(range(0, len(dots), every))
    if shown[-1] != len(dots) - 1:
        # The last date always shows; it takes the place of a label too close to it.
        if len(shown) > 1 and len(dots) - 1 - shown[-1] < every:
            shown.pop()
        shown.append(len(dots) - 1)
    x_ticks = tuple(Tick(dots[i].x, _short(dots[i].day)) for i in shown)
    points = " ".join(f"{d.x},{d.y}" for d in dots)
    said = ", ".join(f"{_short(d.day)}: {d.value}" for d in dots)
    description = f"Pain out of 10 at each check-in, oldest first. {said}."
    return Trend(width, height, plot, points, tuple(dots), y_ticks, x_ticks, description)


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    name: str  # under the bar, e.g. "W3"
    centre: float  # x of its labels
    label_y: float  # where its percentage is written, above the bar


@dataclass(frozen=True)
class Bars:
    """Percentages as bars on a 0–100 % axis, each bar labelled with its value."""

    width: int
    height: int
    plot: Plot
    bars: tuple[Bar, ...]
    y_ticks: tuple[Tick, ...]
    description: str


def percent_bars(values: Sequence[int], width: int = 320, height: int = 150) -> Bars:
    """Percentages (0 to 100), one bar each, e.g. adherence per program week."""
    plot = Plot(left=38, top=16, right=width - 6, bottom=height - 20)
    span = plot.bottom - plot.top
    y_ticks = tuple(Tick(round(plot.bottom - span * v / 100, 1), f"{v}%") for v in (0, 50, 100))
    if not values:
        return Bars(width, height, plot, (), y_ticks, "No weeks yet.")
    gap = 6
    bar_width = (plot.right - plot.left - gap * len(values)) / len(values)
    bars = []
    for i, value in enumerate(values):
        value = max(0, min(100, value))
        bar_height = round(span * value / 100, 1)
        x = round(plot.left + gap / 2 + i * (bar_width + gap), 1)
        y = round(plot.bottom - bar_height, 1)
        centre = round(x + bar_width / 2, 1)
        bars.append(
            Bar(x, y, round(bar_width, 1), bar_height, value, f"W{i + 1}", centre, round(y - 4, 1))
        )
    weeks = ", ".join(f"week {i + 1}: {v}%" for i, v in enumerate(values))
    description = f"Sessions done against the prescription, {weeks}."
    return Bars(width, height, plot, tuple(bars), y_ticks, description)


# Her training calendar and streak. Days are dates in her own time zone: the caller turns
# instants into dates with local_day, so a session at 00:30 after the clocks change counts on
# the day she did it.


def local_day(moment: datetime, zone: str | ZoneInfo) -> date:
    """The date in `zone` at an aware `moment`."""
    return moment.astimezone(zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)).date()


@dataclass(frozen=True)
class Day:
    day: date
    trained: bool
    today: bool
    future: bool
    x: float
    y: float

    @property
    def number(self) -> int:
        return self.day.day


@dataclass(frozen=True)
class Month:
    """A month laid out in weeks for an SVG grid, with its trained days marked."""

    first: date
    width: int
    height: int
    cell: int
    headers: tuple[Tick, ...]  # weekday initials across the top
    weeks: tuple[tuple[Day | None, ...], ...]  # None pads before the 1st and after the last
    trained: int
    description: str

    @property
    def days(self) -> tuple[Day, ...]:
        return tuple(d for week in self.weeks for d in week if d is not None)


def month_calendar(
    first: date, trained: Collection[date], today: date, first_weekday: int = calendar.MONDAY
) -> Month:
    """The month holding `first`, weeks starting on `first_weekday` (0 is Monday)."""
    first = first.replace(day=1)
    cell, header = 44, 20
    names = calendar.Calendar(first_weekday).iterweekdays()
    headers = tuple(
        Tick(i * cell + cell / 2, calendar.day_abbr[w][:2]) for i, w in enumerate(names)
    )
    weeks = []
    for row, week in enumerate(calendar.Calendar(first_weekday).monthdatescalendar(
        first.year, first.month
    )):  # fmt: skip
        weeks.append(
            tuple(
                Day(
                    day,
                    day in trained,
                    day == today,
                    day > today,
                    col * cell,
                    header + row * cell,
                )
                if day.month == first.month
                else None
                for col, day in enumerate(week)
            )
        )
    done = [d.number for week in weeks for d in week if d is not None and d.trained]
    count = len(done)
    name = f"{first:%B %Y}"
    if done:
        listed = ", ".join(str(n) for n in done[:-1])
        listed = f"{listed} and {done[-1]}" if listed else str(done[-1])
        plural = "s" if count != 1 else ""
        description = f"{name}: you trained on {count} day{plural}, the {listed}."
    else:
        description = f"{name}: no sessions logged."
    return Month(
        first, 7 * cell, header + len(weeks) * cell, cell, headers, tuple(weeks), count, description
    )


def previous_month(first: date) -> date:
    return (first.replace(day=1) - timedelta(days=1)).replace(day=1)


def next_month(first: date) -> date:
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1)


@dataclass(frozen=True)
class Streak:
    run: int  # days in a row up to today, or up to yesterday while today is still open
    last_seven: int  # days trained of the 7 ending today
    sentence: str


def streak(trained: Collection[date], today: date) -> Streak:
    """A gentle tally of the days she trained: never a count of days missed.

    Today not trained yet does not break the run (the day is not over); a rest day ends the run
    but still leaves the week's count, which is what the sentence leads with.
    """
    last_seven = sum(1 for i in range(7) if today - timedelta(days=i) in trained)
    day = today if today in trained else today - timedelta(days=1)
    run = 0
    while day in trained:
        run += 1
        day -= timedelta(days=1)
    if not last_seven:
        sentence = "Whenever you're ready, today is a good day to start again."
    else:
        sentence = f"You trained on {last_seven} of the last 7 days."
        if run >= 2:
            sentence += f" {run} days in a row, well done."
    return Streak(run, last_seven, sentence)
