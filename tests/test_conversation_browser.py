"""Her thread with her coach at phone size: it fits, passes axe, sends, and shows her coach's
reply without a reload, polled by htmx (Playwright's clock stands in for the 15 seconds)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from programs import conversation
from tests.browser import accessibility_problems, overflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TARGETS = "header.site a, header.site button, main button, main a.badge"


def small_targets(page, selector: str) -> list[str]:
    return page.eval_on_selector_all(
        selector,
        """els => els.filter(e => e.offsetParent !== null)
             .map(e => [e.outerHTML.slice(0, 60), e.getBoundingClientRect()])
             .filter(([html, r]) => r.width < 44 || r.height < 44)
             .map(([html, r]) => `${html} ${Math.round(r.width)}x${Math.round(r.height)}`)""",
    )


@pytest.fixture
def enrolment(make_enrolment, coach):
    today = timezone.localdate(timezone=timezone.get_fixed_timezone(0))
    return make_enrolment(start_date=today - timedelta(days=2), timezone="UTC", coach=coach)


@pytest.mark.parametrize("width", [360, 390])
def test_she_writes_and_her_coachs_reply_appears_without_a_reload(phone, user, enrolment, width):
    conversation.post(enrolment, enrolment.coach, "coach", "Welcome! " * 30, timezone.now())
    phone.set_viewport_size({"width": width, "height": 800})
    phone.clock.install()
    phone.log_in(user)
    phone.goto(f"/enrolments/{enrolment.pk}/")
    assert phone.locator("#messages .badge").inner_text() == "1 new"
    assert overflow(phone) == 0
    assert accessibility_problems(phone) == []
    assert small_targets(phone, TARGETS) == []

    phone.get_by_role("textbox", name="Message").fill("Thank you, see you Thursday")
    phone.get_by_role("button", name="Send").click()
    phone.locator("div.messages[role=status]").get_by_text("Sent.", exact=False).wait_for()
    phone.locator("#thread").get_by_text("Thank you, see you Thursday").wait_for()

    phone.evaluate("window.notReloaded = true")
    conversation.post(enrolment, enrolment.coach, "coach", "Thursday it is", timezone.now())
    phone.clock.run_for(16000)
    phone.locator("#thread").get_by_text("Thursday it is").wait_for()
    assert phone.evaluate("window.notReloaded") is True
    assert overflow(phone) == 0


def test_the_coachs_client_page_and_dashboard_with_messages_fit_a_phone(phone, coach, enrolment):
    conversation.post(enrolment, enrolment.user, "client", "Is this normal?", timezone.now())
    phone.set_viewport_size({"width": 360, "height": 800})
    phone.log_in(coach)
    phone.goto("/coach/")
    badge = phone.locator("a.badge")
    assert badge.inner_text() == "1 new message"
    assert overflow(phone) == 0
    assert accessibility_problems(phone) == []
    badge.click()
    phone.locator("#thread").get_by_text("Is this normal?").wait_for()
    assert overflow(phone) == 0
    assert accessibility_problems(phone) == []
