"""Adherence: sessions done against the prescription, week by week.

Pure arithmetic over plain values, shared by her progress page and her coach's views.
A prescription of N days a week is met by logging it on N different days of that program
week; extra days do not make up for another exercise.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Target:
    key: int
    days_per_week: int


@dataclass(frozen=True)
class Line:
    target: Target
    done: int  # distinct days, capped at the target

    @property
    def met(self) -> bool:
        return self.done >= self.target.days_per_week


@dataclass(frozen=True)
class WeekTally:
    week: int
    first: date
    last: date
    lines: tuple[Line, ...]

    @property
    def done(self) -> int:
        return sum(line.done for line in self.lines)

    @property
    def expected(self) -> int:
        return sum(line.target.days_per_week for line in self.lines)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.expected) if self.expected else 0


def tally_week(
    week: int,
    first: date,
    last: date,
    targets: Iterable[Target],
    logs: Iterable[tuple[int, date]],
) -> WeekTally:
    """Count, for each target, the distinct days in [first, last] it was logged."""
    days: dict[int, set[date]] = {}
    for key, day in logs:
        if first <= day <= last:
            days.setdefault(key, set()).add(day)
    lines = tuple(
        Line(target, min(len(days.get(target.key, ())), target.days_per_week)) for target in targets
    )
    return WeekTally(week, first, last, lines)
