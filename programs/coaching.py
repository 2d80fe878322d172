"""
What a coach needs to know about each client, as plain values: her flags and her adherence.

Pure functions over the schedule's values and a few numbers the caller loads in bulk; the
dashboard asks them for every client on a page without a query per client.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from programs import adherence, reminders, schedule

IDLE_DAYS = reminders.NUDGE_AFTER_DAYS  # days without a session that a coach should notice
PAIN_JUMP = 2  # points up between two check-ins that a coach should notice
STRAIN_DAYS = 7  # how long her last guided session's "too hard" or sorer-after stays flagged


class Flag(StrEnum):
    URGENT = "urgent"  # held by an urgent (tier 2) sign
    HOLD = "hold"  # held by a warning sign (tier 1): she should see a clinician
    IDLE = "idle"
    PAIN_UP = "pain_up"
    FAILING = "failing"
    STRAIN = "strain"  # her last guided session: an exercise too hard, or more pain after it
    BROKEN = "broken"  # her enrolment holds data the schedule cannot use (see the admin)


FLAG_LABELS = {
    Flag.URGENT: "Urgent",
    Flag.HOLD: "See a clinician",
    Flag.IDLE: f"No session for {IDLE_DAYS}+ days",
    Flag.PAIN_UP: f"Pain up {PAIN_JUMP}+ points",
    Flag.FAILING: "Reminders failing",
    Flag.STRAIN: "Found a session too hard or sore",
    Flag.BROKEN: "Enrolment data needs fixing",
}


@dataclass(frozen=True)
class Client:
    """Everything the dashboard shows about one client, computed without the database."""

    snapshot: schedule.Snapshot
    flags: tuple[Flag, ...]
    last_7_days: adherence.WeekTally
    overall: tuple[int, int]
    last_activity: date | None
    pains: tuple[int, ...]

    @property
    def last_pain(self) -> int | None:
        return self.pains[-1] if self.pains else None

    @property
    def overall_percent(self) -> int:
        done, expected = self.overall
        return adherence.percent(done, expected)


@dataclass(frozen=True)
class GuidedResult:
    """One guided session as a coach's flags read it."""

    day: date
    too_hard: bool
    pain_after: int | None


def strained(guided: Sequence[GuidedResult], today: date) -> bool:
    """Her last guided session, within STRAIN_DAYS, had an exercise she found too hard, or
    left her PAIN_JUMP+ points sorer than the session before it. Not a red flag: a coach's
    cue to adjust her dose."""
    if not guided or (today - guided[-1].day).days >= STRAIN_DAYS:
        return False
    last = guided[-1]
    if last.too_hard:
        return True
    earlier = [g.pain_after for g in guided[:-1] if g.pain_after is not None]
    return (
        last.pain_after is not None and bool(earlier) and last.pain_after - earlier[-1] >= PAIN_JUMP
    )


def flags(
    snap: schedule.Snapshot,
    start_date: date,
    last_session: date | None,
    pains: Sequence[int],
    failing: int,
    urgent: bool = False,
    guided: Sequence[GuidedResult] = (),
) -> tuple[Flag, ...]:
    """Which of the dashboard's flags are up for her, in order of urgency; `urgent`: her open
    hold is tier 2; `guided`: her guided sessions, oldest first."""
    raised = []
    if snap.held:
        raised.append(Flag.URGENT if urgent else Flag.HOLD)
    idle = reminders.days_without_session(start_date, last_session, snap.today)
    if snap.running and idle >= IDLE_DAYS:
        raised.append(Flag.IDLE)
    if len(pains) >= 2 and pains[-1] - pains[-2] >= PAIN_JUMP:
        raised.append(Flag.PAIN_UP)
    if strained(guided, snap.today):
        raised.append(Flag.STRAIN)
    if failing:
        raised.append(Flag.FAILING)
    return tuple(raised)


def client(
    facts: schedule.EnrolmentFacts,
    now: datetime,
    logs: list[tuple[int, date]],
    pains: Sequence[int],
    failing: int,
    urgent: bool = False,
    guided: Sequence[GuidedResult] = (),
) -> Client:
    """One client's row: `logs` are her (prescription, local date) pairs, `pains` her check-in
    pain scores oldest first, `failing` how many of her emails failed, `urgent` whether her
    open hold is urgent, `guided` her guided sessions oldest first."""
    snap = schedule.snapshot(facts, now)
    last_session = max((day for _, day in logs), default=None)
    return Client(
        snapshot=snap,
        flags=flags(snap, facts.start_date, last_session, pains, failing, urgent, guided),
        last_7_days=adherence.last_days(facts, logs, now),
        overall=adherence.overall(adherence.weekly(facts, logs, now)),
        last_activity=last_session,
        pains=tuple(pains),
    )


def unreadable(weeks: int, today: date, pains: Sequence[int]) -> Client:
    """The row of a client whose enrolment the schedule cannot read (an unknown time zone, a
    date out of range): flagged for a person to fix, with nothing computed."""
    return Client(
        snapshot=schedule.Snapshot(
            today=today,
            program_day=-1,
            week=1,
            weeks=weeks,
            paused=False,
            held=False,
            finished=False,
            stages=(),
            ends_at=None,
            starts_at=None,
            focus=(),
        ),
        flags=(Flag.BROKEN,),
        last_7_days=adherence.WeekTally(week=1, first=today, last=today, lines=()),
        overall=(0, 0),
        last_activity=None,
        pains=tuple(pains),
    )
