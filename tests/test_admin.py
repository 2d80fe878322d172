"""Staff author programs in the admin."""

from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.db.models import RestrictedError
from django.urls import reverse

from programs.models import Enrolment, Exercise, SessionLog, Stage

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    admin = get_user_model().objects.create_superuser("admin@example.com", "admin@example.com", "x")
    client.force_login(admin)
    return client


@pytest.mark.parametrize(
    "model", ["program", "stage", "exercise", "enrolment", "sessionlog", "guidedsession"]
)
def test_every_admin_list_and_add_page_loads(staff, program, make_enrolment, model):
    make_enrolment()
    assert staff.get(reverse(f"admin:programs_{model}_changelist")).status_code == 200
    assert staff.get(reverse(f"admin:programs_{model}_add")).status_code == 200


def test_program_page_shows_its_stages_inline(staff, program):
    content = staff.get(reverse("admin:programs_program_change", args=[program.pk])).content
    assert b"Glute strength" in content


def test_stage_page_shows_its_prescriptions_inline(staff, program):
    stage = program.stages.get(slug="glutes")
    content = staff.get(reverse("admin:programs_stage_change", args=[stage.pk])).content.decode()
    assert 'name="prescriptions-0-days_per_week"' in content


def test_exercises_are_searchable(staff, program):
    response = staff.get(reverse("admin:programs_exercise_changelist"), {"q": "glutes-2"})
    assert list(response.context["cl"].queryset) == [Exercise.objects.get(slug="glutes-2")]


def test_a_stage_cannot_open_after_the_program_ends(program):
    from django.core.exceptions import ValidationError

    stage = program.stages.get(slug="glutes")
    stage.unlock_week = 7
    with pytest.raises(ValidationError, match="only 6 weeks"):
        stage.full_clean()


def test_a_prescription_needs_reps_or_a_hold(program):
    from django.core.exceptions import ValidationError

    prescription = program.stages.get(slug="glutes").prescriptions.first()
    prescription.reps = None
    prescription.hold_seconds = None
    with pytest.raises(ValidationError, match="reps, a hold time"):
        prescription.full_clean()


def test_staff_find_the_enrolments_whose_planning_failed_and_read_the_error(
    staff, make_enrolment, django_user_model
):
    good = make_enrolment()
    bad = make_enrolment(user=django_user_model.objects.create_user("bad@example.com"))
    Enrolment.objects.filter(pk=bad.pk).update(
        plan_error="ZoneInfoNotFoundError: 'No time zone found with key Europe/Londn'"
    )
    response = staff.get(reverse("admin:programs_enrolment_changelist"), {"planning": "failed"})
    assert [e.pk for e in response.context["cl"].result_list] == [bad.pk]
    assert good.pk != bad.pk
    page = staff.get(reverse("admin:programs_enrolment_change", args=[bad.pk])).content.decode()
    assert "No time zone found with key Europe/Londn" in page


def test_an_exercise_women_logged_cannot_be_deleted_from_its_program(
    staff, program, make_enrolment
):
    stage = program.stages.get(slug="breathing")
    logged = stage.prescriptions.first()
    SessionLog.objects.create(
        enrolment=make_enrolment(), prescription=logged, local_date=date(2026, 3, 3)
    )
    with pytest.raises(RestrictedError):
        logged.delete()
    page = staff.get(reverse("admin:programs_stage_delete", args=[stage.pk])).content.decode()
    assert "would require deleting the following protected related objects" in page
    response = staff.post(reverse("admin:programs_stage_delete", args=[stage.pk]), {"post": "yes"})
    assert response.status_code == 200
    assert Stage.objects.filter(pk=stage.pk).exists() and SessionLog.objects.count() == 1


def test_an_exercise_nobody_logged_can_still_be_deleted(program):
    stage = program.stages.get(slug="breathing")
    unlogged = stage.prescriptions.first()
    unlogged.delete()
    assert not stage.prescriptions.filter(pk=unlogged.pk).exists()
