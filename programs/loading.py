"""
Load a program shipped as plain data (see `programs.default_program`) into the database.

Rows are matched by natural keys: an exercise by its slug, a program by its slug, a stage by
(program, slug), a prescription by (stage, exercise). What is missing is created.

An existing field is replaced only when it still holds a value an earlier version shipped
(`shipped_before`): then no one has edited it, and the newer shipped value is safe to write.
Any other difference is an edit made in the admin, and it is kept, and reported as kept, so a
clinic's wording survives every upgrade. `update=True` writes the shipped values over
everything instead. Rows the data does not mention (an admin's extra stage, say) are never
touched or deleted.

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
    """What `load_program` did, per kind of row, and which fields it changed or kept."""

    program: Program | None = None
    programs: Counts = field(default_factory=Counts)
    stages: Counts = field(default_factory=Counts)
    exercises: Counts = field(default_factory=Counts)
    prescriptions: Counts = field(default_factory=Counts)
    # "exercise dead-bug: name, cues": the fields updated on each existing row.
    changed: list[str] = field(default_factory=list)
    # The same for fields left as staff edited them, though the shipped value differs.
    kept: list[str] = field(default_factory=list)

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

    def details(self) -> list[str]:
        """One line per row whose fields were changed, or kept as edited in the admin."""
        return [f"Updated {line}" for line in self.changed] + [
            f"Kept as edited in the admin: {line}" for line in self.kept
        ]


def load_program(
    data: Mapping[str, Any],
    exercises: Iterable[Mapping[str, Any]],
    *,
    update: bool = False,
    shipped_before: Mapping[str, Any] | None = None,
) -> LoadReport:
    """Create the program described by `data` and the `exercises` it uses, where missing, and
    bring existing rows up to date where staff have not edited them.

    `data` holds the program's fields plus "stages", each with its fields plus
    "prescriptions", each naming its exercise by slug under "exercise". `exercises` is a list
    of dicts with "slug" and the exercise's fields.

    `shipped_before` lists the values earlier versions shipped (see `earlier_values`): a field
    still holding one of them gets the value in `data`; any other difference is kept. Without
    it, existing rows are never changed. With `update=True` existing rows get the shipped
    values of all shipped fields. Raises `ValidationError` on invalid data and `ValueError`
    when a prescription names an exercise that does not exist; either way nothing is saved.
    """
    report = LoadReport()
    before = shipped_before or {}

    def upsert(kind, key, existing, new, values, fields):
        # The program is one row, so its earlier values are not keyed by slug.
        if kind == "program":
            previous = before.get("program", {})
        else:
            previous = before.get(f"{kind}s", {}).get(key, {})
        obj, outcome, changed, kept = _upsert(existing, new, values, fields, update, previous)
        _count(getattr(report, f"{kind}s"), outcome)
        if changed:
            report.changed.append(f"{kind} {key}: {', '.join(changed)}")
        if kept:
            report.kept.append(f"{kind} {key}: {', '.join(kept)}")
        return obj

    with transaction.atomic():
        by_slug: dict[str, Exercise] = {}
        for item in exercises:
            exercise = upsert(
                "exercise",
                item["slug"],
                Exercise.objects.filter(slug=item["slug"]).first(),
                lambda item=item: Exercise(slug=item["slug"]),
                item,
                EXERCISE_FIELDS,
            )
            by_slug[exercise.slug] = exercise

        program = upsert(
            "program",
            data["slug"],
            Program.objects.filter(slug=data["slug"]).first(),
            lambda: Program(slug=data["slug"]),
            data,
            PROGRAM_FIELDS,
        )
        report.program = program

        stages = data.get("stages", [])
        if update:
            _make_room_for_positions(program, stages)
        for stage_data in stages:
            stage = upsert(
                "stage",
                stage_data["slug"],
                Stage.objects.filter(program=program, slug=stage_data["slug"]).first(),
                lambda stage_data=stage_data: Stage(program=program, slug=stage_data["slug"]),
                stage_data,
                STAGE_FIELDS,
            )

            for item in stage_data.get("prescriptions", []):
                exercise = _exercise(by_slug, item["exercise"], stage_data["slug"])
                upsert(
                    "prescription",
                    f"{stage_data['slug']}/{item['exercise']}",
                    Prescription.objects.filter(stage=stage, exercise=exercise).first(),
                    lambda stage=stage, exercise=exercise: Prescription(
                        stage=stage, exercise=exercise
                    ),
                    item,
                    PRESCRIPTION_FIELDS,
                )
    return report


def earlier_values(shipped: Mapping[int, Mapping[str, Any]]) -> dict[str, Any]:
    """Merge the per-version records of shipped values (`default_program_history.SHIPPED`)
    into, per row, each field's list of values any earlier version shipped."""
    merged: dict[str, Any] = {"program": {}, "stages": {}, "exercises": {}, "prescriptions": {}}
    for version in sorted(shipped):
        record = shipped[version]
        for name, value in record.get("program", {}).items():
            merged["program"].setdefault(name, []).append(value)
        for kind in ("stages", "exercises", "prescriptions"):
            for key, fields in record.get(kind, {}).items():
                row = merged[kind].setdefault(key, {})
                for name, value in fields.items():
                    row.setdefault(name, []).append(value)
    return merged


def _upsert(
    existing: M | None,
    new: Callable[[], M],
    values: Mapping[str, Any],
    fields: tuple[str, ...],
    update: bool,
    previous: Mapping[str, list[Any]],
) -> tuple[M, str, list[str], list[str]]:
    """Create the row, or bring it up to date. Returns the row, what happened ("created",
    "updated" or "unchanged"), the fields changed and the fields kept as staff edited them."""
    if existing is None:
        obj = new()
        for name in fields:
            if name in values:
                setattr(obj, name, values[name])
        obj.full_clean()
        obj.save()
        return obj, "created", [], []
    changed, kept = [], []
    for name in fields:
        if name not in values or getattr(existing, name) == values[name]:
            continue
        if update or getattr(existing, name) in previous.get(name, ()):
            setattr(existing, name, values[name])
            changed.append(name)
        else:
            kept.append(name)
    if not changed:
        return existing, "unchanged", [], kept
    existing.full_clean()
    existing.save()
    return existing, "updated", changed, kept


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
