"""
`manage.py load_demo`: a demo coach and four demo mothers with some history.

Safe to run again and again: it creates only what is missing, never resets a password and
never changes an existing enrolment. Session logs are derived deterministically from each
mother's email and the date, so a second run on the same day adds nothing; a run on a later
day fills in the days since.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from programs import facts as her_facts
from programs import roles, safety, schedule, tailoring
from programs.default_program import DEFAULT_PROGRAM, EXERCISES
from programs.effects import refresh_standing
from programs.loading import load_program
from programs.models import (
    CheckIn,
    CoachProfile,
    Enrolment,
    Hold,
    Prescription,
    Program,
    SessionLog,
)

COACH_EMAIL = "coach@example.com"
COACH_PASSWORD = "demo-coach-2026"
MOTHER_PASSWORD = "demo-mother-2026"


@dataclass(frozen=True)
class DemoMother:
    email: str
    first_name: str
    timezone: str
    days_ago: int
    weeks_postpartum: int
    caesarean: bool
    cleared: bool
    reminder_time: time
    pains: tuple[int, ...] = ()  # her weekly check-ins so far
    last_signs: tuple[str, ...] = ()  # warning signs in her latest check-in
    eased: bool = False  # her coach eased her heel slides two days ago


MOTHERS = (
    DemoMother("amira@example.com", "Amira", "Europe/London", 3, 7, False, False, time(8, 0)),
    DemoMother("bea@example.com", "Bea", "America/New_York", 10, 9, True, True, time(7, 30), (5,)),
    DemoMother(
        "chloe@example.com",
        "Chloe",
        "Asia/Kolkata",
        24,
        10,
        False,
        True,
        time(8, 0),
        (6, 4, 3),
        eased=True,
    ),
    DemoMother(
        "dee@example.com",
        "Dee",
        "Australia/Sydney",
        40,
        12,
        False,
        True,
        time(9, 0),
        (5, 4, 3, 3, 5),
        ("leg",),
    ),
)


class Command(BaseCommand):
    help = "Create demo users, enrolments and session history (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        with transaction.atomic():
            report = load_program(DEFAULT_PROGRAM, EXERCISES, update=False)
            self.stdout.write(f"Default program: {report.summary()}")
            program = Program.objects.get(slug=DEFAULT_PROGRAM["slug"])

            coach, created = _user(COACH_EMAIL, COACH_PASSWORD, "Dana", "Coach")
            roles.make_coach(coach)
            CoachProfile.objects.get_or_create(user=coach, defaults={"timezone": "Europe/London"})
            users_created = int(created)
            enrolments_created = 0
            logs_created = 0
            for mother in MOTHERS:
                user, created = _user(mother.email, MOTHER_PASSWORD, mother.first_name)
                users_created += created
                enrolment, created = _enrolment(user, program, coach, mother, now)
                enrolments_created += created
                if created:
                    _check_ins(enrolment, mother, now)
                if created and mother.eased:
                    _ease_heel_slides(enrolment, coach, now - timedelta(days=2))
                logs_created += _log_sessions(enrolment, mother.email, now)

        self.stdout.write(
            f"Demo data: {users_created} users, {enrolments_created} enrolments, "
            f"{logs_created} session logs created."
        )
        self.stdout.write("Demo logins:")
        self.stdout.write(f"  coach   {COACH_EMAIL} / {COACH_PASSWORD}")
        for mother in MOTHERS:
            self.stdout.write(f"  mother  {mother.email} / {MOTHER_PASSWORD}")


def _user(
    email: str, password: str, first_name: str, last_name: str = ""
) -> tuple[AbstractBaseUser, bool]:
    """Get or create a demo user; only a new user gets the demo password."""
    user, created = get_user_model().objects.get_or_create(
        username=email,
        defaults={"email": email, "first_name": first_name, "last_name": last_name},
    )
    if created:
        user.set_password(password)
        user.save(update_fields=["password"])
    return user, created


def _enrolment(
    user: AbstractBaseUser,
    program: Program,
    coach: AbstractBaseUser,
    mother: DemoMother,
    now: datetime,
) -> tuple[Enrolment, bool]:
    """Her existing enrolment in the program (whatever its status), or a new one."""
    existing = Enrolment.objects.filter(user=user, program=program).order_by("-created_at").first()
    if existing is not None:
        return existing, False
    today = now.astimezone(ZoneInfo(mother.timezone)).date()
    start = today - timedelta(days=mother.days_ago)
    enrolment = Enrolment(
        user=user,
        program=program,
        coach=coach,
        start_date=start,
        timezone=mother.timezone,
        reminder_time=mother.reminder_time,
        weeks_postpartum=mother.weeks_postpartum,
        caesarean=mother.caesarean,
        # Cleared from her first day, so her history matches what was open each day.
        cleared_at=(
            schedule.local_midnight(start, ZoneInfo(mother.timezone)) if mother.cleared else None
        ),
    )
    enrolment.full_clean()
    enrolment.save()
    return enrolment, True


def _ease_heel_slides(enrolment: Enrolment, coach, at: datetime) -> None:
    """Her coach tailored one exercise: fewer reps, five days a week."""
    old = Prescription.objects.of_programs().get(
        stage__program=enrolment.program, exercise__slug="heel-slide"
    )
    dose = replace(tailoring.Dose.of(old), reps=8, days_per_week=5)
    tailoring.change(enrolment, old, dose, coach, at)


def _log_sessions(enrolment: Enrolment, seed: str, now: datetime) -> int:
    """Log plausible sessions for each past day of her program; returns how many were new.

    She trains on roughly 60 to 80% of days (a rate fixed by `seed`) and, on those days, does
    everything on that day's list. Each day's coin is seeded by `seed` and the
    date, so the history never changes from one run to the next.
    """
    enrolment = her_facts.with_facts(Enrolment.objects.filter(pk=enrolment.pk)).get()
    facts = enrolment.facts()
    prescriptions = tailoring.her_prescriptions(enrolment)
    rate = random.Random(seed).uniform(0.6, 0.8)
    last = enrolment.local_today(now) - timedelta(days=1)
    if enrolment.withdrawn_at is not None:
        last = min(last, enrolment.local_today(enrolment.withdrawn_at))

    logs = []
    day = enrolment.start_date
    while day <= last:
        if _trained(seed, day, rate) and not _paused_all_day(facts, day):
            noon = schedule.local_instant(day, time(12, 0), facts.tz)
            logs.extend(
                SessionLog(enrolment=enrolment, prescription=prescriptions[p.key], local_date=day)
                for p in schedule.snapshot(facts, noon).daily
            )
        day += timedelta(days=1)

    before = SessionLog.objects.filter(enrolment=enrolment).count()
    SessionLog.objects.bulk_create(logs, ignore_conflicts=True)
    refresh_standing([enrolment.pk])  # bulk_create sends no signal
    return SessionLog.objects.filter(enrolment=enrolment).count() - before


def _trained(seed: str, day: date, rate: float) -> bool:
    return random.Random(f"{seed}:{day.isoformat()}").random() < rate


def _paused_all_day(facts: schedule.EnrolmentFacts, day: date) -> bool:
    """A paused day is one her program clock did not move past."""
    return schedule.program_day_on(facts, day + timedelta(days=1)) == schedule.program_day_on(
        facts, day
    )


def _check_ins(enrolment: Enrolment, mother: DemoMother, now: datetime) -> None:
    """Her weekly check-ins, each on the evening a week ended; a red flag in the last one
    holds her program, as a real one would."""
    previous = None
    for week, pain in enumerate(mother.pains, start=1):
        at = schedule.local_instant(
            enrolment.start_date + timedelta(days=7 * week - 1), time(20, 0), enrolment.tz
        )
        if at > now:
            break
        signs = mother.last_signs if week == len(mother.pains) else ()
        assessment = safety.assess(pain, signs, previous_pain=previous)
        checkin = CheckIn.objects.create(
            enrolment=enrolment,
            week=week,
            submitted_at=at,
            pain=pain,
            pain_sites=["low_back"] if pain else [],
            warning_signs=list(signs),
            sessions_felt=CheckIn.Felt.RIGHT,
            tier=assessment.tier,
        )
        if assessment.holds_program:
            Hold.objects.create(
                enrolment=enrolment, tier=assessment.tier, checkin=checkin, started_at=at
            )
        previous = pain
