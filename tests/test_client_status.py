"""Each client's stored dashboard row (programs.standing, ClientStatus): computed purely, kept
current on every event in the same transaction, rolled over at her local midnight, rebuilt by
the command."""

import io
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from programs import client_status, schedule, sessions, standing, tailoring, tasks
from programs.coaching import Flag, GuidedResult
from programs.models import (
    CheckIn,
    ClientStatus,
    Enrolment,
    Heartbeat,
    Hold,
    Prescription,
    SessionLog,
    Stage,
    StageOverride,
)
from tests.test_concurrency import one_waiting_on_the_other, postgresql_only

ZONES = ["Europe/London", "Asia/Kathmandu", "Pacific/Chatham", "Etc/GMT+12", "America/Santiago"]


def at(text: str, zone: str = "UTC") -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))


def facts(zone: str = "Europe/London", **extra) -> schedule.EnrolmentFacts:
    stage = schedule.StageSpec(
        1, 1, open_before_clearance=True, prescriptions=(schedule.PrescriptionSpec(10, 7),)
    )
    values = {"start_date": date(2026, 3, 2), "tz": ZoneInfo(zone), "weeks": 6, "stages": (stage,)}
    return schedule.EnrolmentFacts(**{**values, **extra})


# The pure core: her next local midnight


@pytest.mark.parametrize(
    "zone, now, expected",
    [
        # The night the clocks go forward: midnight is still GMT.
        ("Europe/London", "2026-03-28 12:00", "2026-03-29 00:00"),
        # The day after: midnight is BST, an hour earlier in UTC.
        ("Europe/London", "2026-03-29 12:00", "2026-03-29 23:00"),
        ("Europe/London", "2026-10-25 12:00", "2026-10-26 00:00"),  # back to GMT
        ("Asia/Kathmandu", "2026-03-10 12:00", "2026-03-10 18:15"),  # +05:45
        ("Pacific/Chatham", "2026-03-10 12:00", "2026-03-11 10:15"),  # +13:45 in its summer
        ("Pacific/Chatham", "2026-06-10 12:00", "2026-06-11 11:15"),  # +12:45 in its winter
        ("Etc/GMT+12", "2026-03-10 12:00", "2026-03-11 12:00"),  # UTC-12
        # Santiago springs forward at midnight: her day begins at 01:00 -03.
        ("America/Santiago", "2026-09-06 01:00", "2026-09-06 04:00"),
    ],
)
def test_the_roll_over_is_her_next_local_midnight(zone, now, expected):
    assert standing.next_change(facts(zone), at(now)) == at(expected)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    zone=st.sampled_from(ZONES),
    now=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)),
)
def test_the_roll_over_is_the_first_instant_of_a_later_local_day(zone, now):
    now = now.replace(tzinfo=UTC)
    tz = ZoneInfo(zone)
    turn = standing.next_change(facts(zone), now)
    assert turn > now
    assert turn.astimezone(tz).date() > now.astimezone(tz).date()
    assert (turn - timedelta(microseconds=1)).astimezone(tz).date() == now.astimezone(tz).date()


def test_an_instant_already_recorded_comes_before_midnight():
    now = at("2026-03-10 09:00")
    later = at("2026-03-10 15:00")
    paused = facts(pauses=(schedule.Interval(later),))
    assert standing.next_change(paused, now) == later
    cleared = facts(cleared_at=later)
    assert standing.next_change(cleared, now) == later
    past = facts(cleared_at=at("2026-03-01 00:00"), holds=(schedule.Interval(now),))
    assert standing.next_change(past, now) == at("2026-03-11 00:00")


def test_flagged_first_is_one_number_most_urgent_outweighing_the_rest():
    everything_else = standing.rank(set(standing.URGENCY) - {Flag.URGENT})
    assert standing.rank([Flag.URGENT]) > everything_else
    assert standing.rank([Flag.HOLD]) > standing.rank([Flag.PAIN_UP, Flag.IDLE, Flag.BROKEN])
    assert standing.rank([]) == 0


def test_compute_counts_the_last_7_days_and_raises_the_flags():
    now = at("2026-03-10 09:00")
    logs = [(10, date(2026, 3, 9)), (10, date(2026, 3, 2))]
    found = standing.compute(facts(), now, logs, pains=[1, 4])
    assert found.local_date == date(2026, 3, 10)
    assert found.week == 2
    assert found.recent == (1, 7)  # 4 to 10 March, every day
    assert found.overall == (2, 14)
    assert found.last_activity == date(2026, 3, 9)
    assert found.last_pain == 4
    assert found.flags == (Flag.PAIN_UP,)
    assert found.rolls_over_at == at("2026-03-11 00:00")


# Kept current on every event, in the same transaction

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def now(clock):
    return clock("2026-03-10 09:00", "Europe/London")


@pytest.fixture
def her(make_enrolment, coach):
    return make_enrolment(coach=coach)


def row(enrolment) -> ClientStatus:
    return ClientStatus.objects.get(pk=enrolment.pk)


def breathing(n=1) -> Prescription:
    return Prescription.objects.get(stage__slug="breathing", position=n, enrolment=None)


def test_a_new_enrolment_has_its_row(her):
    status = row(her)
    assert (status.week, status.local_date, status.flags) == (2, date(2026, 3, 10), (Flag.IDLE,))
    assert status.rolls_over_at == at("2026-03-11 00:00")


def test_a_session_logged_or_undone_changes_her_row_before_it_commits(her):
    with transaction.atomic():
        SessionLog.objects.create(
            enrolment=her, prescription=breathing(), local_date=date(2026, 3, 10)
        )
        status = row(her)
        assert (status.recent_done, status.last_activity) == (1, date(2026, 3, 10))
        assert status.flags == ()
    SessionLog.objects.filter(enrolment=her).delete()
    assert (row(her).recent_done, row(her).last_activity) == (0, None)


def test_check_ins_set_her_last_pain_and_pain_rising(her, now):
    CheckIn.objects.create(enrolment=her, week=1, submitted_at=now, pain=1, sessions_felt="right")
    assert (row(her).last_pain, row(her).pain_up) == (1, False)
    CheckIn.objects.create(enrolment=her, week=2, submitted_at=now, pain=4, sessions_felt="right")
    status = row(her)
    assert (status.last_pain, status.pains, status.pain_up) == (4, [1, 4], True)


def test_a_hold_raised_escalated_and_cleared(her, now, coach):
    hold = Hold.objects.create(enrolment=her, tier=1, started_at=now)
    assert (row(her).hold, row(her).urgent) == (True, False)
    hold.tier = 2
    hold.save()
    assert (row(her).hold, row(her).urgent) == (False, True)
    assert row(her).rank == standing.rank([Flag.URGENT])  # held: not idle
    hold.cleared_at, hold.cleared_by = now, coach
    hold.save()
    assert (row(her).hold, row(her).urgent) == (False, False)


def test_a_stage_override_changes_what_she_is_asked_for(her, now):
    before = row(her).recent_expected
    stage = Stage.objects.get(slug="deep-core")
    override = StageOverride.objects.create(
        enrolment=her, stage=stage, action=StageOverride.Action.HOLD, created_at=now
    )
    assert row(her).recent_expected < before
    override.delete()
    assert row(her).recent_expected == before


def test_pause_resume_and_withdraw(her, clock):
    her.pause(clock("2026-03-10 10:00", "Europe/London"))
    assert row(her).idle is False  # paused: not running, so not idle
    her.resume(clock("2026-03-12 10:00", "Europe/London"))
    # Two days stood still: day 8 of 42, not 10; and idle again.
    assert (row(her).progress_percent, row(her).idle) == (19, True)
    her.withdraw(clock("2026-03-12 11:00", "Europe/London"))
    assert row(her).local_date == date(2026, 3, 12)


def test_an_enrolment_edit_moves_her_roll_over_to_her_new_zone(her):
    her.timezone = "Asia/Kathmandu"
    her.save()
    assert row(her).rolls_over_at == at("2026-03-10 18:15")


def test_a_guided_session_found_too_hard_flags_her_even_with_nothing_done(her):
    sessions.record(her, date(2026, 3, 10), 3, [(breathing(), False, "too_hard")])
    assert row(her).strain is True


def test_an_event_deleted_with_her_leaves_nothing_behind(her):
    SessionLog.objects.create(enrolment=her, prescription=breathing(), local_date=date(2026, 3, 9))
    her.user.delete()
    assert not ClientStatus.objects.exists()


def test_a_program_change_leaves_its_rows_for_the_roll_over(her, now, program):
    program.weeks = 8
    program.save()
    assert row(her).rolls_over_at <= now
    assert client_status.roll_over(now, 100, 10) == (1, 1)
    assert row(her).rolls_over_at == at("2026-03-11 00:00")


# Settling: time alone changes nothing more


def test_a_settled_row_has_no_next_change_unless_an_instant_is_ahead():
    london = ZoneInfo("Europe/London")
    settled = date(2026, 4, 20)
    assert standing.next_change(facts(), at("2026-04-19 12:00", "Europe/London"), settled) == (
        at("2026-04-20 00:00", "Europe/London")
    )
    assert standing.next_change(facts(), at("2026-04-20 00:00", "Europe/London"), settled) is None
    pause = schedule.Interval(datetime(2026, 4, 25, tzinfo=london), None)
    ahead = facts(pauses=(pause,))
    assert standing.next_change(ahead, at("2026-04-21 12:00", "Europe/London"), settled) == (
        at("2026-04-22 00:00", "Europe/London")
    )


@pytest.mark.parametrize(
    "now, last_activity, guided, settles",
    [
        # Six weeks from Monday 2 March end on Monday 13 April.
        ("2026-04-12 23:59", None, (), None),  # still running
        ("2026-04-13 00:00", None, (), date(2026, 4, 20)),  # her last 7 days hold none of it
        ("2026-04-13 00:00", date(2026, 4, 16), (), date(2026, 4, 23)),  # a session after it
        ("2026-04-13 00:00", None, (date(2026, 4, 22),), date(2026, 4, 29)),  # strain runs out
    ],
)
def test_her_row_settles_a_week_after_her_program_and_her_last_session(
    now, last_activity, guided, settles
):
    results = [GuidedResult(day, True, None) for day in guided]
    when = at(now, "Europe/London")
    assert standing.settles_on(facts(), when, last_activity, results) == settles


# The roll-over


def test_only_rows_whose_midnight_came_are_rolled_over_in_bounded_batches(
    make_enrolment, other_user, clock
):
    london = make_enrolment()
    kathmandu = make_enrolment(user=other_user, timezone="Asia/Kathmandu")
    # 18:30 UTC: past midnight in Kathmandu (18:15), not yet in London.
    now = clock("2026-03-10 18:30")
    assert client_status.roll_over(now, 10, 10) == (1, 1)
    assert row(kathmandu).local_date == date(2026, 3, 11)
    assert row(london).local_date == date(2026, 3, 10)

    later = clock("2026-03-12 00:30")  # both due
    assert client_status.roll_over(later, 1, 1) == (1, 1)  # one batch of one, the rest next time
    assert client_status.roll_over(later, 1, 5) == (1, 1)
    assert client_status.roll_over(later, 1, 5) == (0, 0)
    assert {row(london).local_date, row(kathmandu).local_date} == {date(2026, 3, 12)}


def test_her_week_turns_at_her_midnight(her, clock):
    clock("2026-03-15 23:59", "Europe/London")  # Sunday: the last day of week 2
    client_status.roll_over(clock("2026-03-15 23:59", "Europe/London"), 10, 10)
    assert row(her).week == 2
    monday = clock("2026-03-16 00:00", "Europe/London")
    assert client_status.roll_over(monday, 10, 10) == (1, 1)
    assert row(her).week == 3


def test_a_finished_program_leaves_the_roll_over_a_week_after_it_ended(her, clock):
    ended = her.start_date + timedelta(weeks=her.program.weeks)
    day = ended + timedelta(days=6)
    client_status.roll_over(clock(f"{day} 00:01", "Europe/London"), 10, 10)
    assert row(her).finished and row(her).rolls_over_at is not None
    settled = clock(f"{ended + timedelta(days=7)} 00:01", "Europe/London")
    assert client_status.roll_over(settled, 10, 10) == (1, 1)
    assert row(her).rolls_over_at is None
    later = clock(f"{ended + timedelta(days=90)} 12:00", "Europe/London")
    assert client_status.roll_over(later, 10, 10) == (0, 0)
    # What the dashboard shows is what it would compute now; only the date it was for differs.
    assert {**stored(her), "local_date": None} == {**from_scratch(her, later), "local_date": None}


def test_a_woman_who_left_keeps_the_row_she_had_and_leaves_the_roll_over(her, clock):
    left = clock("2026-03-10 09:00", "Europe/London")  # week 2
    her.withdraw(left)
    assert row(her).week == 2 and row(her).rolls_over_at is None
    later = clock("2026-04-02 09:00", "Europe/London")
    assert client_status.roll_over(later, 10, 10) == (0, 0)
    assert from_scratch(her, later)["week"] == 2


def test_the_task_rolls_over_and_records_a_heartbeat(her, clock):
    clock("2026-03-11 00:01", "Europe/London")
    assert tasks.roll_over_client_status.run() == {"rows": 1, "batches": 1}
    assert Heartbeat.objects.get(job="roll_over").detail == {"rows": 1, "batches": 1}
    assert row(her).local_date == date(2026, 3, 11)


def test_the_roll_over_runs_on_beat(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["roll-over-client-status"]
    assert entry["task"] == "programs.tasks.roll_over_client_status"


# The rebuild command


def test_rebuild_recomputes_every_row_in_batches(make_enrolment, other_user, user, program):
    make_enrolment()
    make_enrolment(user=other_user)
    # Written around the model layer, with data the model refuses now: no row yet.
    (third,) = Enrolment.objects.bulk_create(
        [
            Enrolment(
                user=user,
                program=program,
                start_date=date(2026, 3, 2),
                timezone="Europe/Londn",
                weeks_postpartum=8,
                caesarean=False,
                status=Enrolment.Status.WITHDRAWN,
            )
        ]
    )
    ClientStatus.objects.update(week=99)
    out = io.StringIO()
    call_command("rebuild_client_status", "--batch", "2", stdout=out)
    assert out.getvalue() == (
        "Rebuilt 3 client statuses in 2 batches; "
        "1 enrolments hold data the schedule cannot read (see the admin).\n"
    )
    assert not ClientStatus.objects.filter(week=99).exists()
    assert row(third).broken is True


# Whatever happens, the stored row is the row computed from scratch

ZONE_STARTS = {
    "Europe/London": "2026-03-27 20:00",  # the clocks go forward on the 29th
    "Asia/Kathmandu": "2026-03-09 17:00",
    "Pacific/Chatham": "2026-04-03 09:00",  # back on the 5th
    "Etc/GMT+12": "2026-03-09 10:00",
    "America/Santiago": "2026-04-03 22:00",  # back on the 5th
}
EVENTS = st.one_of(
    st.tuples(st.just("log"), st.integers(1, 2), st.integers(0, 6)),
    st.tuples(st.just("unlog"), st.integers(0, 5)),
    st.tuples(st.just("check_in"), st.integers(0, 10)),
    st.tuples(st.just("hold"), st.integers(1, 2)),
    st.tuples(st.just("clear")),
    st.tuples(
        st.just("override"),
        st.sampled_from(["deep-core", "glutes"]),
        st.sampled_from(["open", "hold"]),
    ),
    st.tuples(st.just("release")),
    st.tuples(st.just("pause")),
    st.tuples(st.just("resume")),
    st.tuples(st.just("withdraw")),
    st.tuples(st.just("guided"), st.booleans(), st.none() | st.integers(0, 10)),
    st.tuples(st.just("time"), st.integers(1, 40 * 60)),  # minutes
    st.tuples(st.just("midnight"), st.integers(0, 90)),  # minutes past her next midnight
    st.tuples(st.just("roll_over")),
    st.tuples(st.just("tailor"), st.integers(0, 3), st.integers(1, 7)),
    st.tuples(st.just("take_out"), st.integers(0, 3)),
    st.tuples(st.just("start"), st.integers(-10, 10)),
)


def her_breathing(enrolment, now) -> list[Prescription]:
    """The breathing stage's exercises as her coach has tailored them by `now`."""
    facts = enrolment.facts()
    spec = next(s for s in facts.stages if s.key == Stage.objects.get(slug="breathing").pk)
    keys = [p.key for p in schedule.prescribed(facts, spec, now)]
    return sorted(Prescription.objects.filter(pk__in=keys), key=lambda p: keys.index(p.pk))


def compared(values: dict) -> dict:
    return {k: v for k, v in values.items() if k not in ("computed_at", "enrolment")}


def stored(enrolment) -> dict:
    status = row(enrolment)
    return compared({f.name: getattr(status, f.name) for f in ClientStatus._meta.concrete_fields})


def from_scratch(enrolment, now) -> dict:
    ((_, found),) = client_status.standings([enrolment.pk], now)
    return compared(standing.values(found, now))


def happen(event, enrolment, now, coach):
    kind, *args = event
    if kind == "log":
        today = now.astimezone(enrolment.tz).date()
        SessionLog.objects.get_or_create(
            enrolment=enrolment,
            prescription=breathing(args[0]),
            local_date=today - timedelta(days=args[1]),
        )
    elif kind == "unlog":
        logs = list(SessionLog.objects.filter(enrolment=enrolment).order_by("pk"))
        if logs:
            logs[args[0] % len(logs)].delete()
    elif kind == "check_in":
        CheckIn.objects.create(
            enrolment=enrolment, week=1, submitted_at=now, pain=args[0], sessions_felt="right"
        )
    elif kind == "hold" and not enrolment.holds.filter(cleared_at__isnull=True).exists():
        Hold.objects.create(enrolment=enrolment, tier=args[0], started_at=now)
    elif kind == "clear":
        for hold in enrolment.holds.filter(cleared_at__isnull=True):
            hold.cleared_at, hold.cleared_by = now, coach
            hold.save()
    elif kind == "override":
        StageOverride.objects.update_or_create(
            enrolment=enrolment,
            stage=Stage.objects.get(slug=args[0]),
            defaults={"action": args[1], "created_at": now, "created_by": coach},
        )
    elif kind == "release":
        for override in enrolment.overrides.all():
            override.delete()
    elif kind == "pause" and enrolment.status == Enrolment.Status.ACTIVE:
        enrolment.pause(now)
    elif kind == "resume" and enrolment.status == Enrolment.Status.PAUSED:
        enrolment.resume(now)
    elif kind == "withdraw" and enrolment.is_current:
        enrolment.withdraw(now)
    elif kind == "guided":
        too_hard, pain_after = args
        felt = "too_hard" if too_hard else "right"
        sessions.record(
            enrolment, now.astimezone(enrolment.tz).date(), pain_after, [(breathing(), True, felt)]
        )
    elif kind == "roll_over":
        client_status.roll_over(now, 50, 5)
    elif kind in ("tailor", "take_out", "start"):
        try:
            if kind == "start":
                start = enrolment.start_date + timedelta(days=args[0])
                tailoring.move_start(enrolment, start, coach, now)
                return
            current = her_breathing(enrolment, now)
            if not current:
                return
            old = current[args[0] % len(current)]
            if kind == "take_out":
                tailoring.remove(enrolment, old, coach, now)
            else:
                dose = replace(tailoring.Dose.of(old), days_per_week=args[1])
                tailoring.change(enrolment, old, dose, coach, now)
        except ValidationError:
            pass  # refused, as the page would: nothing changed


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(zone=st.sampled_from(ZONES), events=st.lists(EVENTS, max_size=12))
def test_the_stored_row_always_equals_the_row_computed_from_scratch(
    make_enrolment, coach, time_machine, zone, events
):
    start = at(ZONE_STARTS[zone], zone)
    time_machine.move_to(start, tick=False)
    with transaction.atomic():
        now = start
        enrolment = make_enrolment(
            coach=coach,
            timezone=zone,
            start_date=now.astimezone(ZoneInfo(zone)).date() - timedelta(days=8),
        )
        for event in events:
            if event[0] in ("time", "midnight"):
                if event[0] == "midnight":
                    tomorrow = now.astimezone(ZoneInfo(zone)).date() + timedelta(days=1)
                    now = schedule.local_midnight(tomorrow, ZoneInfo(zone))
                now += timedelta(minutes=event[1])
                time_machine.move_to(now, tick=False)
            else:
                happen(event, Enrolment.objects.get(pk=enrolment.pk), now, coach)
            due = row(enrolment).rolls_over_at
            if due is None or due > now:  # not due: it must still be right
                assert stored(enrolment) == from_scratch(enrolment, now), event
        client_status.roll_over(now, 50, 5)
        assert stored(enrolment) == from_scratch(enrolment, now)
        transaction.set_rollback(True)


# An existing install


@pytest.mark.django_db(transaction=True)
def test_migrating_builds_a_row_for_every_enrolment_already_there(program, user):
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("programs", "0012_conversation")]
    call_command("migrate", "programs", "0012_conversation", verbosity=0)
    old = (
        MigrationExecutor(connection)
        .loader.project_state(before)
        .apps.get_model("programs", "Enrolment")
    )
    old.objects.create(
        user_id=user.pk,
        program_id=program.pk,
        start_date=date(2026, 3, 2),
        timezone="Europe/London",
        weeks_postpartum=8,
        caesarean=False,
        created_at=at("2026-03-02 09:00"),
    )
    call_command("migrate", verbosity=0)
    (status,) = ClientStatus.objects.all()
    assert status.week >= 2  # built with the whole schema there, whatever today is


# Two events at once


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_two_check_ins_at_once_both_count(her, now):
    """Her row is locked before her data is read: the second event waits for the first to
    commit, then counts both. Reading first would keep only its own answer. (A check-in, as
    it does not also update her enrolment row, which would make them take turns anyway.)"""

    def check_in(pain: int) -> None:
        CheckIn.objects.create(
            enrolment_id=her.pk, week=1, submitted_at=now, pain=pain, sessions_felt="right"
        )

    one_waiting_on_the_other(lambda: check_in(1), lambda: check_in(5))
    assert (row(her).pains, row(her).pain_up) == ([1, 5], True)
