"""The guided session at phone size, its timers driven by Playwright's clock."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from programs.models import Exercise, GuidedSession, Prescription, SessionLog
from tests.browser import accessibility_problems, overflow
from tests.conftest import make_exercise

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def session_day(make_enrolment, program):
    """Her first week, cleared: a breathing exercise (paced), one with holds in two sets, and
    one counted rep by rep."""
    Exercise.objects.filter(slug="breathing-1").update(slug="360-breathing")
    Prescription.objects.filter(stage__slug="breathing", position=1).update(reps=2)
    Prescription.objects.filter(stage__slug="breathing", position=2).update(
        reps=2, hold_seconds=5, sets=2
    )
    Prescription.objects.create(
        stage=program.stages.get(slug="breathing"),
        exercise=make_exercise("breathing-3"),
        position=3,
        reps=2,
        days_per_week=7,
    )
    today = timezone.localdate(timezone=timezone.get_fixed_timezone(0))
    return make_enrolment(start_date=today - timedelta(days=2), timezone="UTC")


def shows(page, text):
    page.locator("[data-step]:visible").get_by_text(text, exact=True).wait_for()


def test_she_steps_through_the_session_and_saves_it(phone, user, session_day):
    phone.clock.install()
    phone.log_in(user)
    phone.goto(f"/enrolments/{session_day.pk}/")
    phone.get_by_role("link", name="Start today's session").click()
    phone.get_by_role("heading", name="Today's session").wait_for()
    assert overflow(phone) == 0
    assert accessibility_problems(phone) == []
    # Only the first exercise shows, and the answers wait for the end.
    assert phone.locator("[data-step]:visible").count() == 1
    assert not phone.locator("#record").is_visible()

    # 1: the breathing pacer, 4 s in and 6 s out.
    phone.get_by_role("button", name="Start").click()
    shows(phone, "Breathe in")
    phone.clock.fast_forward(4000)
    shows(phone, "Breathe out")
    phone.clock.fast_forward(6000)
    shows(phone, "Breathe in")
    phone.get_by_text("Breath 2 of 2").wait_for()
    phone.clock.run_for(10000)
    shows(phone, "Well done. On to the next one when you're ready.")
    phone.get_by_role("button", name="Done, next").click()

    # 2: holds of 5 s, two reps a set, a rest between the sets.
    phone.get_by_role("heading", name="Breathing 2").wait_for()
    phone.get_by_role("button", name="Start").click()
    shows(phone, "Hold")
    phone.get_by_text("Set 1 of 2 · rep 1 of 2").wait_for()
    phone.clock.fast_forward(5000)
    shows(phone, "Let go")
    phone.clock.fast_forward(5000)
    shows(phone, "Hold")
    phone.clock.fast_forward(5000)
    shows(phone, "Rest before the next set")
    assert "30 s" in phone.locator("[data-step]:visible [data-count]").inner_text()
    phone.clock.fast_forward(30000)
    shows(phone, "Hold")
    phone.get_by_text("Set 2 of 2 · rep 1 of 2").wait_for()
    phone.clock.run_for(15000)
    shows(phone, "Well done. On to the next one when you're ready.")
    phone.get_by_role("button", name="Done, next").click()

    # 3: reps she counts herself; this time she skips it.
    phone.get_by_role("heading", name="Breathing 3").wait_for()
    phone.get_by_role("button", name="Start").click()
    phone.get_by_role("button", name="Rep done").click()
    shows(phone, "Rep 2 of 2")
    phone.get_by_role("button", name="Skip this one").click()

    # The answers: done or skipped already set from what she did.
    phone.get_by_role("heading", name="How did it go?").wait_for()
    assert phone.locator("[data-step]:visible").count() == 0
    feel = {"Breathing 1": "About right", "Breathing 2": "Too hard"}
    for name, answer in feel.items():
        group = phone.get_by_role("group", name=f"How did {name} feel?")
        group.get_by_label(answer).check()
    assert (
        phone.get_by_role("group", name="Breathing 3: did you do it?")
        .get_by_label("Skipped")
        .is_checked()
    )
    phone.get_by_role("group", name=re.compile("Your pain now")).get_by_label(
        "2", exact=True
    ).check()
    assert overflow(phone) == 0
    assert accessibility_problems(phone) == []
    phone.get_by_role("button", name="Save my session").click()
    phone.get_by_text("Session saved: 2 of 3 exercises done today.").wait_for()

    session = GuidedSession.objects.get()
    assert session.pain_after == 2
    felt = {row.prescription.exercise.name: (row.done, row.felt) for row in session.exercises.all()}
    assert felt == {
        "Breathing 1": (True, "right"),
        "Breathing 2": (True, "too_hard"),
        "Breathing 3": (False, ""),
    }
    assert SessionLog.objects.count() == 2
