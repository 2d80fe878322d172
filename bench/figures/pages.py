"""
7. Pages: gunicorn serving the application (`recovery.wsgi`, 2 workers, DEBUG off) on 127.0.0.1
against the benchmark's database. Each page is requested one after another by one client with a
logged-in session cookie (made with Django's SessionStore, as logging in would): a few untimed
requests first, then the timed ones; the figure is the 95th percentile. The anchor is the login
page, which reads nothing but the session.

Three coaches have 25, 200 and 1,000 clients from the population, with 4 weeks of logged
sessions and weekly check-ins; the Today page is one of those clients'.
"""

from __future__ import annotations

import http.client
import math
import subprocess
import sys
import time

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.urls import reverse
from django.utils import timezone

from bench import population
from bench.context import Context
from programs import client_status, roles
from programs.models import Enrolment

User = get_user_model()
WARM_UP = 4


def session_cookie(user) -> str:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[max(math.ceil(0.95 * len(ordered)), 1) - 1]


def fetch(port: int, path: str, cookie: str | None) -> tuple[int, float, int]:
    """(status, seconds, bytes) of one GET."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Host": "127.0.0.1"}
    if cookie:
        headers["Cookie"] = cookie
    try:
        started = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        return response.status, time.perf_counter() - started, len(body)
    finally:
        conn.close()


def measure(ctx: Context) -> None:
    sizes = ctx.sizes.dashboards
    now = timezone.now()
    ids = list(ctx.current(ctx.main).order_by("pk").values_list("pk", flat=True)[: sum(sizes)])
    coaches, offset = {}, 0
    for size in sizes:
        coach = User.objects.create_user(f"coach{size}@bench.example", f"coach{size}@bench.example")
        coach.first_name, coach.last_name = "Coach", str(size)
        coach.save(update_fields=["first_name", "last_name"])
        roles.make_coach(coach)
        mine = ids[offset : offset + size]
        for start in range(0, len(mine), 500):
            Enrolment.objects.filter(pk__in=mine[start : start + 500]).update(coach=coach)
        coaches[size] = coach
        offset += size
    population.add_history(ids, now)
    # Bulk inserts send no signals: their dashboard rows are built as an upgrade builds them.
    for start in range(0, len(ids), 500):
        client_status.refresh(ids[start : start + 500], now)
    client = Enrolment.objects.select_related("user").get(pk=ids[0])

    ctx.say("pages: collecting static files, starting gunicorn (2 workers)")
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=settings.BASE_DIR,
        env=ctx.app_env(),
        check=True,
        capture_output=True,
    )
    server, port = ctx.gunicorn(workers=2)
    try:
        pages = [
            ("page_login_p95", reverse("login"), None),
            ("page_today_p95", reverse("today", args=[client.pk]), session_cookie(client.user)),
            *(
                (f"page_dashboard_{size}_p95", reverse("dashboard"), session_cookie(coaches[size]))
                for size in sizes
            ),
        ]
        results = {}
        for name, path, cookie in pages:
            for _ in range(WARM_UP):
                status, _, _ = fetch(port, path, cookie)
                if status != 200:
                    raise RuntimeError(f"GET {path} answered {status}")
            times = []
            for _ in range(ctx.sizes.page_requests):
                status, seconds, length = fetch(port, path, cookie)
                if status != 200:
                    raise RuntimeError(f"GET {path} answered {status}")
                times.append(seconds)
            results[name] = (p95(times) * 1000, length)
    finally:
        ctx.children.stop(server)

    anchor = results["page_login_p95"][0]
    requests = ctx.sizes.page_requests
    notes = {
        "page_login_p95": "the request itself: gunicorn, middleware, the session, one template",
        "page_today_p95": (
            "loading her enrolment with the whole program (stages, prescriptions, exercises) "
            "through the ORM in a fixed number of queries, then rendering every stage"
        ),
    }
    for name, (value, length) in results.items():
        fig = ctx.fig(name).set(
            value,
            anchor=anchor,
            anchor_label="the login page",
            limited_by=notes.get(
                name,
                "her clients' stored rows (programs.standing) counted, sorted and paged in the "
                "database, 25 loaded: the same queries for any number of clients",
            )
            + f"; p95 of {requests} sequential requests, {length:,} bytes",
        )
        if name == "page_dashboard_1000_p95":
            fig.goal = "≤ 3 × anchor"
            fig.ok = value <= 3 * anchor
