"""
Each client's standing, the row the coach's dashboard shows for her, stored (`ClientStatus`)
so that a dashboard of any size filters, sorts and pages in the database.

`compute` is pure: her schedule facts, logs, pains and guided sessions, and the instant, in;
the row's values out. `refresh` loads, computes and saves rows in a fixed number of queries;
the model layer's receivers (programs.models) call it on every event that can change a row, in
the same transaction. What changes with time alone (her week, the last 7 days, days without a
session) changes at her local midnight, or at an instant already recorded (a pause or clearance
stamped ahead): each row keeps the next such instant (`rolls_over_at`), and `roll_over`
recomputes only the rows that reached it, in batches.

Reminders failing is the outbox's state, not hers: the dashboard reads it live.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction

from programs import coaching, schedule
from programs.coaching import Flag

log = logging.getLogger(__name__)

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
    rolls_over_at: datetime  # the next instant it changes without an event (UTC)
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


def percent(done: int, expected: int) -> int:
    """As the dashboard has always rounded it."""
    return round(100 * done / expected) if expected else 0


def next_change(facts: schedule.EnrolmentFacts, now: datetime) -> datetime:
    """The first instant after `now` at which her standing may change with no new event: her
    next local midnight, or sooner an instant already in her facts (a pause, hold, override,
    tailoring, move or clearance stamped ahead, the end of 6 weeks after birth)."""
    today = now.astimezone(facts.tz).date()
    midnight = schedule.local_midnight(today + timedelta(days=1), facts.tz)
    if midnight <= now:  # in an hour repeated across midnight (clocks back at 00:00)
        midnight = schedule.local_midnight(today + timedelta(days=2), facts.tz)
    candidates = [midnight]
    instants = [facts.cleared_at, schedule.loaded_from(facts)]
    for interval in facts.pauses + facts.holds:
        instants += [interval.start, interval.end]
    instants += [at for _, at in facts.override_times]
    instants += [c.since for c in facts.changes] + [era.until for era in facts.earlier]
    candidates += [at for at in instants if at is not None and at > now]
    return min(candidates)


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
        rolls_over_at=next_change(facts, now),
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


# The database side: load, compute, save.


def values(standing: Standing, now: datetime) -> dict:
    """A ClientStatus row's fields for a standing."""
    from programs.roles import NEUTRAL_FLAGS

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
        "recent_percent": percent(*standing.recent),
        "overall_done": standing.overall[0],
        "overall_expected": standing.overall[1],
        "overall_percent": percent(*standing.overall),
        "last_activity": standing.last_activity,
        "last_pain": standing.last_pain,
        "pains": list(standing.pains),
        **{flag.value: flag in standing.flags for flag in STORED_FLAGS},
        "rank": rank(standing.flags),
        "neutral_rank": rank(f for f in standing.flags if f in NEUTRAL_FLAGS),
    }


def standings(enrolment_ids: Iterable[int], now: datetime) -> Iterator[tuple[int, Standing]]:
    """Each enrolment's standing at `now`, computed from scratch in a fixed number of queries."""
    from programs import clients, facts
    from programs.models import Enrolment

    batch = list(facts.with_facts(Enrolment.objects.filter(pk__in=list(enrolment_ids))))
    if not batch:
        return
    ids = [e.pk for e in batch]
    specs = facts.specs_for(batch)
    logs, pains, guided = clients.histories(ids)
    for e in batch:
        try:
            standing = compute(
                e.facts(specs),
                now,
                logs[e.pk],
                pains[e.pk],
                urgent=clients.urgent_hold(e),
                guided=guided[e.pk],
            )
        except Exception:  # her row alone shows the problem
            log.warning("enrolment %s cannot be read by the schedule", e.pk, exc_info=True)
            standing = unreadable(e.program.weeks, now, pains[e.pk])
        yield e.pk, standing


def refresh(enrolment_ids: Iterable[int], now: datetime) -> int:
    """Recompute and save these enrolments' rows; how many were saved."""
    from programs.models import ClientStatus

    ids = sorted({pk for pk in enrolment_ids if pk is not None})
    with transaction.atomic():
        # Her row is locked before her data is read: two events at once write in turn, the
        # second from what the first committed.
        list(
            ClientStatus.objects.select_for_update().filter(pk__in=ids).order_by("pk").values("pk")
        )
        rows = [
            ClientStatus(enrolment_id=pk, **values(standing, now))
            for pk, standing in standings(ids, now)
        ]
        _save(rows)
    return len(rows)


def _save(rows: list) -> None:
    from programs.models import ClientStatus

    if rows:
        fields = [f.name for f in ClientStatus._meta.concrete_fields if f.name != "enrolment"]
        # An insert or an update in one statement: two refreshes at once cannot collide.
        ClientStatus.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["enrolment"], update_fields=fields
        )


def roll_over(now: datetime, batch_size: int, max_batches: int) -> tuple[int, int]:
    """Recompute the rows whose roll-over instant has come, oldest first, a batch per
    transaction; rows another worker holds are skipped. Returns (rows, batches)."""
    from programs.models import ClientStatus

    total = batches = 0
    while batches < max_batches:
        with transaction.atomic():
            ids = list(
                ClientStatus.objects.select_for_update(skip_locked=True)
                .filter(rolls_over_at__lte=now)
                .order_by("rolls_over_at")
                .values_list("enrolment_id", flat=True)[:batch_size]
            )
            if not ids:
                break
            total += refresh(ids, now)
        batches += 1
        if len(ids) < batch_size:
            break
    return total, batches


def rebuild(now: datetime, batch_size: int = 500, missing: bool = False) -> Iterator[int]:
    """Recompute every enrolment's row (`missing`: only of those without one), a batch at a
    time in order of id, so memory stays bounded however many there are; yields how many each
    batch saved."""
    from programs.models import Enrolment

    enrolments = Enrolment.objects.filter(standing__isnull=True) if missing else Enrolment.objects
    last = 0
    while True:
        ids = list(
            enrolments.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return
        with transaction.atomic():
            saved = refresh(ids, now)
        yield saved
        last = ids[-1]


def build_missing(now: datetime) -> None:
    """A row for each enrolment without one (an install upgraded past the migration that made
    the table); with nothing missing it is one query."""
    for _ in rebuild(now, missing=True):
        pass
