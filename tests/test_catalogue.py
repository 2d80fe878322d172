"""The catalogue and a program's page."""

import pytest
from django.urls import reverse

from programs.models import Program

pytestmark = pytest.mark.django_db


def test_home_lists_published_programs(client, program):
    Program.objects.create(
        slug="draft", name="Draft program", summary="x", weeks=4, is_published=False
    )
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert b"Test program" in response.content
    assert b"Draft program" not in response.content
    assert b"6 weeks" in response.content


def test_empty_catalogue_says_how_to_fill_it(client, db):
    assert b"load_default_program" in client.get(reverse("home")).content


def test_home_offers_to_continue_her_program(member, make_enrolment):
    enrolment = make_enrolment()
    content = member.get(reverse("home")).content.decode()
    assert "Welcome back, Amira" in content
    assert reverse("today", args=[enrolment.pk]) in content


def test_program_page_shows_every_stage_locked_or_not(client, program):
    content = client.get(reverse("program_detail", args=[program.slug])).content.decode()
    for title in ["Breathing", "Deep core", "Glute strength"]:
        assert title in content
    assert "Opens in week 4" in content
    assert "10 reps, 3 days a week" in content
    assert reverse("enrol", args=[program.slug]) in content


def test_program_page_links_her_to_today_when_enrolled(member, program, make_enrolment):
    enrolment = make_enrolment()
    content = member.get(reverse("program_detail", args=[program.slug])).content.decode()
    assert reverse("today", args=[enrolment.pk]) in content
    assert reverse("enrol", args=[program.slug]) not in content


def test_unknown_or_unpublished_program_is_not_found(client, program):
    assert client.get(reverse("program_detail", args=["nope"])).status_code == 404
    program.is_published = False
    program.save()
    assert client.get(reverse("program_detail", args=[program.slug])).status_code == 404


def test_program_page_queries_do_not_grow_with_exercises(
    client, program, django_assert_num_queries
):
    with django_assert_num_queries(3):  # program, stages, prescriptions with their exercises
        client.get(reverse("program_detail", args=[program.slug]))
