"""
The schedule's facts loaded from the database in batches, for planning, delivery and the coach
pages: each program's stages once, and for each enrolment what `programs.reminders` needs.

A fixed number of queries per batch, however many enrolments are in it. An enrolment whose facts
cannot be built (a time zone `zoneinfo` cannot load, say) is reported apart, so that it stops
no one else.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Max, Prefetch, Q
from django.utils import timezone

from programs import notifications, reminders, schedule
from programs.models import (
    Enrolment,
    Hold,
    Notification,
    Pause,
    Prescription,
    Program,
    ProgramMove,
    SessionLog,
    Stage,
    StageOverride,
    Tailoring,
)

Status = Notification.Status


def program_stages():
    """Stages with their programs' own prescriptions and exercises, to prefetch."""
    return Stage.objects.prefetch_related(
        Prefetch(
            "prescriptions",
            queryset=Prescription.objects.of_programs().select_related("exercise"),
        )
    )


def program_specs(program_ids: Iterable[int] | None = None) -> dict[int, tuple]:
    """Each program's stages as schedule values, loaded once for a whole batch."""
    programs = Program.objects.prefetch_related(Prefetch("stages", queryset=program_stages()))
    if program_ids is not None:
        programs = programs.filter(pk__in=list(program_ids))
    return {p.pk: tuple(stage.spec() for stage in p.stages.all()) for p in programs}


@dataclass
class Related:
    """Her rows besides her enrolment that her facts are built from (`HER_FACTS`)."""

    pauses: list[Pause] = field(default_factory=list)
    holds: list[Hold] = field(default_factory=list)
    overrides: list[StageOverride] = field(default_factory=list)
    tailorings: list[Tailoring] = field(default_factory=list)
    moves: list[ProgramMove] = field(default_factory=list)

    @classmethod
    def prefetched(cls, enrolment: Enrolment) -> Related:
        """Read from her prefetched relations (`with_facts`, `HER_FACTS`)."""
        return cls(
            pauses=list(enrolment.pauses.all()),
            holds=list(enrolment.holds.all()),
            overrides=list(enrolment.overrides.all()),
            tailorings=list(enrolment.tailorings.all()),
            moves=list(enrolment.moves.all()),
        )


def related_for(enrolment_ids: Iterable[int]) -> dict[int, Related]:
    """`Related` for each of a batch of enrolments, in one query per kind of row, grouped here.
    What prefetching `HER_FACTS` loads, without the queryset prefetch_related builds for each
    enrolment and relation: for a planning batch, most of the time of loading it."""
    ids = list(enrolment_ids)
    found = {pk: Related() for pk in ids}
    for name, rows in (
        ("pauses", Pause.objects.all()),
        ("holds", Hold.objects.all()),
        ("overrides", StageOverride.objects.all()),
        ("tailorings", Tailoring.objects.select_related("prescription__exercise")),
        ("moves", ProgramMove.objects.select_related("from_program")),
    ):
        for row in rows.filter(enrolment_id__in=ids):
            getattr(found[row.enrolment_id], name).append(row)
    return found


def specs_for(
    batch: Iterable[Enrolment], related: dict[int, Related] | None = None
) -> dict[int, tuple]:
    """The stages of every program the batch's enrolments follow or followed, loaded once.
    Reads the moves in `related`, else the prefetched ones (`with_facts`)."""
    ids = set()
    for e in batch:
        ids.add(e.program_id)
        moves = related[e.pk].moves if related is not None else e.moves.all()
        ids.update(m.from_program_id for m in moves)
    return program_specs(ids)


def enrolment_facts(
    enrolment: Enrolment, specs: dict[int, tuple] | None = None, related: Related | None = None
) -> schedule.EnrolmentFacts:
    """The plain values the schedule works from. Uses prefetched stages (with their
    prescriptions and exercises), and her pauses, holds, overrides, tailorings and moves from
    `related`, else prefetched; batch callers pass in the stages of the programs
    (`specs_for`)."""
    if related is None:
        related = Related.prefetched(enrolment)
    moves = related.moves
    if specs is None:
        specs = {enrolment.program_id: tuple(s.spec() for s in enrolment.program.stages.all())}
        if missing := {m.from_program_id for m in moves} - specs.keys():
            specs.update(program_specs(missing))
    overrides = related.overrides
    return schedule.EnrolmentFacts(
        start_date=enrolment.start_date,
        tz=enrolment.tz,
        weeks=enrolment.program.weeks,
        stages=specs[enrolment.program_id],
        pauses=tuple(schedule.Interval(p.started_at, p.ended_at) for p in related.pauses),
        cleared_at=enrolment.cleared_at,
        holds=tuple(
            schedule.Interval(h.started_at, h.cleared_at, urgent=h.tier == 2) for h in related.holds
        ),
        opened_early=frozenset(
            o.stage_id for o in overrides if o.action == StageOverride.Action.OPEN
        ),
        held_stages=frozenset(
            o.stage_id for o in overrides if o.action == StageOverride.Action.HOLD
        ),
        override_times=tuple((o.stage_id, o.created_at) for o in overrides),
        birth_date=birth_date(enrolment),
        caesarean=enrolment.caesarean,
        changes=tuple(t.change() for t in related.tailorings),
        earlier=tuple(
            schedule.Era(m.moved_at, m.from_program.weeks, specs[m.from_program_id]) for m in moves
        ),
    )


def birth_date(enrolment: Enrolment) -> date:
    """Her baby's birth date, estimated: the local date she enrolled, less the weeks since
    birth she gave then."""
    enrolled = enrolment.created_at or timezone.now()  # not saved yet: she is enrolling now
    return enrolled.astimezone(enrolment.tz).date() - timedelta(weeks=enrolment.weeks_postpartum)


def with_facts(enrolments):
    """The queryset, loading what `Enrolment.facts` reads."""
    return enrolments.select_related("program", "user").prefetch_related(*HER_FACTS)


# What `enrolment_facts` reads besides her row and her program's stages, to prefetch.
HER_FACTS = (
    "pauses",
    "holds",
    "overrides",
    Prefetch("tailorings", queryset=Tailoring.objects.select_related("prescription__exercise")),
    Prefetch("moves", queryset=ProgramMove.objects.select_related("from_program")),
)


def recipients(
    batch: list[Enrolment], specs: dict[int, tuple], related: dict[int, Related] | None = None
) -> tuple[dict[int, reminders.Recipient], dict[int, Exception]]:
    """What planning needs of each enrolment, and the error of each whose facts are broken.
    Her pauses, holds, overrides, tailorings and moves come from `related` (`related_for`),
    else from her prefetched relations."""
    ids = [e.pk for e in batch]
    last_sessions = dict(
        SessionLog.objects.filter(enrolment_id__in=ids)
        .values("enrolment_id")
        .annotate(last=Max("local_date"))
        .values_list("enrolment_id", "last")
    )
    # Nudges on their way or sent, and snoozes not yet sent (a cancelled one is wanted again if
    # she resumes in time), in one query. At most one snooze a day: few rows, however old.
    sent_nudges: dict[int, list[tuple[str, object]]] = {}
    snoozes: dict[int, set[tuple[date, object]]] = {}
    for pk, kind, key, scheduled_for in Notification.objects.filter(
        Q(
            kind=notifications.NUDGE.key,
            status__in=[Status.SENDING, Status.SENT, Status.FAILED],
        )
        | Q(
            kind=notifications.SNOOZE.key,
            status__in=[Status.PENDING, Status.SENDING, Status.CANCELLED],
        ),
        enrolment_id__in=ids,
    ).values_list("enrolment_id", "kind", "key", "scheduled_for"):
        if kind == notifications.NUDGE.key:
            sent_nudges.setdefault(pk, []).append((key, scheduled_for))
        else:
            snoozes.setdefault(pk, set()).add((date.fromisoformat(key), scheduled_for))

    found, broken = {}, {}
    for e in batch:
        try:
            facts = enrolment_facts(e, specs, related[e.pk] if related is not None else None)
            nudges: set[tuple[int, date]] = {
                (int(key.removeprefix("week-")), at.astimezone(facts.tz).date())
                for key, at in sent_nudges.get(e.pk, ())
            }
            found[e.pk] = reminders.Recipient(
                facts=facts,
                reminder_time=e.reminder_time,
                turned_off=e.turned_off,
                last_session=last_sessions.get(e.pk),
                nudges=frozenset(nudges),
                weekday_times=e.weekday_times,
                snoozes=frozenset(snoozes.get(e.pk, ())),
            )
        except Exception as error:  # her data alone is at fault; the batch goes on
            broken[e.pk] = error
    return found, broken


def describe(error: Exception) -> str:
    """An error as recorded for staff: its type and message, never her data."""
    return f"{type(error).__name__}: {error}"[:500]
