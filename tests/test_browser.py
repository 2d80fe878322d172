"""Pages at phone size in a real browser: they fit the screen and pass an accessibility scan."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.browser import accessibility_problems, overflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PUBLIC_PAGES = ["/", "/accounts/login/", "/accounts/signup/", "/accounts/password_reset/"]


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_page_fits_a_phone_and_passes_axe(phone, path, program):
    response = phone.goto(path)
    assert response.status == 200
    assert overflow(phone) == 0
    assert accessibility_problems(phone) == []


def running(make_enrolment):
    """An enrolment in its first week today, cleared."""
    today = timezone.localdate(timezone=timezone.get_fixed_timezone(0))
    return make_enrolment(start_date=today - timedelta(days=2), timezone="UTC")


def test_today_fits_a_phone_and_passes_axe(phone, user, make_enrolment):
    enrolment = running(make_enrolment)
    phone.log_in(user)
    response = phone.goto(f"/enrolments/{enrolment.pk}/")
    assert response.status == 200
    assert phone.get_by_role("heading", level=1).count() == 1
    assert overflow(phone) == 0
    assert accessibility_problems(phone) == []


def test_mark_done_works_in_place_with_htmx(phone, user, make_enrolment):
    enrolment = running(make_enrolment)
    phone.log_in(user)
    phone.goto(f"/enrolments/{enrolment.pk}/")
    phone.evaluate("window.notReloaded = true")
    phone.get_by_role("button", name="Mark done").first.click()
    phone.get_by_text("Done today").first.wait_for()
    assert phone.evaluate("window.notReloaded") is True
    assert enrolment.sessions.count() == 1


# Phone polish, at the narrowest phones we design for and at 390 px

WIDTHS = [360, 390]


def narrow(page, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 800})


def small_targets(page, selector: str) -> list[str]:
    """The elements matching `selector` whose box is smaller than 44 x 44 px."""
    return page.eval_on_selector_all(
        selector,
        """els => els.filter(e => e.offsetParent !== null)
             .map(e => [e.outerHTML.slice(0, 60), e.getBoundingClientRect()])
             .filter(([html, r]) => r.width < 44 || r.height < 44)
             .map(([html, r]) => `${html} ${Math.round(r.width)}x${Math.round(r.height)}`)""",
    )


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_page_fits_a_narrow_phone(phone, path, program, width):
    narrow(phone, width)
    phone.goto(path)
    assert overflow(phone) == 0
    assert small_targets(phone, "header.site a, header.site button") == []


@pytest.mark.parametrize("width", WIDTHS)
def test_today_with_a_message_fits_and_passes_axe(phone, user, make_enrolment, width):
    enrolment = running(make_enrolment)
    narrow(phone, width)
    phone.log_in(user)
    phone.goto(f"/enrolments/{enrolment.pk}/")
    phone.get_by_role("button", name="Pause").click()
    status = phone.locator("div.messages[role=status]")
    status.get_by_text("Paused. Your stages will wait for you.").wait_for()
    assert overflow(phone) == 0
    assert accessibility_problems(phone) == []
    assert small_targets(phone, "header.site a, header.site button, main button") == []


@pytest.mark.parametrize("width", WIDTHS)
def test_checkin_fits_has_large_targets_and_a_clear_pain_scale(phone, user, make_enrolment, width):
    today = timezone.localdate(timezone=timezone.get_fixed_timezone(0))
    enrolment = make_enrolment(start_date=today - timedelta(days=9), timezone="UTC")
    narrow(phone, width)
    phone.log_in(user)
    assert phone.goto(f"/enrolments/{enrolment.pk}/checkin/").status == 200
    assert overflow(phone) == 0
    assert accessibility_problems(phone) == []
    # Each checkbox and radio is tapped through a label at least 44 px square.
    assert small_targets(phone, "form.checkin label:has(input)") == []
    # Each pain number is its own box: tapping the box for 3 chooses 3, and nothing else.
    boxes = phone.locator("div.scale label")
    assert boxes.count() == 11
    assert boxes.first.inner_text().strip() == "0 none"
    assert boxes.last.inner_text().strip() == "10 worst"
    boxes.nth(3).click()
    assert phone.locator("input[name=pain]:checked").get_attribute("value") == "3"
    # No two boxes overlap.
    rects = boxes.evaluate_all("els => els.map(e => e.getBoundingClientRect().toJSON())")
    for a, b in zip(rects, rects[1:], strict=False):
        assert a["right"] <= b["left"] or a["bottom"] <= b["top"]


@pytest.mark.parametrize("width", WIDTHS)
def test_progress_and_the_coach_dashboard_fit_a_narrow_phone(
    phone, user, coach, make_enrolment, width
):
    enrolment = make_enrolment(
        start_date=timezone.localdate() - timedelta(days=9), timezone="UTC", coach=coach
    )
    narrow(phone, width)
    phone.log_in(user)
    assert phone.goto(f"/enrolments/{enrolment.pk}/progress/").status == 200
    assert overflow(phone) == 0
    phone.context.clear_cookies()
    phone.log_in(coach)
    assert phone.goto("/coach/").status == 200
    assert overflow(phone) == 0


@pytest.mark.parametrize("width", WIDTHS)
def test_enrol_form_suggests_the_phones_zone_and_passes_axe(
    browser, live_server, phone, user, program, width
):
    phone.log_in(user)
    context = browser.new_context(
        viewport={"width": width, "height": 800},
        base_url=live_server.url,
        timezone_id="America/Argentina/Buenos_Aires",
    )
    context.add_cookies(phone.context.cookies())
    page = context.new_page()
    try:
        assert page.goto(f"/programs/{program.slug}/enrol/").status == 200
        zone = page.locator("select[name=timezone]")
        assert zone.input_value() == "America/Argentina/Buenos_Aires"
        # Canonical names only, grouped by region.
        assert page.locator("select[name=timezone] option[value='US/Pacific']").count() == 0
        assert page.locator("optgroup[label=America] option[value='America/New_York']").count()
        assert overflow(page) == 0
        assert accessibility_problems(page) == []
    finally:
        context.close()
