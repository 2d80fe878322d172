"""Adherence: sessions done against the prescription, week by week.

Pure arithmetic over plain values, shared by her progress page and her coach's views.
A prescription of N days a week is met by logging it on N different days of that program
week; extra days do not make up for another exercise.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from programs import schedule


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


def weekly(
    facts: schedule.EnrolmentFacts, logs: list[tuple[int, date]], now: datetime
) -> list[WeekTally]:
    """Each program week so far, against the prescriptions on her daily list that week (as it
    stood at the week's end, so a stage opened mid-week counts in full)."""
    today = now.astimezone(facts.tz).date()
    current = schedule.snapshot(facts, now)
    tallies = []
    for week in range(1, current.week + 1):
        at_end = schedule.week_snapshot(facts, week, now)
        span = schedule.week_dates(facts, week, today)
        if at_end is None or span is None:
            break
        targets = [Target(p.key, p.days_per_week) for s in at_end.focus for p in s.prescriptions]
        tallies.append(tally_week(week, span[0], span[1], targets, logs))
    return tallies


def last_days(
    facts: schedule.EnrolmentFacts, logs: list[tuple[int, date]], now: datetime, days: int = 7
) -> WeekTally:
    """The last `days` local days (today included) against today's daily list; in her first
    days, only the days since she started, each prescription asking for at most one session a
    day."""
    snap = schedule.snapshot(facts, now)
    # A window reaching back before her start only counts the days since she started.
    first = max(snap.today - timedelta(days=days - 1), facts.start_date)
    length = (snap.today - first).days + 1
    targets = [
        Target(p.key, min(p.days_per_week, length)) for s in snap.focus for p in s.prescriptions
    ]
    return tally_week(snap.week, first, snap.today, targets if length > 0 else [], logs)


def overall(tallies: Iterable[WeekTally]) -> tuple[int, int]:
    """(sessions done, sessions prescribed) over the given weeks."""
    tallies = list(tallies)
    return sum(t.done for t in tallies), sum(t.expected for t in tallies)
