"""
Which emails fall due for one enrollee, and when, in her own time zone.

Plain functions over the schedule's values: no ORM, no clock. `programs.planning` stores what
this module plans as outbox rows, one per (enrolment, kind, key), and `programs.delivery` asks it
again just before sending whether a row is still wanted.

What she gets, each at her reminder time on her local calendar:
- a session reminder on each day that has exercises due, listing them;
- "a new stage is open" on the morning a stage opens (it lists the day's exercises too, so it
  takes the place of that day's session reminder);
- a weekly check-in on the last day (day 7) of each program week, about that week (the last
  week's comes with "program complete");
- a gentle nudge, instead of the session reminder, after 3 full days without a logged session,
  at most once a program week;
- "program complete" on the morning after the last day, with the last check-in.
Nothing while her program is paused or held, and nothing of a kind she turned off.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from programs import schedule
from programs.notifications import CHECKIN, COMPLETE, NUDGE, SESSION, STAGE, Kind

NUDGE_AFTER_DAYS = 3


@dataclass(frozen=True)
class Planned:
    kind: Kind
    key: str
    due_at: datetime  # UTC


@dataclass(frozen=True)
class Recipient:
    """What planning needs to know about her beyond the schedule's facts."""

    facts: schedule.EnrolmentFacts
    reminder_time: time
    turned_off: frozenset[str] = frozenset()  # keys of notifications.PREFERENCES
    last_session: date | None = None  # her last logged local date
    # Nudges already on their way or sent: (program week, her local date it was for).
    nudges: frozenset[tuple[int, date]] = frozenset()


def plan(recipient: Recipient, start: datetime, end: datetime) -> list[Planned]:
    """Every notification for her falling due in [start, end), earliest first."""
    facts = recipient.facts
    # Whether she is paused or held is asked at each reminder's own instant (`_due_on`), not
    # once at `start`: a program resumed a minute ago still gets the reminder due in two.
    planned: list[Planned] = []
    day = start.astimezone(facts.tz).date() - timedelta(days=1)
    last = end.astimezone(facts.tz).date() + timedelta(days=1)
    nudged = {week for week, _ in recipient.nudges}
    while day <= last:
        at = schedule.local_instant(day, recipient.reminder_time, facts.tz)
        if start <= at < end:
            planned.extend(
                item for item in _due_on(recipient, day, at, nudged) if wanted(recipient, item.kind)
            )
        day += timedelta(days=1)
    return planned


def wanted(recipient: Recipient, kind: Kind) -> bool:
    """She has not turned this kind off."""
    return kind.preference is None or kind.preference.key not in recipient.turned_off


def _due_on(recipient: Recipient, day: date, at: datetime, nudged: set[int]) -> list[Planned]:
    snap = schedule.snapshot(recipient.facts, at)
    total = 7 * snap.weeks
    if snap.paused or snap.held or snap.program_day < 0 or snap.program_day > total:
        return []
    if snap.program_day == total:
        return [Planned(COMPLETE, "complete", at)]

    items = []
    # The last week's check-in comes with "program complete", the next morning.
    if snap.program_day % 7 == 6 and snap.program_day < total - 1:
        items.append(Planned(CHECKIN, f"week-{checkin_week(snap)}", at))

    midnight = schedule.local_midnight(day, recipient.facts.tz)
    opening = [s.spec for s in snap.stages if s.is_open and _news(recipient.facts, s, midnight, at)]
    if opening and wanted(recipient, STAGE):
        items.extend(Planned(STAGE, f"stage-{spec.key}", at) for spec in opening)
        return items

    if not schedule.due_today(snap):
        return items
    facts = recipient.facts
    idle = days_without_session(facts.start_date, recipient.last_session, day)
    nudge = Planned(NUDGE, f"week-{snap.week}", at)
    if (snap.week, day) in recipient.nudges:
        items.append(nudge)  # that day's email was the nudge; nothing more
        return items
    if idle >= NUDGE_AFTER_DAYS and snap.week not in nudged:
        nudged.add(snap.week)
        if wanted(recipient, NUDGE):
            items.append(nudge)
            return items
    items.append(Planned(SESSION, day.isoformat(), at))
    return items


def checkin_week(snap: schedule.Snapshot) -> int | None:
    """The program week she is asked about: each week from its last day (day 7, so that the
    week has happened) until the next week's last day. None before the end of week 1."""
    if snap.program_day < 6:
        return None
    return min((snap.program_day + 1) // 7, snap.weeks)


def _news(
    facts: schedule.EnrolmentFacts, state: schedule.StageState, midnight: datetime, at: datetime
) -> bool:
    """The stage opened between her local midnight and this reminder, by the schedule: not at
    the moment she confirmed her clearance, nor at her coach's hand (she saw it happen)."""
    opened = state.opened_at
    if opened is None or not midnight <= opened <= at or opened == facts.cleared_at:
        return False
    key = state.spec.key
    if key in facts.opened_early:
        made = dict(facts.override_times).get(key)
        return made is not None and opened != made
    return True


def days_without_session(start_date: date, last_session: date | None, day: date) -> int:
    """Full local days before `day` since her last logged session (or since she started)."""
    last_active = start_date - timedelta(days=1)
    if last_session is not None:
        last_active = max(last_active, last_session)
    return max((day - last_active).days - 1, 0)


def still_wanted(
    recipient: Recipient, kind: Kind, key: str, due_at: datetime, now: datetime
) -> bool:
    """Just before sending a scheduled kind: is it fresh, and would planning still ask for it,
    at this time?"""
    if kind.is_stale(now - due_at):
        return False
    facts = recipient.facts
    if schedule.is_paused_at(facts, now) or schedule.is_held_at(facts, now):
        return False
    moment = due_at + timedelta(microseconds=1)
    return any(item.kind == kind and item.key == key for item in plan(recipient, due_at, moment))


def finished(recipient: Recipient, now: datetime, grace: timedelta) -> bool:
    """Nothing more will ever be planned for her: her last day's email time is more than
    `grace` ago, and her clock is running (a pause or hold could still move the end)."""
    facts = recipient.facts
    then = now - grace
    if schedule.is_paused_at(facts, then) or schedule.is_held_at(facts, then):
        return False
    return schedule.snapshot(facts, then).program_day > 7 * facts.weeks
