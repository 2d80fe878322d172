"""
Each client's standing, the row the coach's dashboard shows for her, stored (`ClientStatus`)
so that a dashboard of any size filters, sorts and pages in the database.

Pure: her schedule facts, logs, pains and guided sessions, and the instant, in; the row's
values out. `programs.client_status` loads, computes and saves the rows. What changes with time
alone (her week, the last 7 days, days without a session) changes at her local midnight, or at
an instant already recorded (a pause or clearance stamped ahead): each row keeps the next such
instant (`rolls_over_at`).

Reminders failing is the outbox's state, not hers: the dashboard reads it live.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from programs import adherence, coaching, schedule
from programs.coaching import Flag
from programs.roles import NEUTRAL_FLAGS

# The order of "flagged first": the most urgent flag outweighs all those after it.
URGENCY = (
    Flag.URGENT,
    Flag.HOLD,
    Flag.PAIN_UP,
    Flag.STRAIN,
    Flag.IDLE,
    Flag.FAILING,
    Flag.BROKEN,
)
# The flags stored on her row; FAILING is read from the outbox when the page is shown.
STORED_FLAGS = tuple(f for f in URGENCY if f != Flag.FAILING)
BROKEN_RETRY = timedelta(hours=1)  # a row the schedule cannot read is tried again this often


def weight(flag: Flag) -> int:
    """The flag's bit in `rank`: each outweighs every flag after it in URGENCY."""
    return 1 << (len(URGENCY) - 1 - URGENCY.index(flag))


def rank(flags: Iterable[Flag]) -> int:
    """The flags as one number: sorting by it, highest first, is "flagged first"."""
    return sum(weight(flag) for flag in set(flags))


@dataclass(frozen=True)
class Standing:
    """Her dashboard row as plain values, as it stands at one instant."""

    local_date: date  # her local date at that instant
    # The next instant it changes without an event (UTC); None once time alone changes nothing.
    rolls_over_at: datetime | None
    week: int
    started: bool
    finished: bool
    progress_percent: int
    recent: tuple[int, int]  # sessions done, prescribed in the last 7 days
    overall: tuple[int, int]
    last_activity: date | None
    pains: tuple[int, ...]  # check-in pain scores, oldest first
    flags: tuple[Flag, ...]  # in URGENCY order, FAILING never among them

    @property
    def last_pain(self) -> int | None:
        return self.pains[-1] if self.pains else None


def next_change(
    facts: schedule.EnrolmentFacts, now: datetime, settled: date | None = None
) -> datetime | None:
    """The first instant after `now` at which her standing may change with no new event: her
    next local midnight, or sooner an instant already in her facts (a pause, hold, override,
    tailoring, move or clearance stamped ahead, the end of 6 weeks after birth). None from the
    local date `settled` on, once no such instant is ahead: time alone changes nothing more."""
    today = now.astimezone(facts.tz).date()
    instants = [facts.cleared_at, schedule.loaded_from(facts)]
    for interval in facts.pauses + facts.holds:
        instants += [interval.start, interval.end]
    instants += [at for _, at in facts.override_times]
    instants += [c.since for c in facts.changes] + [era.until for era in facts.earlier]
    ahead = [at for at in instants if at is not None and at > now]
    if settled is not None and today >= settled and not ahead:
        return None
    midnight = schedule.local_midnight(today + timedelta(days=1), facts.tz)
    if midnight <= now:  # in an hour repeated across midnight (clocks back at 00:00)
        midnight = schedule.local_midnight(today + timedelta(days=2), facts.tz)
    return min([midnight, *ahead])


def settles_on(
    facts: schedule.EnrolmentFacts,
    now: datetime,
    last_activity: date | None,
    guided: Sequence[coaching.GuidedResult] = (),
) -> date | None:
    """The local date from which time alone no longer changes her row, once her program has
    finished: her last 7 days then hold none of her program or her sessions, and her last
    guided session's strain flag has run out. None while her program runs."""
    current = schedule.program_at(facts, now)
    ended = schedule.finished_on(current, now.astimezone(facts.tz).date())
    if ended is None:
        return None
    window = timedelta(days=adherence.LAST_DAYS)
    dates = [ended + window]
    if last_activity is not None:
        dates.append(last_activity + window)
    if guided:
        dates.append(guided[-1].day + timedelta(days=coaching.STRAIN_DAYS))
    return max(dates)


def compute(
    facts: schedule.EnrolmentFacts,
    now: datetime,
    logs: list[tuple[int, date]],
    pains: Sequence[int],
    urgent: bool = False,
    guided: Sequence[coaching.GuidedResult] = (),
) -> Standing:
    """Her standing at `now`, from the same values and rules as `coaching.client`."""
    client = coaching.client(facts, now, logs, pains, 0, urgent=urgent, guided=guided)
    snap = client.snapshot
    return Standing(
        local_date=snap.today,
        rolls_over_at=next_change(facts, now, settles_on(facts, now, client.last_activity, guided)),
        week=snap.week,
        started=snap.started,
        finished=snap.finished,
        progress_percent=snap.progress_percent,
        recent=(client.last_7_days.done, client.last_7_days.expected),
        overall=client.overall,
        last_activity=client.last_activity,
        pains=client.pains,
        flags=tuple(f for f in URGENCY if f in client.flags),
    )


def unreadable(weeks: int, now: datetime, pains: Sequence[int]) -> Standing:
    """The standing of a client whose enrolment the schedule cannot read: flagged for a person
    to fix, and tried again in a while in case someone has."""
    client = coaching.unreadable(weeks, now.date(), pains)
    return Standing(
        local_date=now.date(),
        rolls_over_at=now + BROKEN_RETRY,
        week=client.snapshot.week,
        started=False,
        finished=False,
        progress_percent=0,
        recent=(0, 0),
        overall=(0, 0),
        last_activity=None,
        pains=client.pains,
        flags=client.flags,
    )


def values(standing: Standing, now: datetime) -> dict:
    """A ClientStatus row's fields for a standing."""
    return {
        "computed_at": now,
        "local_date": standing.local_date,
        "rolls_over_at": standing.rolls_over_at,
        "week": standing.week,
        "started": standing.started,
        "finished": standing.finished,
        "progress_percent": standing.progress_percent,
        "recent_done": standing.recent[0],
        "recent_expected": standing.recent[1],
        "recent_percent": adherence.percent(*standing.recent),
        "overall_done": standing.overall[0],
        "overall_expected": standing.overall[1],
        "overall_percent": adherence.percent(*standing.overall),
        "last_activity": standing.last_activity,
        "last_pain": standing.last_pain,
        "pains": list(standing.pains),
        **{flag.value: flag in standing.flags for flag in STORED_FLAGS},
        "rank": rank(standing.flags),
        "neutral_rank": rank(f for f in standing.flags if f in NEUTRAL_FLAGS),
    }
