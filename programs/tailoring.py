"""
What her coach changes in her program for her alone, each change a recorded coach action:
- a prescription's dose (sets, reps, hold, days a week) or its exercise;
- an exercise added to a stage, or removed from it;
- her start date, moved or backdated;
- her program, for another, keeping her history.

A change to her exercises or her program applies from the instant it is made (`programs.schedule`
reads `Tailoring` and `ProgramMove` rows as of each instant), so her past days keep what was
prescribed on them. A start-date move is the exception: her whole program, past days included,
is counted again from the new date. Saving the rows marks her for planning in the model layer;
nothing here re-plans her by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, Q, prefetch_related_objects
from django.template.defaultfilters import pluralize

from programs import facts, schedule, zones
from programs.models import (
    CoachAction,
    Enrolment,
    Exercise,
    Prescription,
    Program,
    ProgramMove,
    Stage,
    Tailoring,
)

# How far ahead of her today her coach may move her start date (how far back: `start_date_range`).
LATEST_START = timedelta(weeks=12)
DOSE_FIELDS = ("sets", "reps", "hold_seconds", "days_per_week", "note")
SEPARATELY = "She is already enrolled in that program separately."


@dataclass(frozen=True)
class Dose:
    """An exercise and how much of it: what her coach gives her in place of a prescription."""

    exercise: Exercise
    sets: int
    reps: int | None
    hold_seconds: int | None
    days_per_week: int
    note: str = ""

    @classmethod
    def of(cls, prescription: Prescription) -> Dose:
        return cls(prescription.exercise, *(getattr(prescription, f) for f in DOSE_FIELDS))


def her_prescriptions(enrolment: Enrolment) -> dict[int, Prescription]:
    """Every prescription she may have been asked to do, by pk, in one query: her program's,
    those of programs she was moved from, and those her coach tailored for her."""
    programs = {enrolment.program_id, *(m.from_program_id for m in enrolment.moves.all())}
    return {
        p.pk: p
        for p in Prescription.objects.filter(
            Q(enrolment=None, stage__program_id__in=programs) | Q(enrolment=enrolment)
        ).select_related("exercise", "stage")
    }


def stage_lists(
    enrolment: Enrolment, her_facts: schedule.EnrolmentFacts, now: datetime, by_pk: dict
) -> list[tuple[Stage, list[Prescription]]]:
    """Each stage of her program with what it asks of her at `now`, as her coach tailored it.
    Uses the prefetched stages."""
    specs = {spec.key: spec for spec in her_facts.stages}
    return [
        (stage, [by_pk[p.key] for p in schedule.prescribed(her_facts, specs[stage.pk], now)])
        for stage in enrolment.program.stages.all()
    ]


def _locked(
    enrolment: Enrolment, now: datetime
) -> tuple[Enrolment, schedule.EnrolmentFacts, datetime]:
    """Her row read afresh and locked until the transaction ends, her facts, and the instant to
    make a change at. Every change checks this copy, not the one its request loaded: two
    changes at once are made one after the other, the second seeing the first, so neither is
    said to be saved without taking effect."""
    # Locked alone: PostgreSQL re-checks a locked row that another transaction changed meanwhile
    # against the rows joined to it before the wait, so a join to her program would lose her
    # row once she was moved.
    her = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
    stages = Prefetch("program__stages", queryset=Stage.objects.with_prescriptions())
    prefetch_related_objects([her], stages, *facts.HER_FACTS)
    her_facts = her.facts()
    # A request that read the clock before another but took her row after it makes its change
    # just after that one: changes apply in the order of their instants, so one read and made
    # as of an earlier instant would not see the other, and would undo it. (One made at the
    # same instant is seen, and applies first: its row is older.)
    made = [c.since for c in her_facts.changes] + [e.until for e in her_facts.earlier]
    if made and max(made) > now:
        now = max(made) + timedelta(microseconds=1)
    return her, her_facts, now


def _current(her_facts: schedule.EnrolmentFacts, stage: Stage, now: datetime) -> list[int]:
    """The prescription keys `stage` asks of her at `now`; refused if `stage` is not in her
    program (she was moved to another since the page was loaded)."""
    spec = next((s for s in her_facts.stages if s.key == stage.pk), None)
    if spec is None:
        raise ValidationError(f"{stage.title} is no longer in her program; reload the page.")
    return [p.key for p in schedule.prescribed(her_facts, spec, now)]


def _new_prescription(enrolment, stage, position, dose: Dose) -> Prescription:
    prescription = Prescription(
        stage=stage,
        enrolment=enrolment,
        position=position,
        exercise=dose.exercise,
        **{f: getattr(dose, f) for f in DOSE_FIELDS},
    )
    prescription.full_clean(exclude=["enrolment"])
    prescription.save()
    return prescription


def _tailor(enrolment, stage, kind, replaces, prescription, actor, now) -> Tailoring:
    tailoring = Tailoring.objects.create(
        enrolment=enrolment,
        stage=stage,
        kind=kind,
        replaces=replaces,
        prescription=prescription,
        made_at=now,
        made_by=actor,
    )
    CoachAction.record(enrolment, actor, CoachAction.Kind.TAILORED, now, tailoring.summary)
    return tailoring


@transaction.atomic
def change(enrolment: Enrolment, old: Prescription, dose: Dose, actor, now: datetime) -> Tailoring:
    """Her prescription `old` becomes `dose` from now: a new dose, or another exercise (a swap)."""
    her, her_facts, now = _locked(enrolment, now)
    current = _current(her_facts, old.stage, now)
    if old.pk not in current:
        raise ValidationError("That exercise is no longer on her list; reload the page.")
    if dose == Dose.of(old):
        raise ValidationError("Nothing changed: the dose and exercise are as they were.")
    swap = dose.exercise.pk != old.exercise_id
    if swap:
        _refuse_twice(dose.exercise, current, exclude=old.pk)
    new = _new_prescription(her, old.stage, old.position, dose)
    kind = Tailoring.Kind.SWAP if swap else Tailoring.Kind.DOSE
    return _tailor(her, old.stage, kind, old, new, actor, now)


@transaction.atomic
def add(enrolment: Enrolment, stage: Stage, dose: Dose, actor, now: datetime) -> Tailoring:
    """`dose` joins what `stage` asks of her, from now, after its other exercises."""
    her, her_facts, now = _locked(enrolment, now)
    current = _current(her_facts, stage, now)
    _refuse_twice(dose.exercise, current)
    last = Prescription.objects.filter(pk__in=current).order_by("-position").first()
    new = _new_prescription(her, stage, (last.position + 1) if last else 1, dose)
    return _tailor(her, stage, Tailoring.Kind.ADD, None, new, actor, now)


@transaction.atomic
def remove(enrolment: Enrolment, old: Prescription, actor, now: datetime) -> Tailoring:
    """`old` comes off her list from now."""
    her, her_facts, now = _locked(enrolment, now)
    if old.pk not in _current(her_facts, old.stage, now):
        raise ValidationError("That exercise is no longer on her list; reload the page.")
    return _tailor(her, old.stage, Tailoring.Kind.REMOVE, old, None, actor, now)


def _refuse_twice(exercise: Exercise, current: list[int], exclude: int | None = None) -> None:
    others = [pk for pk in current if pk != exclude]
    if Prescription.objects.filter(pk__in=others, exercise=exercise).exists():
        raise ValidationError(f"{exercise.name} is already in this stage for her.")


def start_date_range(her_facts: schedule.EnrolmentFacts, now: datetime) -> tuple[date, date]:
    """The earliest and latest start date her coach may give her at `now`: the earliest on
    which her program would not be over already, and `LATEST_START` after her today."""
    today = now.astimezone(her_facts.tz).date()
    # Her last program day is today if she started 7 × weeks − 1 days ago; days on which her
    # program stood still let it start earlier still.
    earliest = today - timedelta(days=7 * her_facts.weeks - 1)
    while not _over_already(her_facts, earliest - timedelta(days=1), now):
        earliest -= timedelta(days=1)
    return earliest, today + LATEST_START


def _over_already(her_facts: schedule.EnrolmentFacts, start: date, now: datetime) -> bool:
    return schedule.snapshot(replace(her_facts, start_date=start), now).finished


@transaction.atomic
def move_start(enrolment: Enrolment, start: date, actor, now: datetime) -> None:
    """Her program's week 1 begins on `start` (her local date) instead."""
    her, her_facts, now = _locked(enrolment, now)
    if not her.is_current:
        raise ValidationError("Her program has ended; its start date stays as it was.")
    zones.validate_date(start)
    earliest, latest = start_date_range(her_facts, now)
    if _over_already(her_facts, start, now):
        # Planning would mark her program completed, and it could not be moved again.
        raise ValidationError(
            f"From {start:%-d %B %Y} her {her_facts.weeks}-week program would be over already. "
            f"Choose one on or after {earliest:%-d %B %Y}, or move her to a longer program."
        )
    if start > latest:
        raise ValidationError(
            f"Choose a start date from {earliest:%-d %B %Y} to {latest:%-d %B %Y}."
        )
    if start == her.start_date:
        raise ValidationError("That is already her start date.")
    before = her.start_date
    her.start_date = start
    her.save(update_fields=["start_date"])
    detail = f"From {before:%-d %B %Y} to {start:%-d %B %Y}"
    CoachAction.record(her, actor, CoachAction.Kind.MOVED_START, now, detail)


@transaction.atomic
def move_program(enrolment: Enrolment, program: Program, actor, now: datetime) -> ProgramMove:
    """She follows `program` from now, on the same start date; her history stays."""
    her, her_facts, now = _locked(enrolment, now)
    if not her.is_current:
        raise ValidationError("Her program has ended; she cannot be moved.")
    if program.pk == her.program_id:
        raise ValidationError("She is already in that program.")
    if not program.is_published:
        raise ValidationError("That program is not published.")
    clash = Enrolment.objects.filter(
        user_id=her.user_id, program=program, status__in=Enrolment.CURRENT
    )
    if clash.exists():
        raise ValidationError(SEPARATELY)
    day = schedule.snapshot(her_facts, now).program_day
    if day >= 7 * program.weeks:
        raise ValidationError(
            f"{program.name} has {program.weeks} week{pluralize(program.weeks)} and she is on day "
            f"{day + 1}: it would end at once. Move her start date first, or choose a longer "
            "program."
        )
    move = ProgramMove.objects.create(
        enrolment=her,
        from_program_id=her.program_id,
        to_program=program,
        moved_at=now,
        moved_by=actor,
    )
    before = her.program
    her.program = program
    try:
        with transaction.atomic():
            her.save(update_fields=["program"])
    except IntegrityError:
        # She enrolled in it herself after the check above: the constraint refuses it.
        raise ValidationError(SEPARATELY) from None
    CoachAction.record(
        her,
        actor,
        CoachAction.Kind.MOVED_PROGRAM,
        now,
        f"From {before.name} to {program.name}",
    )
    return move


# What she sees of her coach's changes on Today, and for how long.
SHOWN_CHANGES = (
    CoachAction.Kind.TAILORED,
    CoachAction.Kind.MOVED_START,
    CoachAction.Kind.MOVED_PROGRAM,
)
SHOWN_FOR = timedelta(days=14)


def recent_changes(enrolment: Enrolment, now: datetime) -> list[CoachAction]:
    """Her coach's changes to her program in the last two weeks, newest first."""
    return list(
        enrolment.actions.filter(kind__in=SHOWN_CHANGES, at__gte=now - SHOWN_FOR).order_by("-at")[
            :10
        ]
    )
