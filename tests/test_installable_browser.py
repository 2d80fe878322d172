"""The service worker in a real browser: her Today page offline, the offline page for anything
else, and nothing kept after she logs out."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from tests.browser import accessibility_problems, overflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def controlled(page) -> None:
    """Waits until the service worker is active and controls the page."""
    # evaluate, not wait_for_function: the site's CSP forbids the eval the latter needs.
    page.evaluate("navigator.serviceWorker.ready")
    for _ in range(50):
        if page.evaluate("navigator.serviceWorker.controller !== null"):
            return
        page.wait_for_timeout(100)
    raise AssertionError("the service worker never took control of the page")


def test_offline_she_sees_her_last_today_page_and_else_the_offline_page(
    phone, user, make_enrolment
):
    today = timezone.localdate(timezone=timezone.get_fixed_timezone(0))
    enrolment = make_enrolment(start_date=today - timedelta(days=2), timezone="UTC")
    phone.log_in(user)
    phone.goto(f"/enrolments/{enrolment.pk}/")
    controlled(phone)
    phone.reload()  # now through the worker, which keeps it
    heading = phone.get_by_role("heading", level=1).inner_text()

    phone.context.set_offline(True)
    phone.goto(f"/enrolments/{enrolment.pk}/")
    assert phone.get_by_role("heading", level=1).inner_text() == heading
    phone.goto("/today/")
    assert phone.get_by_role("heading", level=1).inner_text() == heading
    phone.goto(f"/enrolments/{enrolment.pk}/progress/")  # health data: never kept
    phone.get_by_role("heading", name="You're offline").wait_for()
    shots = settings.VAR_DIR / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    phone.screenshot(path=str(shots / "offline.png"))
    assert overflow(phone) == 0
    assert accessibility_problems(phone) == []

    phone.context.set_offline(False)
    phone.goto(f"/enrolments/{enrolment.pk}/")
    phone.get_by_role("button", name="Log out").click()
    phone.get_by_role("link", name="Log in").first.wait_for()
    phone.context.set_offline(True)
    phone.goto(f"/enrolments/{enrolment.pk}/")
    phone.get_by_role("heading", name="You're offline").wait_for()
    kept = phone.evaluate("caches.open('pages').then((c) => c.keys()).then((k) => k.length)")
    assert kept == 0
