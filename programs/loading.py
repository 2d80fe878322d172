"""
Load a program shipped as plain data (see `programs.default_program`) into the database.

Rows are matched by natural keys: an exercise by its slug, a program by its slug, a stage by
(program, slug), a prescription by (stage, exercise). What is missing is created. What already
exists is left exactly as it is, so a clinic's edits in the admin survive a reload, unless
`update=True`, which writes the shipped values back over the shipped fields. Rows the data
does not mention (an admin's extra stage, say) are never touched or deleted.

Every created or changed row goes through `full_clean()`, and the whole load is one
transaction: bad data fails loudly and leaves nothing half-loaded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db import models, transaction

from programs.models import Exercise, Prescription, Program, Stage

EXERCISE_FIELDS = ("name", "instructions", "cues", "stop_if", "timing", "video_url", "lifting")
PROGRAM_FIELDS = ("name", "summary", "description", "weeks", "is_published")
STAGE_FIELDS = (
    "position",
    "title",
    "unlock_week",
    "goal",
    "description",
    "open_before_clearance",
    "ongoing",
    "loaded",
)
PRESCRIPTION_FIELDS = ("position", "sets", "reps", "hold_seconds", "days_per_week", "note")

M = TypeVar("M", bound=models.Model)


@dataclass
class Counts:
    """How many rows of one kind a load created and updated."""

    created: int = 0
    updated: int = 0


@dataclass
class LoadReport:
    """What `load_program` did, per kind of row."""

    program: Program | None = None
    programs: Counts = field(default_factory=Counts)
    stages: Counts = field(default_factory=Counts)
    exercises: Counts = field(default_factory=Counts)
    prescriptions: Counts = field(default_factory=Counts)

    def _kinds(self) -> list[tuple[str, str, Counts]]:
        return [
            ("program", "programs", self.programs),
            ("stage", "stages", self.stages),
            ("exercise", "exercises", self.exercises),
            ("prescription", "prescriptions", self.prescriptions),
        ]

    @property
    def created(self) -> int:
        """Rows created, all kinds together."""
        return sum(c.created for _, _, c in self._kinds())

    @property
    def updated(self) -> int:
        """Rows updated, all kinds together."""
        return sum(c.updated for _, _, c in self._kinds())

    def summary(self) -> str:
        """One line, e.g. "1 program, 6 stages, 21 exercises, 22 prescriptions created;
        0 updated."."""

        def counted(n: int, one: str, many: str) -> str:
            return f"{n} {one if n == 1 else many}"

        created = ", ".join(counted(c.created, one, many) for one, many, c in self._kinds())
        if not self.updated:
            return f"{created} created; 0 updated."
        updated = ", ".join(
            counted(c.updated, one, many) for one, many, c in self._kinds() if c.updated
        )
        return f"{created} created; {self.updated} updated ({updated})."


def load_program(
    data: Mapping[str, Any],
    exercises: Iterable[Mapping[str, Any]],
    *,
    update: bool = False,
) -> LoadReport:
    """Create the program described by `data` and the `exercises` it uses, where missing.

    `data` holds the program's fields plus "stages", each with its fields plus
    "prescriptions", each naming its exercise by slug under "exercise". `exercises` is a list
    of dicts with "slug" and the exercise's fields.

    With `update=False` (the default) existing rows are never changed. With `update=True`
    existing rows get the shipped values of the shipped fields. Raises `ValidationError` on
    invalid data and `ValueError` when a prescription names an exercise that does not exist;
    either way nothing is saved.
    """
    report = LoadReport()
    with transaction.atomic():
        by_slug: dict[str, Exercise] = {}
        for item in exercises:
            exercise, outcome = _upsert(
                Exercise.objects.filter(slug=item["slug"]).first(),
                lambda item=item: Exercise(slug=item["slug"]),
                item,
                EXERCISE_FIELDS,
                update,
            )
            _count(report.exercises, outcome)
            by_slug[exercise.slug] = exercise

        program, outcome = _upsert(
            Program.objects.filter(slug=data["slug"]).first(),
            lambda: Program(slug=data["slug"]),
            data,
            PROGRAM_FIELDS,
            update,
        )
        _count(report.programs, outcome)
        report.program = program

        stages = data.get("stages", [])
        if update:
            _make_room_for_positions(program, stages)
        for stage_data in stages:
            stage, outcome = _upsert(
                Stage.objects.filter(program=program, slug=stage_data["slug"]).first(),
                lambda stage_data=stage_data: Stage(program=program, slug=stage_data["slug"]),
                stage_data,
                STAGE_FIELDS,
                update,
            )
            _count(report.stages, outcome)

            for item in stage_data.get("prescriptions", []):
                exercise = _exercise(by_slug, item["exercise"], stage_data["slug"])
                _, outcome = _upsert(
                    Prescription.objects.filter(stage=stage, exercise=exercise).first(),
                    lambda stage=stage, exercise=exercise: Prescription(
                        stage=stage, exercise=exercise
                    ),
                    item,
                    PRESCRIPTION_FIELDS,
                    update,
                )
                _count(report.prescriptions, outcome)
    return report


def _upsert(
    existing: M | None,
    new: Callable[[], M],
    values: Mapping[str, Any],
    fields: tuple[str, ...],
    update: bool,
) -> tuple[M, str]:
    """Create the row, or update it if asked and it differs. Returns the row and what
    happened: "created", "updated" or "unchanged"."""
    if existing is None:
        obj = new()
        _assign(obj, values, fields)
        obj.full_clean()
        obj.save()
        return obj, "created"
    if not update or not _assign(existing, values, fields):
        return existing, "unchanged"
    existing.full_clean()
    existing.save()
    return existing, "updated"


def _assign(obj: models.Model, values: Mapping[str, Any], fields: tuple[str, ...]) -> bool:
    """Set the shipped fields present in `values`; True if anything changed."""
    changed = False
    for name in fields:
        if name in values and getattr(obj, name) != values[name]:
            setattr(obj, name, values[name])
            changed = True
    return changed


def _count(counts: Counts, outcome: str) -> None:
    if outcome == "created":
        counts.created += 1
    elif outcome == "updated":
        counts.updated += 1


def _exercise(by_slug: dict[str, Exercise], slug: str, stage_slug: str) -> Exercise:
    """The exercise a prescription names: one just loaded, or one already in the database."""
    if slug not in by_slug:
        found = Exercise.objects.filter(slug=slug).first()
        if found is None:
            raise ValueError(f"Stage {stage_slug!r} prescribes unknown exercise {slug!r}.")
        by_slug[slug] = found
    return by_slug[slug]


def _make_room_for_positions(program: Program, stages: list[Mapping[str, Any]]) -> None:
    """Before restoring shipped stage positions, move the shipped stages that an admin
    reordered out of the way, so that swapping two positions does not collide mid-way."""
    if program.pk is None:
        return
    shipped = {s["slug"]: s["position"] for s in stages if "position" in s}
    moving = [
        stage
        for stage in Stage.objects.filter(program=program, slug__in=shipped)
        if stage.position != shipped[stage.slug]
    ]
    if not moving:
        return
    top = max(Stage.objects.filter(program=program).values_list("position", flat=True))
    for offset, stage in enumerate(moving, start=1):
        Stage.objects.filter(pk=stage.pk).update(position=top + offset)
