"""
Which emails fall due for one enrollee, and when, in her own time zone.

Plain functions over the schedule's values: no ORM, no clock. The outbox (`programs.outbox`)
stores what this module plans as rows, one per (enrolment, kind, key), and asks it again just
before sending whether a row is still wanted.

What she gets, each at her reminder time on her local calendar:
- a session reminder on each day that has exercises due, listing them;
- "a new stage is open" on the morning a stage opens (it lists the day's exercises too, so it
  takes the place of that day's session reminder);
- a weekly check-in on the first day of each new program week, about the week just ended;
- a gentle nudge, instead of the session reminder, after 3 full days without a logged session,
  at most once a program week;
- "program complete" on the morning after the last day, with the last check-in.
Nothing while her program is paused or held, and nothing of a kind she turned off.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from programs import schedule

NUDGE_AFTER_DAYS = 3
# A reminder to train today is no use in the evening: past this, it is dropped, not sent.
STALE_AFTER = timedelta(hours=6)


class Kind(StrEnum):
    SESSION = "session"
    STAGE = "stage"
    CHECKIN = "checkin"
    NUDGE = "nudge"
    COMPLETE = "complete"
    COACH_ALERT = "coach_alert"
    COACH_MESSAGE = "coach_message"
    COACH_DIGEST = "coach_digest"  # planned by programs.digests, not by `plan`


KIND_LABELS = {
    Kind.SESSION: "Session reminder",
    Kind.STAGE: "New stage",
    Kind.CHECKIN: "Weekly check-in",
    Kind.NUDGE: "Nudge",
    Kind.COMPLETE: "Program complete",
    Kind.COACH_ALERT: "Red-flag alert to coach",
    Kind.COACH_MESSAGE: "Message from her coach",
    Kind.COACH_DIGEST: "Daily digest to coach",
}

# The kinds she can turn off one by one; "complete" goes with the stage news.
OPTIONAL = {
    Kind.SESSION: "session",
    Kind.NUDGE: "nudge",
    Kind.STAGE: "stage",
    Kind.COMPLETE: "stage",
    Kind.CHECKIN: "checkin",
}
EXPIRES = {Kind.SESSION, Kind.NUDGE}


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
    turned_off: frozenset[str] = frozenset()  # values of OPTIONAL
    last_session: date | None = None  # her last logged local date
    # Nudges already on their way or sent: (program week, her local date it was for).
    nudges: frozenset[tuple[int, date]] = frozenset()


def plan(recipient: Recipient, start: datetime, end: datetime) -> list[Planned]:
    """Every notification for her falling due in [start, end), earliest first."""
    facts = recipient.facts
    if schedule.is_paused_at(facts, start) or schedule.is_held_at(facts, start):
        return []  # her clock stands still; planning resumes when she does
    planned: list[Planned] = []
    day = start.astimezone(facts.tz).date() - timedelta(days=1)
    last = end.astimezone(facts.tz).date() + timedelta(days=1)
    nudged = {week for week, _ in recipient.nudges}
    while day <= last:
        at = schedule.local_instant(day, recipient.reminder_time, facts.tz)
        if start <= at < end:
            for item in _due_on(recipient, day, at, nudged):
                if OPTIONAL.get(item.kind) not in recipient.turned_off:
                    planned.append(item)
        day += timedelta(days=1)
    return planned


def _due_on(recipient: Recipient, day: date, at: datetime, nudged: set[int]) -> list[Planned]:
    snap = schedule.snapshot(recipient.facts, at)
    total = 7 * snap.weeks
    if snap.paused or snap.held or snap.program_day < 0 or snap.program_day > total:
        return []
    if snap.program_day == total:
        return [Planned(Kind.COMPLETE, "complete", at)]

    items = []
    if snap.program_day > 0 and snap.program_day % 7 == 0:
        items.append(Planned(Kind.CHECKIN, f"week-{snap.program_day // 7}", at))

    early = recipient.facts.opened_early  # her coach opened these already; no news today
    opening = [
        s.spec
        for s in snap.stages
        if s.is_open
        and 7 * (s.spec.unlock_week - 1) == snap.program_day
        and s.spec.key not in early
    ]
    if opening and "stage" not in recipient.turned_off:
        items.extend(Planned(Kind.STAGE, f"stage-{spec.key}", at) for spec in opening)
        return items

    if not schedule.due_today(snap):
        return items
    facts = recipient.facts
    idle = days_without_session(facts.start_date, recipient.last_session, day)
    nudge = Planned(Kind.NUDGE, f"week-{snap.week}", at)
    if (snap.week, day) in recipient.nudges:
        items.append(nudge)  # that day's email was the nudge; nothing more
        return items
    if idle >= NUDGE_AFTER_DAYS and snap.week not in nudged:
        nudged.add(snap.week)
        if "nudge" not in recipient.turned_off:
            items.append(nudge)
            return items
    items.append(Planned(Kind.SESSION, day.isoformat(), at))
    return items


def days_without_session(start_date: date, last_session: date | None, day: date) -> int:
    """Full local days before `day` since her last logged session (or since she started)."""
    last_active = start_date - timedelta(days=1)
    if last_session is not None:
        last_active = max(last_active, last_session)
    return max((day - last_active).days - 1, 0)


def still_wanted(
    recipient: Recipient, kind: str, key: str, due_at: datetime, now: datetime
) -> bool:
    """Just before sending: would planning still ask for this, at this time, and is it fresh?"""
    if kind in (Kind.COACH_ALERT, Kind.COACH_MESSAGE):
        return True
    if kind in EXPIRES and now - due_at > STALE_AFTER:
        return False
    facts = recipient.facts
    if schedule.is_paused_at(facts, now) or schedule.is_held_at(facts, now):
        return False
    moment = due_at + timedelta(microseconds=1)
    return any(item.kind == kind and item.key == key for item in plan(recipient, due_at, moment))
