"""
The benchmark's population, built with bulk inserts: enrollees spread over real time zones from
UTC−12 to UTC+14 (half- and quarter-hour offsets and DST zones among them), at every stage of
the 8-week default program, with reminder times through the day, and a few paused or withdrawn.

Everything is drawn from a seeded generator, so two runs build the same population.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connections, router, transaction

from programs import schedule
from programs.default_program import DEFAULT_PROGRAM, EXERCISES
from programs.loading import load_program
from programs.models import CheckIn, Enrolment, Pause, Prescription, Program, SessionLog

User = get_user_model()
BATCH = 5000

# (zone, weight): where the enrollees live. Every offset from UTC−12 to UTC+14 is covered,
# with the odd ones (−9:30, −3:30, +3:30, +4:30, +5:30, +5:45, +6:30, +8:45, +9:30, +10:30
# with a half-hour DST, +12:45) and zones with DST in both hemispheres.
ZONES: tuple[tuple[str, int], ...] = (
    ("Etc/GMT+12", 1),
    ("Pacific/Pago_Pago", 1),
    ("Pacific/Honolulu", 2),
    ("Pacific/Marquesas", 1),
    ("America/Anchorage", 2),
    ("America/Los_Angeles", 6),
    ("America/Denver", 3),
    ("America/Chicago", 5),
    ("America/New_York", 8),
    ("America/Santiago", 2),
    ("America/St_Johns", 2),
    ("America/Sao_Paulo", 4),
    ("Atlantic/South_Georgia", 1),
    ("Atlantic/Azores", 1),
    ("Europe/London", 8),
    ("Europe/Dublin", 2),
    ("Europe/Berlin", 5),
    ("Africa/Lagos", 3),
    ("Africa/Cairo", 2),
    ("Africa/Nairobi", 2),
    ("Europe/Moscow", 2),
    ("Asia/Tehran", 1),
    ("Asia/Dubai", 2),
    ("Asia/Kabul", 1),
    ("Asia/Karachi", 2),
    ("Asia/Kolkata", 6),
    ("Asia/Kathmandu", 2),
    ("Asia/Dhaka", 2),
    ("Asia/Yangon", 1),
    ("Asia/Bangkok", 2),
    ("Asia/Shanghai", 3),
    ("Australia/Perth", 2),
    ("Australia/Eucla", 1),
    ("Asia/Tokyo", 2),
    ("Australia/Adelaide", 2),
    ("Australia/Sydney", 4),
    ("Australia/Lord_Howe", 1),
    ("Pacific/Noumea", 1),
    ("Pacific/Auckland", 3),
    ("Pacific/Chatham", 1),
    ("Pacific/Tongatapu", 1),
    ("Pacific/Kiritimati", 1),
)

# Reminder times: mostly early morning, some at lunch and in the evening, on the quarter hour
# or at odd minutes as people pick them.
REMINDER_HOURS = (6, 7, 7, 8, 8, 8, 8, 9, 9, 10, 12, 13, 17, 19, 20, 21)
REMINDER_MINUTES = (0, 0, 0, 0, 15, 30, 30, 45, 5, 20, 50)
FIRST_NAMES = ("Amira", "Bea", "Chloe", "Dee", "Esi", "Fatima", "Grace", "Hana", "Ines", "Jo")
# Program days: from two weeks before her start to the last week of the 8-week program.
START_OFFSETS = range(-14, 56)


@dataclass(frozen=True)
class Cohort:
    """A group of enrollees the benchmark made, by enrolment id."""

    enrolment_ids: list[int]
    user_ids: list[int]

    def __len__(self) -> int:
        return len(self.enrolment_ids)


def default_program() -> Program:
    """The shipped program, loaded as `manage.py load_default_program` does."""
    load_program(DEFAULT_PROGRAM, EXERCISES, update=False)
    return Program.objects.get(slug=DEFAULT_PROGRAM["slug"])


def build(
    program: Program,
    count: int,
    now: datetime,
    prefix: str,
    seed: int = 1,
    planned_until: Sequence[datetime | None] | None = None,
) -> Cohort:
    """`count` enrollees of all kinds. `planned_until[i]` is the i-th one's planning
    bookkeeping (None: she is due for planning)."""
    rng = random.Random(seed)
    zones = [z for z, _ in ZONES]
    weights = [w for _, w in ZONES]
    specs = []
    for i in range(count):
        zone = rng.choices(zones, weights)[0]
        tz = ZoneInfo(zone)
        today = now.astimezone(tz).date()
        start = today - timedelta(days=rng.choice(START_OFFSETS))
        roll = rng.random()
        status = (
            Enrolment.Status.WITHDRAWN
            if roll < 0.01
            else Enrolment.Status.PAUSED
            if roll < 0.03
            else Enrolment.Status.ACTIVE
        )
        specs.append(
            {
                "timezone": zone,
                "start_date": start,
                "reminder_time": time(rng.choice(REMINDER_HOURS), rng.choice(REMINDER_MINUTES)),
                "cleared_at": (schedule.local_midnight(start, tz) if rng.random() < 0.75 else None),
                "weeks_postpartum": rng.randint(0, 30),
                "caesarean": rng.random() < 0.3,
                "status": status,
                "withdrawn_at": now - timedelta(days=1) if status == "withdrawn" else None,
                "email_session": rng.random() > 0.05,
                "email_nudge": rng.random() > 0.15,
                "email_stage": True,
                "email_checkin": rng.random() > 0.05,
                "planned_until": planned_until[i] if planned_until is not None else None,
                "plan_error": "",
            }
        )
    cohort = _insert(program, prefix, specs, rng)
    paused = [
        Pause(enrolment_id=pk, started_at=now - timedelta(days=2))
        for pk, spec in zip(cohort.enrolment_ids, specs, strict=True)
        if spec["status"] == Enrolment.Status.PAUSED
    ]
    Pause.objects.bulk_create(paused, batch_size=BATCH)
    return cohort


def build_one_instant(
    program: Program, count: int, zone: str, at: datetime, prefix: str, seed: int = 2
) -> Cohort:
    """`count` enrollees in `zone` whose reminder falls at the instant `at` (whole seconds),
    on the second day of their program (a session reminder, no nudge yet), none planned yet."""
    tz = ZoneInfo(zone)
    local = at.astimezone(tz)
    rng = random.Random(seed)
    specs = [
        {
            "timezone": zone,
            "start_date": local.date() - timedelta(days=1),
            "reminder_time": local.time().replace(microsecond=0),
            "cleared_at": (
                schedule.local_midnight(local.date() - timedelta(days=1), tz)
                if rng.random() < 0.75
                else None
            ),
            "weeks_postpartum": rng.randint(0, 30),
            "caesarean": rng.random() < 0.3,
            "status": Enrolment.Status.ACTIVE,
            "withdrawn_at": None,
            "email_session": True,
            "email_nudge": True,
            "email_stage": True,
            "email_checkin": True,
            "planned_until": None,
            "plan_error": "",
        }
        for _ in range(count)
    ]
    return _insert(program, prefix, specs, rng)


def _insert(program: Program, prefix: str, specs: list[dict], rng: random.Random) -> Cohort:
    # One unusable password for everyone: hashing 100,000 passwords would take minutes.
    password = make_password(None)
    joined = datetime.now(UTC)
    user_ids: list[int] = []
    enrolment_ids: list[int] = []
    enrolment_fields = [
        "user_id", "program_id", "created_at", *ENROLMENT_FIELDS, *ENROLMENT_CONSTANTS
    ]  # fmt: skip
    constants = tuple(ENROLMENT_CONSTANTS.values())
    for offset in range(0, len(specs), BATCH):
        chunk = specs[offset : offset + BATCH]
        with transaction.atomic():
            users = insert(
                User,
                USER_FIELDS,
                [
                    (
                        f"{prefix}{offset + i}@bench.example",
                        f"{prefix}{offset + i}@bench.example",
                        rng.choice(FIRST_NAMES),
                        "",
                        password,
                        False,
                        False,
                        True,
                        joined,
                    )
                    for i in range(len(chunk))
                ],
            )
            enrolments = insert(
                Enrolment,
                enrolment_fields,
                [
                    (user, program.pk, joined, *(spec[f] for f in ENROLMENT_FIELDS), *constants)
                    for user, spec in zip(users, chunk, strict=True)
                ],
            )
        user_ids.extend(users)
        enrolment_ids.extend(enrolments)
    return Cohort(enrolment_ids, user_ids)


USER_FIELDS = [
    "username",
    "email",
    "first_name",
    "last_name",
    "password",
    "is_staff",
    "is_superuser",
    "is_active",
    "date_joined",
]
ENROLMENT_FIELDS = [
    "timezone",
    "start_date",
    "reminder_time",
    "cleared_at",
    "weeks_postpartum",
    "caesarean",
    "status",
    "withdrawn_at",
    "email_session",
    "email_nudge",
    "email_stage",
    "email_checkin",
    "planned_until",
    "plan_error",
]
# The same for everyone: the columns a raw insert must still fill.
ENROLMENT_CONSTANTS = {
    "version": 0,
    "reminder_days": "{}",
    "email_evening": True,
    "calendar_secret": "",
}


def insert(model, fields: list[str], rows: list[tuple], chunk: int = 500) -> list[int]:
    """Insert rows (values in `fields` order, already the right Python types) with multi-row
    INSERT ... RETURNING statements, and return their primary keys in order. Django's
    bulk_create does the same but prepares every value through its field, which costs more
    than the insert itself at this size."""
    connection = connections[router.db_for_write(model)]
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(model._meta.get_field(f).column) for f in fields)
    adapt = _adapter(connection)
    ids: list[int] = []
    with connection.cursor() as cursor:
        for offset in range(0, len(rows), chunk):
            part = rows[offset : offset + chunk]
            placeholders = ", ".join(["(" + ", ".join(["%s"] * len(fields)) + ")"] * len(part))
            params = [adapt(value) for row in part for value in row]
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {placeholders} RETURNING id", params
            )
            ids.extend(row[0] for row in cursor.fetchall())
    return ids


def _adapter(connection):
    if connection.vendor == "postgresql":
        return lambda value: value  # psycopg adapts dates, times and aware datetimes itself
    ops = connection.ops

    def adapt(value):
        if isinstance(value, datetime):
            return ops.adapt_datetimefield_value(value)
        if isinstance(value, date | time):
            return value.isoformat()
        if isinstance(value, bool):
            return int(value)
        return value

    return adapt


def add_history(enrolment_ids: Iterable[int], now: datetime, seed: int = 3) -> int:
    """Sessions she logged (on about 70% of past days, her open stages' exercises) and a
    weekly check-in with a pain score, for the coach pages to show. Rows created."""
    rng = random.Random(seed)
    enrolments = list(
        Enrolment.objects.filter(pk__in=list(enrolment_ids)).select_related("program")
    )
    prescriptions = list(
        Prescription.objects.filter(stage__program__in={e.program_id for e in enrolments})
        .select_related("stage")
        .order_by("stage__position", "position")
    )
    logs, checkins = [], []
    for e in enrolments:
        today = now.astimezone(e.tz).date()
        days = (today - e.start_date).days
        for back in range(1, min(days, 28) + 1):
            day = today - timedelta(days=back)
            if rng.random() < 0.7:
                week = (day - e.start_date).days // 7 + 1
                logs.extend(
                    SessionLog(enrolment_id=e.pk, prescription_id=p.pk, local_date=day)
                    for p in prescriptions
                    if p.stage.unlock_week == week
                    or (p.stage.ongoing and p.stage.unlock_week < week)
                )
        pain = rng.randint(1, 6)
        for week in range(1, days // 7 + 1):
            pain = max(0, min(10, pain + rng.choice((-1, 0, 0, 1, 2))))
            at = datetime.combine(e.start_date + timedelta(days=7 * week - 1), time(20), UTC)
            checkins.append(
                CheckIn(
                    enrolment_id=e.pk,
                    week=week,
                    submitted_at=at,
                    pain=pain,
                    pain_sites=["low_back"] if pain else [],
                    sessions_felt=CheckIn.Felt.RIGHT,
                )
            )
    SessionLog.objects.bulk_create(logs, batch_size=BATCH, ignore_conflicts=True)
    CheckIn.objects.bulk_create(checkins, batch_size=BATCH)
    return len(logs) + len(checkins)


def local_today(zone: str, now: datetime) -> date:
    return now.astimezone(ZoneInfo(zone)).date()
