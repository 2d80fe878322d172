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
