"""Shared fixtures: a small program, users, enrolments and a controllable clock."""

from datetime import UTC, date, datetime, time

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from programs import roles
from programs.models import Enrolment, Exercise, Prescription, Program, Stage

pytest_plugins = ["tests.browser"]

User = get_user_model()
PASSWORD = "a-long-enough-passphrase-42"


def make_exercise(slug: str) -> Exercise:
    return Exercise.objects.create(
        slug=slug,
        name=slug.replace("-", " ").title(),
        instructions="Lie on your back.\nBreathe out as you move.",
        cues="Ribs soft",
        stop_if="Sharp pain\nLeaking",
    )


@pytest.fixture(autouse=True, scope="session")
def fast_passwords():
    """A fast password hash for the test users: the real one is slow on purpose, and the suite
    makes thousands of them. Servers the tests start in other processes keep the real one."""
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture
def program(db) -> Program:
    """Six weeks, three stages: breathing (open before clearance), deep core, glutes."""
    program = Program.objects.create(
        slug="test-program", name="Test program", summary="A short program.", weeks=6
    )
    stages = [
        ("breathing", "Breathing", 1, True, True),
        ("deep-core", "Deep core", 2, False, False),
        ("glutes", "Glute strength", 4, False, False),
    ]
    for position, (slug, title, week, before_clearance, ongoing) in enumerate(stages, 1):
        stage = Stage.objects.create(
            program=program,
            position=position,
            slug=slug,
            title=title,
            unlock_week=week,
            goal=f"{title} goal.",
            open_before_clearance=before_clearance,
            ongoing=ongoing,
        )
        for n in (1, 2):
            Prescription.objects.create(
                stage=stage,
                exercise=make_exercise(f"{slug}-{n}"),
                position=n,
                reps=10,
                days_per_week=7 if ongoing else 3,
            )
    return program


@pytest.fixture
def user(db):
    return User.objects.create_user(
        "amira@example.com", "amira@example.com", PASSWORD, first_name="Amira"
    )


@pytest.fixture
def other_user(db):
    return User.objects.create_user("bea@example.com", "bea@example.com", PASSWORD)


@pytest.fixture
def coach(db):
    """A coach: a user in the Coaches group."""
    user = User.objects.create_user(
        "dana@example.com", "dana@example.com", PASSWORD, first_name="Dana", last_name="Coach"
    )
    roles.make_coach(user)
    return user


@pytest.fixture
def member(client, user):
    """A client logged in as `user`."""
    client.force_login(user)
    return client


@pytest.fixture
def make_enrolment(program, user):
    def make(**overrides) -> Enrolment:
        values = {
            "user": user,
            "program": program,
            "start_date": date(2026, 3, 2),
            "timezone": "Europe/London",
            "reminder_time": time(8, 0),
            "weeks_postpartum": 8,
            "caesarean": False,
            "cleared_at": datetime(2026, 3, 1, tzinfo=UTC),
        }
        values.update(overrides)
        return Enrolment.objects.create(**values)

    return make


@pytest.fixture
def clock(time_machine):
    """Move the clock: clock("2026-03-10 09:00", "Europe/London")."""

    def move(when: str, zone: str = "UTC") -> datetime:
        from zoneinfo import ZoneInfo

        instant = datetime.fromisoformat(when).replace(tzinfo=ZoneInfo(zone))
        time_machine.move_to(instant, tick=False)
        return instant

    return move


@pytest.fixture(autouse=True)
def published(request, monkeypatch):
    """The tasks this test asked the workers for (programs.wakeups), instead of a broker. Tests
    with a real broker (tests/processes.py) send them to it."""
    from programs import wakeups

    asked: list[tuple] = []
    if "broker" in request.fixturenames:
        return asked
    monkeypatch.setattr(wakeups, "publish", lambda task, *args: asked.append((task, *args)))
    return asked


@pytest.fixture
def replanning(published, django_capture_on_commit_callbacks):
    """`with replanning():` runs the planning that what happens inside asked the workers for,
    once it commits, in this process (the task bodies, without a broker)."""
    from contextlib import contextmanager

    from programs import tasks, wakeups

    planners = {
        wakeups.PLAN_ENROLMENTS: tasks.plan_enrolments,
        wakeups.PLAN_DIGESTS: tasks.plan_coach_digests,
    }

    @contextmanager
    def run():
        published.clear()
        with django_capture_on_commit_callbacks(execute=True):
            yield
        for name, *args in published:
            if name in planners:
                planners[name].run(*args)

    return run


def person(email, **values) -> User:
    return User.objects.create_user(
        email, email, PASSWORD, first_name=email.split("@")[0], **values
    )


def make(role: str) -> User | None:
    """One of the cast of an access matrix, beside `user` (her) and `coach` (her coach):
    another coach or client, staff with or without the health permission, a superuser, or
    None for a visitor."""
    if role == "her coach":
        return User.objects.get(email="dana@example.com")
    if role == "her":
        return User.objects.get(email="amira@example.com")
    if role == "visitor":
        return None
    user = person(f"{role.replace(' ', '.')}@example.com")
    if role == "another coach":
        roles.make_coach(user)
    elif role == "another client":
        pass
    else:
        user.is_staff = True
        user.is_superuser = role == "superuser"
        user.save()
        if role == "clinical staff":
            roles.make_clinical(user)
        elif role == "staff with the permission":
            user.user_permissions.add(
                Permission.objects.get(content_type__app_label="programs", codename="view_checkin")
            )
    return user
