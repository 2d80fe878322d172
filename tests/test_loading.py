"""The versioned loader: an install of an earlier content version is brought up to date field
by field, keeping every field staff edited in the admin, and says what it changed and kept."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from programs.default_program import CONTENT_VERSION, DEFAULT_PROGRAM, EXERCISES
from programs.default_program_history import SHIPPED, content_as_of
from programs.loading import (
    EXERCISE_FIELDS,
    PRESCRIPTION_FIELDS,
    PROGRAM_FIELDS,
    STAGE_FIELDS,
    earlier_values,
    load_program,
)
from programs.models import Enrolment, Exercise, Prescription, Program, Stage

SLUG = DEFAULT_PROGRAM["slug"]
STAFF_DESCRIPTION = "Our clinic's own words about mobility."


def run(*args: str) -> str:
    out = StringIO()
    call_command("load_default_program", *args, stdout=out)
    return out.getvalue()


def install_previous_version() -> None:
    data, exercises = content_as_of(CONTENT_VERSION - 1)
    load_program(data, exercises)


def snapshot() -> dict:
    return {
        "programs": list(Program.objects.order_by("pk").values()),
        "stages": list(Stage.objects.order_by("pk").values()),
        "exercises": list(Exercise.objects.order_by("pk").values()),
        "prescriptions": list(Prescription.objects.order_by("pk").values()),
    }


def test_the_history_rebuilds_the_current_content_and_names_only_real_fields():
    data, exercises = content_as_of(CONTENT_VERSION)
    assert (data, exercises) == (DEFAULT_PROGRAM, EXERCISES)
    for record in SHIPPED.values():
        assert set(record["program"]) <= set(PROGRAM_FIELDS)
        for fields in record["stages"].values():
            assert set(fields) <= set(STAGE_FIELDS)
        for fields in record["exercises"].values():
            assert set(fields) <= set(EXERCISE_FIELDS)
        for fields in record["prescriptions"].values():
            assert set(fields) <= set(PRESCRIPTION_FIELDS)
    previous, _ = content_as_of(CONTENT_VERSION - 1)
    assert previous != DEFAULT_PROGRAM


@pytest.mark.django_db
def test_fresh_load_creates_the_current_content():
    out = run()
    assert f"(content version {CONTENT_VERSION})" in out
    assert "Updated" not in out and "Kept" not in out
    stage = Stage.objects.get(program__slug=SLUG, slug="deep-core-heel-slides")
    assert stage.ongoing
    assert Exercise.objects.filter(slug="marching-bridge").exists()
    assert Exercise.objects.count() == len(EXERCISES)


@pytest.mark.django_db
def test_upgrade_changes_untouched_fields_keeps_staff_edits_and_says_so():
    install_previous_version()
    deep_core = Stage.objects.get(program__slug=SLUG, slug="deep-core-heel-slides")
    assert not deep_core.ongoing
    assert Exercise.objects.get(slug="dead-bug").name == "Dead bug (easy version)"
    # Staff rewrote a field this version also changes, and one it does not.
    Stage.objects.filter(slug="hip-and-glute-mobility").update(description=STAFF_DESCRIPTION)
    Exercise.objects.filter(slug="clamshell").update(name="Clams")

    out = run()

    deep_core.refresh_from_db()
    assert deep_core.ongoing
    dead_bug = Exercise.objects.get(slug="dead-bug")
    assert dead_bug.name == "Dead bug, one leg at a time"
    assert "The other foot stays on the floor" in dead_bug.instructions
    slow = Prescription.objects.get(
        stage__slug="breathing-and-reset", exercise__slug="pelvic-floor-lift-and-let-go"
    )
    assert (slow.reps, slow.hold_seconds) == (10, 10)
    assert Prescription.objects.filter(exercise__slug="marching-bridge").exists()
    mobility = Stage.objects.get(slug="hip-and-glute-mobility")
    assert mobility.description == STAFF_DESCRIPTION
    assert mobility.goal == next(
        s["goal"] for s in DEFAULT_PROGRAM["stages"] if s["slug"] == "hip-and-glute-mobility"
    )
    assert Exercise.objects.get(slug="clamshell").name == "Clams"

    assert "3 exercises, 3 prescriptions created" in out
    assert "  Updated stage deep-core-heel-slides: description, ongoing\n" in out
    assert "  Updated exercise dead-bug: name, instructions, cues, stop_if\n" in out
    assert "  Updated stage hip-and-glute-mobility: goal\n" in out
    assert "  Kept as edited in the admin: stage hip-and-glute-mobility: description\n" in out
    assert "  Kept as edited in the admin: exercise clamshell: name\n" in out
    assert "Updated stage hip-and-glute-mobility: goal, description" not in out


@pytest.mark.django_db
def test_an_upgrade_keeps_the_loaded_and_lifting_values():
    install_previous_version()
    run()
    loaded = set(Stage.objects.filter(loaded=True).values_list("slug", flat=True))
    assert loaded == {"glute-strength", "hip-flexors", "everyday-movement"}
    assert list(Exercise.objects.filter(lifting=True).values_list("slug", flat=True)) == [
        "hip-hinge-lift"
    ]


@pytest.mark.django_db
def test_loading_twice_changes_nothing_the_second_time():
    install_previous_version()
    Exercise.objects.filter(slug="clamshell").update(name="Clams")
    run()
    before = snapshot()

    out = run()

    assert snapshot() == before
    assert "0 programs, 0 stages, 0 exercises, 0 prescriptions created; 0 updated." in out
    assert "Updated" not in out
    # What staff edited is still named as kept, each time.
    assert "Kept as edited in the admin: exercise clamshell: name" in out


@pytest.mark.django_db
def test_without_a_history_existing_rows_are_left_alone():
    install_previous_version()
    report = load_program(DEFAULT_PROGRAM, EXERCISES)
    assert report.updated == 0 and report.changed == []
    assert not Stage.objects.get(slug="deep-core-heel-slides").ongoing
    assert "stage deep-core-heel-slides: description, ongoing" in report.kept


def test_earlier_values_merges_each_version_in_order():
    merged = earlier_values(
        {
            1: {"exercises": {"a": {"name": "One"}}, "program": {"name": "P1"}},
            2: {"exercises": {"a": {"name": "Two", "cues": "x"}}},
        }
    )
    assert merged["exercises"]["a"] == {"name": ["One", "Two"], "cues": ["x"]}
    assert merged["program"] == {"name": ["P1"]}


@pytest.mark.django_db
def test_an_upgrade_asks_for_her_emails_to_be_planned_again(make_enrolment):
    install_previous_version()
    program = Program.objects.get(slug=SLUG)
    enrolment = make_enrolment(program=program)
    Enrolment.objects.filter(pk=enrolment.pk).update(planned_until=timezone.now())
    run()
    enrolment.refresh_from_db()
    assert enrolment.planned_until is None
