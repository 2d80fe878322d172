"""Adherence: sessions done against the prescription, week by week.

Pure arithmetic over plain values, shared by her progress page and her coach's views.
A prescription of N days a week is met by logging it on N different days of that program
week; extra days do not make up for another exercise.

Only what was prescribed to her on each day counts: a day counts for an exercise if it was on
her daily list at the end of that day (today: now). An override, a clearance, a hold, her coach's
tailoring or a move to another program on day D changes nothing before D. An exercise on her
list for fewer than N days of a week (a stage opened mid-week) asks for one session on each of
those days at most.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from programs import schedule


def percent(done: int, expected: int) -> int:
    """Sessions done as a whole percentage of those prescribed; 0 when none were."""
    return round(100 * done / expected) if expected else 0


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
        return percent(self.done, self.expected)


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


def daily_lists(
    facts: schedule.EnrolmentFacts, first: date, last: date, now: datetime
) -> dict[date, frozenset[int]]:
    """The prescription keys on her daily list on each local date from `first` to `last`
    (inclusive), as each day stood at its end, or at `now` for a day not yet over."""
    lists = {}
    day = first
    while day <= last:
        end = schedule.local_midnight(day + timedelta(days=1), facts.tz) - timedelta(microseconds=1)
        snap = schedule.snapshot(facts, min(now, end))
        lists[day] = frozenset(p.key for p in snap.daily)
        day += timedelta(days=1)
    return lists


def _tally(
    week: int,
    first: date,
    last: date,
    facts: schedule.EnrolmentFacts,
    lists: dict[date, frozenset[int]],
    logs: Iterable[tuple[int, date]],
    ahead: frozenset[int] = frozenset(),
    ahead_days: int = 0,
) -> WeekTally:
    """A span's tally against what was on her list each day; `ahead_days` more days of the
    span are still to come, with the keys `ahead` on her list."""
    listed: dict[int, int] = {}
    for keys in lists.values():
        for key in keys:
            listed[key] = listed.get(key, 0) + 1
    for key in ahead:
        listed[key] = listed.get(key, 0) + ahead_days
    targets = [
        Target(p.key, min(p.days_per_week, listed[p.key]))
        for p in schedule.all_prescriptions(facts).values()
        if listed.get(p.key)
    ]
    counted = [(key, day) for key, day in _carried(facts, logs) if key in lists.get(day, ())]
    return tally_week(week, first, last, targets, counted)


def _carried(facts: schedule.EnrolmentFacts, logs: Iterable[tuple[int, date]]):
    """The logs, with a session of an exercise her coach replaced (a new dose, a swap) later
    the same day counted for its replacement: the day's list is read at its end."""
    if not facts.changes:
        return logs
    replaced = {
        (c.replaces, c.since.astimezone(facts.tz).date()): c.spec.key
        for c in facts.changes
        if c.replaces is not None and c.spec is not None
    }
    return [(replaced.get((key, day), key), day) for key, day in logs]


def weekly(
    facts: schedule.EnrolmentFacts, logs: list[tuple[int, date]], now: datetime
) -> list[WeekTally]:
    """Each program week so far, against what was on her daily list on each of its days. The
    week still running counts its days to come with today's list."""
    today = now.astimezone(facts.tz).date()
    current = schedule.snapshot(facts, now)
    tallies = []
    for week in range(1, current.week + 1):
        span = schedule.week_dates(facts, week, today)
        if span is None:
            break
        lists = daily_lists(facts, span[0], span[1], now)
        ahead_days = max(0, 7 * week - 1 - current.program_day)
        ahead = lists.get(today, frozenset()) if ahead_days else frozenset()
        tallies.append(_tally(week, span[0], span[1], facts, lists, logs, ahead, ahead_days))
    return tallies


LAST_DAYS = 7  # the coach's "last 7 days"


def last_days(
    facts: schedule.EnrolmentFacts,
    logs: list[tuple[int, date]],
    now: datetime,
    days: int = LAST_DAYS,
) -> WeekTally:
    """The last `days` local days (today included) against what was on her list each day; in
    her first days, only the days since she started."""
    snap = schedule.snapshot(facts, now)
    # A window reaching back before her start only counts the days since she started.
    first = max(snap.today - timedelta(days=days - 1), facts.start_date)
    lists = daily_lists(facts, first, snap.today, now)
    return _tally(snap.week, first, snap.today, facts, lists, logs)


def overall(tallies: Iterable[WeekTally]) -> tuple[int, int]:
    """(sessions done, sessions prescribed) over the given weeks."""
    tallies = list(tallies)
    return sum(t.done for t in tallies), sum(t.expected for t in tallies)
