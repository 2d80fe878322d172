"""Staff copy a program as a variant (after a caesarean, for twins) and edit the copy."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from programs.models import Enrolment, Exercise, Prescription, Program, Stage
from programs.variants import copy_program, free_slug, program_prescriptions

pytestmark = pytest.mark.django_db

User = get_user_model()


@pytest.fixture
def staff(client):
    admin = User.objects.create_superuser("admin@example.com", "admin@example.com", "x")
    client.force_login(admin)
    return client


@pytest.fixture
def default_program(db) -> Program:
    call_command("load_default_program", stdout=StringIO())
    return Program.objects.get(slug="postpartum-core-and-hips")


def content(program: Program) -> dict:
    """Everything a mother would be prescribed, without ids: the program's fields, each stage's,
    and each prescription's, with its exercise and dose."""
    program = Program.objects.get(pk=program.pk)
    stages = []
    for stage in program.stages.order_by("position"):
        prescriptions = [
            (p.exercise_id, p.position, p.sets, p.reps, p.hold_seconds, p.days_per_week, p.note)
            + (p.dose, p.frequency)
            for p in stage.prescriptions.order_by("position")
        ]
        stages.append({**fields(stage, "id", "program"), "prescriptions": prescriptions})
    return {**fields(program, "id", "slug", "name", "is_published", "created_at"), "stages": stages}


def fields(instance, *leave_out) -> dict:
    return {
        f.attname: getattr(instance, f.attname)
        for f in instance._meta.concrete_fields
        if f.name not in leave_out
    }


def counts() -> tuple[int, int, int, int]:
    return (
        Program.objects.count(),
        Stage.objects.count(),
        Prescription.objects.count(),
        Exercise.objects.count(),
    )


def copy_url(program: Program) -> str:
    return reverse("admin:programs_program_copy", args=[program.pk])


def test_the_copy_has_the_same_stages_prescriptions_and_doses_and_is_unpublished(
    default_program,
):
    exercises = Exercise.objects.count()

    copy = copy_program(default_program, name="After a caesarean", slug="after-a-caesarean")

    copy.refresh_from_db()
    assert (copy.name, copy.slug, copy.is_published) == (
        "After a caesarean",
        "after-a-caesarean",
        False,
    )
    assert copy.pk != default_program.pk
    assert content(copy) == content(default_program)
    assert len(content(copy)["stages"]) == default_program.stages.count() > 1
    assert program_prescriptions(copy).count() == program_prescriptions(default_program).count() > 1
    # The stages and prescriptions are new rows; the exercises are shared, not copied.
    assert not set(copy.stages.values_list("pk", flat=True)) & set(
        default_program.stages.values_list("pk", flat=True)
    )
    assert Exercise.objects.count() == exercises


def test_the_original_and_its_enrolments_are_unchanged(program, make_enrolment):
    enrolment = make_enrolment()
    Enrolment.objects.filter(pk=enrolment.pk).update(planned_until="2026-04-01T00:00:00Z")
    before = content(program)
    stage_ids = list(program.stages.values_list("pk", flat=True))
    prescription_ids = list(program_prescriptions(program).values_list("pk", flat=True))
    enrolment_before = fields(Enrolment.objects.get(pk=enrolment.pk))

    copy_program(program, name="Twins", slug="twins")

    program.refresh_from_db()
    assert program.is_published and program.slug == "test-program"
    assert content(program) == before
    assert list(program.stages.values_list("pk", flat=True)) == stage_ids
    assert list(program_prescriptions(program).values_list("pk", flat=True)) == prescription_ids
    # Her emails are not re-planned, nor is she moved to the copy.
    assert fields(Enrolment.objects.get(pk=enrolment.pk)) == enrolment_before
    assert not Enrolment.objects.filter(program__slug="twins").exists()


def test_a_slug_in_use_is_refused_and_nothing_is_created(program):
    before = counts()

    with pytest.raises(ValidationError) as refused:
        copy_program(program, name="Same address", slug="test-program")

    assert "slug" in refused.value.message_dict
    assert counts() == before


def test_the_free_slug_skips_those_in_use(program):
    assert free_slug(program) == "test-program-copy"
    copy_program(program, name="Copy", slug="test-program-copy")
    assert free_slug(program) == "test-program-copy-2"


def test_the_copy_page_offers_a_name_and_a_free_slug(staff, program):
    copy_program(program, name="Copy", slug="test-program-copy")

    response = staff.get(copy_url(program))

    assert response.status_code == 200
    assert response.context["form"].initial == {
        "name": "Test program (copy)",
        "slug": "test-program-copy-2",
    }
    assert "admin/base_site.html" in [t.name for t in response.templates]
    # The program's change page links to it.
    change = staff.get(reverse("admin:programs_program_change", args=[program.pk]))
    assert copy_url(program) in change.content.decode()


def test_staff_copy_from_the_page_and_land_on_the_copy_told_what_was_copied(staff, program):
    response = staff.post(
        copy_url(program), {"name": "Test program, twins", "slug": "twins"}, follow=True
    )

    copy = Program.objects.get(slug="twins")
    assert response.redirect_chain == [
        (reverse("admin:programs_program_change", args=[copy.pk]), 302)
    ]
    stages = Stage.objects.filter(program=copy).count()
    prescriptions = Prescription.objects.filter(stage__program=copy).count()
    assert (stages, prescriptions) == (3, 6)
    assert [str(m) for m in response.context["messages"]] == [
        f'Copied "Test program" as "Test program, twins": {stages} stages and '
        f"{prescriptions} prescriptions. It is unpublished until you publish it."
    ]
    assert not copy.is_published


def test_the_page_refuses_a_slug_in_use_with_a_clear_message(staff, program):
    before = counts()

    response = staff.post(copy_url(program), {"name": "Again", "slug": "test-program"})

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "slug": ['Another program already uses the slug "test-program": choose another.']
    }
    assert "already uses the slug" in response.content.decode()
    assert counts() == before


def test_the_page_is_for_staff_who_may_add_programs(client, program, user):
    before = counts()
    client.force_login(user)  # a mother, not staff

    for response in (
        client.get(copy_url(program)),
        client.post(copy_url(program), {"name": "Mine", "slug": "mine"}),
    ):
        assert response.status_code == 302
        assert response.url.startswith(reverse("admin:login"))

    staff = User.objects.create_user("staff@example.com", "staff@example.com", "x", is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_program", "change_program"])
    )
    client.force_login(staff)
    assert client.get(copy_url(program)).status_code == 403
    assert client.post(copy_url(program), {"name": "Mine", "slug": "mine"}).status_code == 403
    assert counts() == before


def test_the_action_with_two_programs_selected_copies_nothing(staff, program):
    other = copy_program(program, name="Other", slug="other")
    before = counts()

    response = staff.post(
        reverse("admin:programs_program_changelist"),
        {"action": "copy_as_variant", "_selected_action": [program.pk, other.pk]},
        follow=True,
    )

    assert counts() == before
    assert [str(m) for m in response.context["messages"]] == [
        "Select exactly one program to copy (2 selected). Nothing was copied."
    ]


def test_the_action_with_one_program_selected_opens_the_copy_page(staff, program):
    before = counts()

    response = staff.post(
        reverse("admin:programs_program_changelist"),
        {"action": "copy_as_variant", "_selected_action": [program.pk]},
    )

    assert response.status_code == 302
    assert response.url == copy_url(program)
    assert counts() == before  # nothing is copied until the page's form is sent
