"""
Browser fixtures: Debian's Chromium driven by Playwright against pytest-django's live server, at
phone size, with an axe-core accessibility scan.

Chromium comes from the system (`make test` installs Debian's package when it can); without it
the browser tests are skipped, except in CI, where they must run.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

PHONE = {"width": 390, "height": 844}
# Violations of these impacts fail a page; "minor" and "moderate" ones are reported only.
BLOCKING = ("serious", "critical")


def chromium_path() -> str | None:
    found = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    return found if Path(found).exists() else None


@pytest.fixture(scope="session")
def browser():
    executable = chromium_path()
    if executable is None:
        message = "Chromium is not installed (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # between browser steps are still plain synchronous calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        yield launched
        launched.close()


@pytest.fixture
def phone(browser, live_server):
    """A fresh phone-sized page on the live server; `phone.log_in(user)` signs a user in."""
    context = browser.new_context(viewport=PHONE, base_url=live_server.url)
    page = context.new_page()

    def log_in(user) -> None:
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": session.session_key,
              "url": live_server.url}]
        )  # fmt: skip

    page.log_in = log_in
    yield page
    context.close()


def overflow(page) -> int:
    """How many CSS pixels the page is wider than the viewport (0 when it fits)."""
    return page.evaluate("Math.max(0, document.documentElement.scrollWidth - window.innerWidth)")


def accessibility_problems(page) -> list[str]:
    """axe-core's serious and critical violations on the page, one line each."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['impact']}: {v['id']}: {v['help']} ({len(v['nodes'])} nodes: "
        f"{v['nodes'][0]['target']})"
        for v in results.response["violations"]
        if v["impact"] in BLOCKING
    ]
