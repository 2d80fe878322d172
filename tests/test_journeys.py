"""Two journeys end to end in a real browser, every page scanned with axe, fitting a 360 px
phone, and a screenshot of each step under var/screenshots/:

- hers, at phone size: sign up, confirm her address from the email, enrol, the guided session
  (its timers driven by Playwright's clock), a check-in with a warning sign, the held Today page;
- her coach's, at desktop size: log in, the dashboard, her page, clearing the hold.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail

from programs.models import Enrolment, Exercise, Hold, Prescription
from tests.browser import PHONE, accessibility_problems, overflow
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}
SHOTS = settings.VAR_DIR / "screenshots"


class Steps:
    """Checks each page reached and keeps a numbered screenshot of it."""

    def __init__(self, page, journey: str, narrow: bool):
        self.page, self.journey, self.narrow, self.count = page, journey, narrow, 0
        SHOTS.mkdir(parents=True, exist_ok=True)

    def check(self, name: str) -> None:
        self.count += 1
        assert accessibility_problems(self.page) == [], name
        if self.narrow:
            size = self.page.viewport_size
            self.page.set_viewport_size({"width": 360, "height": size["height"]})
            assert overflow(self.page) == 0, name
            self.page.set_viewport_size(size)
        path = SHOTS / f"journey-{self.journey}-{self.count:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)


@pytest.fixture
def paced_program(program):
    """The breathing stage as a short guided session: a paced breather and one hold."""
    Exercise.objects.filter(slug="breathing-1").update(slug="360-breathing")
    Prescription.objects.filter(stage__slug="breathing", position=1).update(reps=2)
    Prescription.objects.filter(stage__slug="breathing", position=2).update(
        reps=1, hold_seconds=5, sets=1
    )
    return program


def test_her_journey_at_phone_size(browser, live_server, paced_program, coach):
    context = browser.new_context(viewport=PHONE, base_url=live_server.url, timezone_id="UTC")
    context.set_default_timeout(5000)
    page = context.new_page()
    page.clock.install()
    steps = Steps(page, "phone", narrow=True)

    page.goto("/accounts/signup/")
    page.get_by_label("First name").fill("Amira")
    page.get_by_label("Email").fill("amira@example.com")
    page.locator("input[name=password1]").fill(PASSWORD)
    page.locator("input[name=password2]").fill(PASSWORD)
    steps.check("signup")
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("heading", level=1).wait_for()
    steps.check("signup-sent")

    # The confirmation link, read from the email as she would.
    (email,) = [m for m in mail.outbox if m.to == ["amira@example.com"]]
    link = re.search(r"https?://\S+/accounts/signup/confirm/\S+", email.body).group(0)
    page.goto(link.replace(settings.SITE_URL, live_server.url))
    steps.check("confirm")
    page.get_by_role("button", name="Confirm and log in").click()

    page.get_by_role("link", name=re.compile("Test program")).first.click()
    if page.get_by_role("link", name=re.compile("Start|Enrol|Join")).count():
        page.get_by_role("link", name=re.compile("Start|Enrol|Join")).first.click()
    page.get_by_role("heading", name="Start Test program").wait_for()
    page.get_by_label("How many weeks ago was your baby born?").fill("4")
    page.get_by_role("group", name="Was your baby born by caesarean?").get_by_label("No").check()
    page.get_by_label("Not yet, or I'm not sure").check()
    steps.check("enrol")
    page.get_by_role("button", name="Start the program").click()
    page.get_by_role("heading", name="Week 1 of 6").wait_for()
    steps.check("today")
    enrolment = Enrolment.objects.get(user__email="amira@example.com")
    enrolment.coach = coach
    enrolment.save(update_fields=["coach"])

    page.get_by_role("link", name="Start today's session").click()
    page.get_by_role("heading", name="Today's session").wait_for()
    steps.check("session")
    page.get_by_role("button", name="Start").click()
    page.locator("[data-step]:visible").get_by_text("Breathe in", exact=True).wait_for()
    steps.check("session-breathing")
    # The README's picture of her session (docs/guided-session.png is a copy of it).
    page.screenshot(path=str(SHOTS / "guided-session.png"))
    page.clock.run_for(20000)
    page.get_by_role("button", name="Done, next").click()
    page.get_by_role("button", name="Start").click()
    page.clock.run_for(10000)
    page.locator("[data-step]:visible").get_by_text(re.compile("Well done")).wait_for()
    page.get_by_role("button", name="Done, next").click()
    page.get_by_role("heading", name="How did it go?").wait_for()
    for name in ["Breathing 1", "Breathing 2"]:
        page.get_by_role("group", name=f"How did {name} feel?").get_by_label("About right").check()
    page.get_by_role("group", name=re.compile("Your pain now")).get_by_label(
        "2", exact=True
    ).check()
    steps.check("session-answers")
    page.get_by_role("button", name="Save my session").click()
    page.get_by_text(re.compile("Session saved")).wait_for()

    # A week on, the check-in for week 1 opens.
    Enrolment.objects.filter(pk=enrolment.pk).update(
        start_date=enrolment.start_date - timedelta(days=8)
    )
    page.goto(f"/enrolments/{enrolment.pk}/checkin/")
    page.get_by_label("3", exact=True).check()
    page.get_by_label("Leaking urine or faeces, or a strong urgency to go").check()
    page.get_by_label(re.compile("About right", re.I)).first.check()
    steps.check("checkin")
    page.get_by_role("button", name=re.compile("check-in", re.I)).click()
    page.get_by_role("heading", level=1).wait_for()
    steps.check("checkin-saved")
    assert Hold.objects.get(enrolment=enrolment).tier == 1

    page.goto(f"/enrolments/{enrolment.pk}/")
    page.get_by_role("heading", name="New stages are on hold").wait_for()
    steps.check("held-today")
    page.goto(f"/enrolments/{enrolment.pk}/progress/")
    page.get_by_role("heading", name="Your progress").wait_for()
    steps.check("progress")
    context.close()


def test_her_coach_clears_the_hold_at_desktop_size(browser, live_server, make_enrolment, coach):
    enrolment = make_enrolment(coach=coach)
    for week, pain in [(1, 5), (2, 4)]:
        enrolment.checkins.create(
            week=week, submitted_at=enrolment.created_at + timedelta(days=7 * week), pain=pain
        )
    enrolment.checkins.create(
        week=3,
        submitted_at=enrolment.created_at + timedelta(days=21),
        pain=3,
        warning_signs=["leaking"],
        tier=1,
    )
    enrolment.holds.create(tier=1, started_at=enrolment.created_at)
    context = browser.new_context(viewport=DESKTOP, base_url=live_server.url)
    context.set_default_timeout(5000)
    page = context.new_page()
    steps = Steps(page, "desktop", narrow=False)

    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(coach.email)
    page.get_by_label("Password").fill(PASSWORD)
    steps.check("login")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", level=1).wait_for()
    steps.check("dashboard")
    page.get_by_role("link", name=re.compile(enrolment.user.first_name or "Test")).first.click()
    page.get_by_role("button", name="Clear the hold").wait_for()
    steps.check("client")
    page.get_by_role("button", name="Clear the hold").click()
    page.get_by_role("heading", level=1).wait_for()
    steps.check("hold-cleared")
    assert not any(h.is_open for h in Hold.objects.filter(enrolment=enrolment))
    context.close()
