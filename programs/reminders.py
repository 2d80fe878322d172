"""
Which emails fall due for one enrollee, and when, in her own time zone.

Plain functions over the schedule's values: no ORM, no clock. `programs.planning` stores what
this module plans as outbox rows, one per (enrolment, kind, key), and `programs.delivery` asks it
again just before sending whether a row is still wanted.

What she gets, each at her reminder time on her local calendar (one time for every day, or her
own time for each weekday, or none on days she chose):
- a session reminder on each day that has exercises due, listing them (not on a day she has no
  reminder: on such a day the emails below still come, at her usual reminder time);
- "a new stage is open" on the morning a stage opens (it lists the day's exercises too, so it
  takes the place of that day's session reminder);
- a weekly check-in on the last day (day 7) of each program week, about that week (the last
  week's comes with "program complete");
- a gentle nudge, instead of the session reminder, after 3 full days without a logged session,
  at most once a program week;
- "program complete" on the morning after the last day, with the last check-in;
- an evening follow-up at `EVENING_AT` on a training day she has an earlier reminder for,
  unless she has logged a session that day, snoozed that day's reminder (which reminds her
  again anyway) or had that day's nudge;
- a snoozed session reminder again at the instant she chose, unless she has logged a session
  since the day it was for, or her own reminder of that day goes at that very instant.
Nothing while her program is paused or held, and nothing of a kind she turned off.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from programs import schedule
from programs.notifications import (
    CHECKIN,
    COMPLETE,
    EVENING,
    NUDGE,
    SESSION,
    SNOOZE,
    STAGE,
    Kind,
)

NUDGE_AFTER_DAYS = 3
# "This evening", her local time: the evening follow-up and the "this evening" snooze.
EVENING_AT = time(19, 0)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


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
    # Her reminder time for each weekday, Monday first (None: no reminder that day); empty:
    # every day at `reminder_time`.
    weekday_times: tuple[time | None, ...] = ()
    # Session reminders she snoozed: (the local date of the reminder, when to send it again).
    snoozes: frozenset[tuple[date, datetime]] = frozenset()

    def time_on(self, day: date) -> time | None:
        """Her reminder time on local date `day`, or None if she wants none that day."""
        if not self.weekday_times:
            return self.reminder_time
        return self.weekday_times[day.weekday()]


def plan(recipient: Recipient, start: datetime, end: datetime) -> list[Planned]:
    """Every notification for her falling due in [start, end), earliest first."""
    facts = recipient.facts
    # Her start date must have an instant (older data may hold one near the start of time):
    # raised here, as the snapshots `_due_on` skips once she has finished would have, so that
    # she is recorded as broken rather than planned nothing.
    schedule.local_midnight(facts.start_date, facts.tz)
    # Whether she is paused or held is asked at each reminder's own instant (`_due_on`), not
    # once at `start`: a program resumed a minute ago still gets the reminder due in two.
    planned: list[Planned] = []
    day = start.astimezone(facts.tz).date() - timedelta(days=1)
    last = end.astimezone(facts.tz).date() + timedelta(days=1)
    nudged = {week for week, _ in recipient.nudges}
    # Days that already have a second word from us: a snooze (of that day's reminder, or landing
    # that day), or the nudge instead of the reminder. The evening follow-up leaves those alone.
    quiet = {d for _, d in recipient.nudges}
    for for_day, at in recipient.snoozes:
        quiet |= {for_day, at.astimezone(facts.tz).date()}
    while day <= last:
        chosen = recipient.time_on(day)
        at = schedule.local_instant(day, chosen or recipient.reminder_time, facts.tz)
        if start <= at < end:
            items = _due_on(recipient, day, at, nudged, reminder=chosen is not None)
            items = [item for item in items if wanted(recipient, item.kind)]
            if any(item.kind == NUDGE for item in items):
                quiet.add(day)
            planned.extend(items)
        # The evening follow-up only follows an earlier reminder of that day.
        evening = schedule.local_instant(day, EVENING_AT, facts.tz)
        if (
            chosen is not None
            and chosen < EVENING_AT
            and day not in quiet
            and start <= evening < end
            and wanted(recipient, EVENING)
        ):
            planned.extend(_evening(recipient, day, evening))
        day += timedelta(days=1)
    planned.extend(
        item
        for item in _snoozed(recipient)
        if start <= item.due_at < end and wanted(recipient, item.kind)
    )
    planned.sort(key=lambda item: item.due_at)
    return planned


def wanted(recipient: Recipient, kind: Kind) -> bool:
    """She has not turned this kind off."""
    return kind.preference is None or kind.preference.key not in recipient.turned_off


def _due_on(
    recipient: Recipient, day: date, at: datetime, nudged: set[int], reminder: bool = True
) -> list[Planned]:
    facts = recipient.facts
    # Whether anything can be due at all, from the program day and her pauses and holds alone:
    # no snapshot once she has finished, nor while her program stands still. (Before her start
    # the snapshot still works out her stages' dates: one out of range makes her broken.)
    program_day = _program_day_at(facts, at)
    total = 7 * facts.weeks
    if program_day > total or _stands_still(facts, at):
        return []
    if program_day == total:
        return [Planned(COMPLETE, "complete", at)]
    snap = schedule.snapshot(facts, at)
    if snap.program_day < 0:
        return []

    items = []
    # The last week's check-in comes with "program complete", the next morning.
    if snap.program_day % 7 == 6 and snap.program_day < total - 1:
        items.append(Planned(CHECKIN, f"week-{checkin_week(snap)}", at))

    midnight = schedule.local_midnight(day, facts.tz)
    opening = [s.spec for s in snap.stages if s.is_open and _news(facts, s, midnight, at)]
    if opening and wanted(recipient, STAGE):
        items.extend(Planned(STAGE, f"stage-{spec.key}", at) for spec in opening)
        return items

    if not reminder or not schedule.due_today(snap):
        return items
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


def _evening(recipient: Recipient, day: date, at: datetime) -> list[Planned]:
    """The evening follow-up on `day`: a training day, her program running, nothing logged."""
    if recipient.last_session is not None and recipient.last_session >= day:
        return []
    if not _running_at(recipient.facts, at):
        return []
    if not schedule.due_today(schedule.snapshot(recipient.facts, at)):  # a rest day
        return []
    return [Planned(EVENING, day.isoformat(), at)]


def _program_day_at(facts: schedule.EnrolmentFacts, at: datetime) -> int:
    """Her program day at instant `at`, as `schedule.snapshot(facts, at).program_day`."""
    return schedule.program_day_on(facts, at.astimezone(facts.tz).date())


def _stands_still(facts: schedule.EnrolmentFacts, at: datetime) -> bool:
    return schedule.is_paused_at(facts, at) or schedule.is_held_at(facts, at)


def _running_at(facts: schedule.EnrolmentFacts, at: datetime) -> bool:
    """`schedule.snapshot(facts, at).running`, without the stages: most enrolments not
    running at `at` (not started, finished, paused) need no snapshot at all."""
    return 0 <= _program_day_at(facts, at) < 7 * facts.weeks and not _stands_still(facts, at)


def _snoozed(recipient: Recipient) -> list[Planned]:
    """Each snoozed reminder, while her program runs at its instant and she has not logged a
    session since the day it was for."""
    items = []
    for day, at in recipient.snoozes:
        if recipient.last_session is not None and recipient.last_session >= day:
            continue
        if _running_at(recipient.facts, at) and not covered(recipient, at):
            items.append(Planned(SNOOZE, day.isoformat(), at))
    return items


def covered(recipient: Recipient, at: datetime) -> bool:
    """Her own reminder of that day (a session reminder, the nudge or a new stage) goes at
    instant `at`: a snooze landing then would only repeat it."""
    day = at.astimezone(recipient.facts.tz).date()
    chosen = recipient.time_on(day)
    if schedule.local_instant(day, chosen or recipient.reminder_time, recipient.facts.tz) != at:
        return False
    nudged = {week for week, _ in recipient.nudges}
    items = _due_on(recipient, day, at, nudged, reminder=chosen is not None)
    return any(i.kind in (SESSION, NUDGE, STAGE) and wanted(recipient, i.kind) for i in items)


def snooze_at(recipient: Recipient, choice: str, now: datetime) -> datetime | None:
    """When a snooze of `choice` ("hour", "evening" or "tomorrow") chosen at `now` reminds her
    again: an hour on, at `EVENING_AT` today her time (None once that has passed), or tomorrow
    at her reminder time for tomorrow (her usual time if tomorrow has none)."""
    tz = recipient.facts.tz
    today = now.astimezone(tz).date()
    if choice == "hour":
        return now + timedelta(hours=1)
    if choice == "evening":
        at = schedule.local_instant(today, EVENING_AT, tz)
        return at if at > now else None
    if choice == "tomorrow":
        tomorrow = today + timedelta(days=1)
        return schedule.local_instant(
            tomorrow, recipient.time_on(tomorrow) or recipient.reminder_time, tz
        )
    raise ValueError(f"unknown snooze {choice!r}")


def weekday_times(usual: time, chosen: dict[str, str | None]) -> tuple[time | None, ...]:
    """Her seven reminder times, Monday first, from what she chose per weekday: {"0": "07:30"}
    moves Monday's, {"6": None} drops Sunday's, and days left out keep `usual`. Empty if every
    day is at `usual`. ValueError for anything else."""
    times: list[time | None] = [usual] * 7
    for weekday, value in chosen.items():
        index = int(weekday)
        if not 0 <= index < 7:
            raise ValueError(f"no weekday {weekday!r}")
        times[index] = None if value is None else time.fromisoformat(value)
    return () if all(t == usual for t in times) else tuple(times)


@dataclass(frozen=True)
class CalendarEntry:
    """One event of her calendar feed: a training day's session at her time, or a stage
    opening on her local date."""

    key: str  # stable across plans: "session-2026-03-04", "stage-12"
    starts_at: datetime  # in her zone
    stage: int | None = None  # the stage key, for an opening


def calendar(recipient: Recipient, now: datetime) -> list[CalendarEntry]:
    """What is ahead of her from her local today to the end of her program, as the schedule
    stands at `now`: nothing while her program stands still, since no date is known then."""
    facts = recipient.facts
    tz = facts.tz
    snap = schedule.snapshot(facts, now)
    if snap.ends_at is None:
        return []
    entries = [
        CalendarEntry(f"stage-{state.spec.key}", state.opens_at.astimezone(tz), state.spec.key)
        for state in snap.stages
        if state.opens_at is not None and state.opens_at > now and state.lock in _DATED
    ]
    day, last = snap.today, snap.ends_at.astimezone(tz).date()
    while day < last:
        # A day she wants no email still has its session: at her usual time.
        at = schedule.local_instant(day, recipient.time_on(day) or recipient.reminder_time, tz)
        if schedule.due_today(schedule.snapshot(facts, at)):
            entries.append(CalendarEntry(f"session-{day.isoformat()}", at.astimezone(tz)))
        day += timedelta(days=1)
    return sorted(entries, key=lambda entry: (entry.starts_at, entry.key))


# Stages whose opening date is set by the schedule alone (not waiting on her clearance).
_DATED = (schedule.Lock.SCHEDULED, schedule.Lock.BIRTH, schedule.Lock.PACED)


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
    if _stands_still(facts, then):
        return False
    return _program_day_at(facts, then) > 7 * facts.weeks
