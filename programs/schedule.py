"""
The program calendar: what is open when, in the enrollee's own time zone.

Plain functions over plain values. Nothing here reads the clock or touches the database:
callers pass the enrolment's facts and the instant they ask about.

The rules:
- Her program runs on "program days". Day 0 is her start date. A local day on which her
  program stood still (she paused it, or a red flag put it on hold) does not count, so a pause
  of three days moves every later unlock by three days.
- Stage N (unlock week W) opens on program day 7 × (W − 1), at local midnight.
- Until she confirms her clinician has cleared her to exercise, only stages marked
  `open_before_clearance` open.
- Her coach may open a stage before its week (`opened_early`) or keep one closed after it
  (`held_stages`), from the instant she did so (`override_times`): what was open before that
  instant stays as it was. Clearance and the 6 weeks after birth still come first.
- Stages that load the body (`loaded`) stay closed until local midnight 6 weeks after her
  birth date, whatever her program week.
- A stage kept back past its week (by a late clearance or by the 6 weeks after birth) delays
  the next one: it opens no sooner than 7 program days after it, so stages open one a week,
  never several at once.
- After a caesarean, exercises that lift more than her baby (`lifting`) stay off her daily
  list until she is cleared, whatever stage or override they come with.
- During an urgent (tier 2) hold nothing is on her daily list: she should not exercise.
- Her coach may tailor what a stage asks of her (`changes`): a new dose, an exercise swapped,
  added or removed, each from the instant she made it. Before it, the stage asks what it asked.
- Her coach may move her to another program (`earlier`): her program days run on from the same
  start date, and until the instant of the move the old program's stages applied.
- The program ends after 7 × weeks program days.
- A local time that does not exist (clocks spring forward) moves to the first minute after the
  gap; a local time that happens twice (clocks fall back) means the first occurrence.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

AFTER_BIRTH = timedelta(weeks=6)  # before this, loaded stages stay closed
PACE_DAYS = 7  # a stage kept back past its week: the next opens at least this many days later


@dataclass(frozen=True)
class Interval:
    """A span of time between two instants; `end` None means it has not ended."""

    start: datetime
    end: datetime | None = None
    urgent: bool = False  # a tier-2 hold: no exercise at all while it lasts


@dataclass(frozen=True)
class PrescriptionSpec:
    key: int
    days_per_week: int
    lifting: bool = False  # lifts more than her baby


@dataclass(frozen=True)
class StageSpec:
    key: int
    unlock_week: int
    open_before_clearance: bool = False
    ongoing: bool = False
    prescriptions: tuple[PrescriptionSpec, ...] = ()
    loaded: bool = False  # waits until 6 weeks after birth


@dataclass(frozen=True)
class Change:
    """Her coach tailored stage `stage` from the instant `since`: `replaces` (a prescription key)
    comes off her list, and `spec` goes on in its place, or at the end if it replaces nothing.
    A dose change replaces the old prescription with a new one; a removal has no `spec`."""

    stage: int
    since: datetime
    replaces: int | None = None
    spec: PrescriptionSpec | None = None


@dataclass(frozen=True)
class Era:
    """A program she followed until her coach moved her to another, at `until`."""

    until: datetime
    weeks: int
    stages: tuple[StageSpec, ...]


@dataclass(frozen=True)
class EnrolmentFacts:
    start_date: date
    tz: ZoneInfo
    weeks: int
    stages: tuple[StageSpec, ...]
    pauses: tuple[Interval, ...] = ()
    cleared_at: datetime | None = None
    holds: tuple[Interval, ...] = ()  # red-flag holds: the clock stops as in a pause
    opened_early: frozenset[int] = frozenset()  # stage keys her coach opened before their week
    held_stages: frozenset[int] = frozenset()  # stage keys her coach keeps closed
    # (stage key, instant) for each override above; one without an instant has always applied.
    override_times: tuple[tuple[int, datetime], ...] = ()
    birth_date: date | None = None  # estimated; None: unknown, and no birth rule applies
    caesarean: bool = False
    changes: tuple[Change, ...] = ()  # her coach's tailoring, oldest first
    earlier: tuple[Era, ...] = ()  # programs she was moved from, oldest first


class Lock(StrEnum):
    OPEN = "open"
    SCHEDULED = "scheduled"  # opens at `opens_at`
    CLEARANCE = "clearance"  # waits for her clinician's clearance
    PAUSED = "paused"  # opens some time after she resumes
    HELD = "held"  # opens some time after a coach or clinician clears the hold
    COACH = "coach"  # her coach is keeping this stage closed for now
    BIRTH = "birth"  # loaded: opens 6 weeks after birth, at `opens_at`
    PACED = "paced"  # opens a week after the stage before it, at `opens_at`


@dataclass(frozen=True)
class StageState:
    spec: StageSpec
    lock: Lock
    opens_at: datetime | None = None  # UTC; known only when her program is running
    opened_at: datetime | None = None  # UTC, when open; None if not known

    @property
    def is_open(self) -> bool:
        return self.lock is Lock.OPEN


@dataclass(frozen=True)
class Snapshot:
    """Her program as it stands at one instant."""

    today: date  # her local date
    program_day: int  # negative before the start
    week: int  # 0 before the start, then 1..weeks; stays at `weeks` once finished
    weeks: int
    paused: bool
    held: bool
    finished: bool
    stages: tuple[StageState, ...]
    ends_at: datetime | None  # UTC; None while paused or held
    starts_at: datetime | None = None  # UTC; set only before the start
    focus: tuple[StageSpec, ...] = field(default=())
    urgent: bool = False  # an urgent (tier 2) hold: no exercise until it is cleared
    # The prescriptions of `focus` she may do: none while urgent, no lifting after a caesarean
    # before clearance.
    daily: tuple[PrescriptionSpec, ...] = ()

    @property
    def started(self) -> bool:
        return self.program_day >= 0

    @property
    def open_stages(self) -> tuple[StageSpec, ...]:
        return tuple(s.spec for s in self.stages if s.is_open)

    @property
    def running(self) -> bool:
        """Started, not finished, and neither paused nor held."""
        return self.started and not self.finished and not self.paused and not self.held

    @property
    def progress_percent(self) -> int:
        """How far through the program she is, for a progress bar."""
        total = 7 * self.weeks
        return max(0, min(100, round(100 * max(self.program_day, 0) / total)))

    def state_of(self, key: int) -> StageState:
        return next(s for s in self.stages if s.spec.key == key)


@lru_cache(maxsize=8192)  # pure, and asked for the same midnights many times over
def local_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant at which `day` `at` happens on the wall clocks of `tz`.

    A wall time skipped by a DST change moves to the first minute after the gap; a wall time
    that happens twice resolves to its first occurrence.
    """
    wall = datetime.combine(day, at).replace(tzinfo=tz, fold=0)
    first = wall.astimezone(UTC)
    if first.astimezone(tz).replace(tzinfo=None) == wall.replace(tzinfo=None):
        return first
    # `wall` falls in a gap. With fold=0 zoneinfo read it with the offset from before the gap,
    # which lands after the transition; with fold=1, before it. The transition lies between.
    before = wall.replace(fold=1).astimezone(UTC)
    after = first
    if before > after:
        before, after = after, before
    while after - before > timedelta(minutes=1):
        middle = before + (after - before) / 2
        middle = middle.replace(second=0, microsecond=0)
        if middle <= before:
            break
        if middle.astimezone(tz).utcoffset() == after.astimezone(tz).utcoffset():
            after = middle
        else:
            before = middle
    return after


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The instant her local `day` begins, in UTC."""
    return local_instant(day, time(0, 0), tz)


def stopped_days_before(facts: EnrolmentFacts, day: date) -> int:
    """Local days from her start date up to (not including) `day` on which her program stood
    still, paused or held. A pause counts from the local date it began to the local date it
    ended, so pausing and resuming on the same day costs nothing; overlapping spans count once.
    """
    spans = []
    for interval in facts.pauses + facts.holds:
        first = max(interval.start.astimezone(facts.tz).date(), facts.start_date)
        last = interval.end.astimezone(facts.tz).date() if interval.end else day
        last = min(last, day)
        if last > first:
            spans.append((first, last))
    total, reached = 0, facts.start_date
    for first, last in sorted(spans):
        first = max(first, reached)
        if last > first:
            total += (last - first).days
            reached = last
    return total


def program_day_on(facts: EnrolmentFacts, day: date) -> int:
    """Her program day on local date `day`: 0 on the start date, negative before it."""
    elapsed = (day - facts.start_date).days
    if elapsed <= 0:
        return elapsed
    return elapsed - stopped_days_before(facts, day)


def week_of_day(program_day: int, weeks: int) -> int:
    """The program week (1-based) a program day belongs to; 0 before the start."""
    if program_day < 0:
        return 0
    return min(program_day // 7 + 1, weeks)


def _covers(intervals: tuple[Interval, ...], now: datetime) -> bool:
    return any(i.start <= now and (i.end is None or now < i.end) for i in intervals)


def is_paused_at(facts: EnrolmentFacts, now: datetime) -> bool:
    return _covers(facts.pauses, now)


def is_held_at(facts: EnrolmentFacts, now: datetime) -> bool:
    return _covers(facts.holds, now)


def is_cleared_at(facts: EnrolmentFacts, now: datetime) -> bool:
    return facts.cleared_at is not None and facts.cleared_at <= now


def is_urgent_at(facts: EnrolmentFacts, now: datetime) -> bool:
    return _covers(tuple(h for h in facts.holds if h.urgent), now)


def loaded_from(facts: EnrolmentFacts) -> datetime | None:
    """When stages that load the body may open: local midnight 6 weeks after her birth date.
    None if her birth date is unknown."""
    if facts.birth_date is None:
        return None
    return local_midnight(facts.birth_date + AFTER_BIRTH, facts.tz)


def before_six_weeks(facts: EnrolmentFacts, now: datetime) -> bool:
    """Whether `now` is earlier than 6 weeks after birth: a clearance reported now is
    unusually early, and is confirmed with her first."""
    ready = loaded_from(facts)
    return ready is not None and now < ready


def override_in_force(facts: EnrolmentFacts, keys: frozenset[int], key: int, now: datetime) -> bool:
    """Whether her coach's override of stage `key` (one of `keys`) had been made by `now`."""
    if key not in keys:
        return False
    made = dict(facts.override_times).get(key)
    return made is None or made <= now


@dataclass(frozen=True)
class _Opening:
    day: int  # the program day from which it may open
    why: Lock  # SCHEDULED, BIRTH or PACED: what sets that day


def _openings(facts: EnrolmentFacts, cleared: bool) -> dict[int, _Opening]:
    """Each stage's opening program day, as the rules set it, given whether she is cleared.

    A stage opens on its week's first day, but not before she is cleared (if it waits for
    clearance) nor before 6 weeks after birth (if loaded). A stage kept back past its week by
    either pushes the next one to at least 7 program days after it: a late clearance opens the
    stages whose weeks have passed one a week, not all at once. Stages that wait for a
    clearance not yet given take no part (they cannot open).
    """
    clear_day = birth_day = None
    if cleared and facts.cleared_at is not None:
        clear_day = program_day_on(facts, facts.cleared_at.astimezone(facts.tz).date())
    ready = loaded_from(facts)
    if ready is not None:
        birth_day = program_day_on(facts, ready.astimezone(facts.tz).date())
    found: dict[int, _Opening] = {}
    pushed: int | None = None  # the day the last kept-back stage opened
    for spec in sorted(facts.stages, key=lambda s: (s.unlock_week, s.key)):
        gated = not spec.open_before_clearance
        if gated and clear_day is None:
            continue
        scheduled = 7 * (spec.unlock_week - 1)
        day, why = scheduled, Lock.SCHEDULED
        if gated and clear_day > day:
            day = clear_day
        if spec.loaded and birth_day is not None and birth_day > day:
            day, why = birth_day, Lock.BIRTH
        if pushed is not None and pushed + PACE_DAYS > day:
            day, why = pushed + PACE_DAYS, Lock.PACED
        found[spec.key] = _Opening(day, why)
        pushed = day if day > scheduled else None
    return found


def snapshot(facts: EnrolmentFacts, now: datetime) -> Snapshot:
    """Everything the schedule knows about her program at the instant `now`."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    facts = program_at(facts, now)
    today = now.astimezone(facts.tz).date()
    day = program_day_on(facts, today)
    paused = is_paused_at(facts, now)
    held = is_held_at(facts, now)
    urgent = is_urgent_at(facts, now)
    cleared = is_cleared_at(facts, now)
    ready = loaded_from(facts)
    total_days = 7 * facts.weeks
    openings = _openings(facts, cleared)

    def day_instant(program_day: int) -> datetime | None:
        """When a future program day begins, if her program clock is moving."""
        if paused or held:
            return None
        return local_midnight(today + timedelta(days=program_day - day), facts.tz)

    def began(program_day: int) -> datetime:
        """When a program day already reached began."""
        first = _first_date_with_program_day(facts, max(program_day, 0), today)
        return local_midnight(first, facts.tz)

    def opened_at(spec: StageSpec, since: datetime | None) -> datetime | None:
        """The latest of what it waited for: `since`, her clearance, 6 weeks after birth."""
        waits = [since]
        if not spec.open_before_clearance:
            waits.append(facts.cleared_at)
        if spec.loaded:
            waits.append(ready)
        known = [w for w in waits if w is not None]
        return max(known) if known else None

    states = []
    for spec in sorted(facts.stages, key=lambda s: (s.unlock_week, s.key)):
        scheduled = 7 * (spec.unlock_week - 1)
        too_soon = spec.loaded and ready is not None and now < ready
        if override_in_force(facts, facts.held_stages, spec.key, now):
            states.append(StageState(spec, Lock.COACH))
        elif not cleared and not spec.open_before_clearance:
            opens_at = None if day >= scheduled else day_instant(scheduled)
            states.append(StageState(spec, Lock.CLEARANCE, opens_at))
        elif override_in_force(facts, facts.opened_early, spec.key, now):
            made = dict(facts.override_times).get(spec.key)
            if too_soon:
                states.append(StageState(spec, Lock.BIRTH, ready))
            else:
                states.append(StageState(spec, Lock.OPEN, opened_at=opened_at(spec, made)))
        else:
            opening = openings[spec.key]
            if too_soon:
                at = ready if day >= opening.day else day_instant(opening.day)
                states.append(StageState(spec, Lock.BIRTH, at))
            elif day >= opening.day:
                since = began(opening.day)
                states.append(StageState(spec, Lock.OPEN, opened_at=opened_at(spec, since)))
            elif paused:
                states.append(StageState(spec, Lock.PAUSED))
            elif held:
                states.append(StageState(spec, Lock.HELD))
            else:
                states.append(StageState(spec, opening.why, day_instant(opening.day)))

    open_specs = [s.spec for s in states if s.is_open]
    focus = focus_stages(open_specs)
    return Snapshot(
        today=today,
        program_day=day,
        week=week_of_day(day, facts.weeks),
        weeks=facts.weeks,
        paused=paused,
        held=held,
        finished=day >= total_days,
        stages=tuple(states),
        ends_at=None if day >= total_days else day_instant(total_days),
        starts_at=day_instant(0) if day < 0 else None,
        focus=focus,
        urgent=urgent,
        daily=() if urgent else daily_list(facts, focus, cleared, now),
    )


def program_at(facts: EnrolmentFacts, now: datetime) -> EnrolmentFacts:
    """Her facts with the program she followed at `now`: an earlier one if her coach moved her
    after `now`."""
    for era in facts.earlier:
        if now < era.until:
            return replace(facts, weeks=era.weeks, stages=era.stages)
    return facts


def prescribed(
    facts: EnrolmentFacts, stage: StageSpec, now: datetime
) -> tuple[PrescriptionSpec, ...]:
    """What `stage` asks of her at `now`: its prescriptions, with her coach's changes made by
    then applied in order."""
    found = list(stage.prescriptions)
    for change in facts.changes:
        if change.stage != stage.key or change.since > now:
            continue
        keys = [p.key for p in found]
        if change.replaces in keys:
            at = keys.index(change.replaces)
            del found[at]
            if change.spec is not None:
                found.insert(at, change.spec)
        elif change.spec is not None and change.replaces is None:
            found.append(change.spec)
    return tuple(found)


def all_prescriptions(facts: EnrolmentFacts) -> dict[int, PrescriptionSpec]:
    """Every prescription she may have been asked to do, by key, in program order: her
    programs' and her coach's."""
    found: dict[int, PrescriptionSpec] = {}
    stages = [s for era in facts.earlier for s in era.stages] + list(facts.stages)
    for stage in sorted(stages, key=lambda s: (s.unlock_week, s.key)):
        for p in stage.prescriptions:
            found.setdefault(p.key, p)
        for change in facts.changes:
            if change.stage == stage.key and change.spec is not None:
                found.setdefault(change.spec.key, change.spec)
    return found


def daily_list(
    facts: EnrolmentFacts, focus: tuple[StageSpec, ...], cleared: bool, now: datetime
) -> tuple[PrescriptionSpec, ...]:
    """The prescriptions of the stages on her daily list that she may do at `now`, as her coach
    tailored them: after a caesarean, nothing that lifts more than her baby until she is
    cleared, whatever stage it is in."""
    withheld = facts.caesarean and not cleared
    return tuple(
        p for s in focus for p in prescribed(facts, s, now) if not (withheld and p.lifting)
    )


def focus_stages(open_stages: list[StageSpec]) -> tuple[StageSpec, ...]:
    """The stages on her daily list: the newest open one(s), plus any marked ongoing."""
    if not open_stages:
        return ()
    newest = max(s.unlock_week for s in open_stages)
    return tuple(s for s in open_stages if s.ongoing or s.unlock_week == newest)


def week_dates(facts: EnrolmentFacts, week: int, today: date) -> tuple[date, date] | None:
    """The first and last local dates (inclusive) on which program week `week` ran, as of
    `today`. Paused days inside the week stretch it. None if the week has not begun."""
    first_day = 7 * (week - 1)
    if program_day_on(facts, today) < first_day:
        return None
    start = _first_date_with_program_day(facts, first_day, today)
    if program_day_on(facts, today) < first_day + 7:
        return start, today
    end = _first_date_with_program_day(facts, first_day + 7, today) - timedelta(days=1)
    return start, end


def finished_on(facts: EnrolmentFacts, today: date) -> date | None:
    """The local date her program finished (its first date past the last program day), if it
    had by `today`."""
    total = 7 * facts.weeks
    if program_day_on(facts, today) < total:
        return None
    return _first_date_with_program_day(facts, total, today)


def _first_date_with_program_day(facts: EnrolmentFacts, program_day: int, today: date) -> date:
    # Program days only advance, by at most one a local day, so this walk is short:
    # start at the earliest possible date and step forward past the days that stood still.
    candidate = facts.start_date + timedelta(days=program_day)
    while program_day_on(facts, candidate) < program_day and candidate < today:
        candidate += timedelta(days=program_day - program_day_on(facts, candidate))
    return candidate


def week_snapshot(facts: EnrolmentFacts, week: int, now: datetime) -> Snapshot | None:
    """Her program as it stood at the end of program week `week` (or now, if the week is
    still running). None if the week has not begun."""
    today = now.astimezone(facts.tz).date()
    span = week_dates(facts, week, today)
    if span is None:
        return None
    end_of_week = local_midnight(span[1] + timedelta(days=1), facts.tz) - timedelta(microseconds=1)
    return snapshot(facts, min(now, end_of_week))


@cache  # asked for every prescription of every snapshot; there are only seven answers
def training_weekdays(days_per_week: int) -> frozenset[int]:
    """Which days of each program week (0 to 6) a prescription of N days a week falls on,
    spread out: 3 days a week is days 0, 2 and 4, leaving rest days between."""
    return frozenset(i * 7 // days_per_week for i in range(days_per_week))


def due_today(snap: Snapshot) -> tuple[PrescriptionSpec, ...]:
    """The prescriptions on her daily list whose training day today is."""
    if not snap.running:
        return ()
    weekday = snap.program_day % 7
    return tuple(p for p in snap.daily if weekday in training_weekdays(p.days_per_week))
