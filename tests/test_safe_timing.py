"""Safe timing in the pure schedule: loaded stages wait for 6 weeks after birth, a late clearance
opens one stage a week, lifting waits for clearance after a caesarean, and an urgent hold takes
every exercise off her list. Property-tested across zones and DST."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from programs import reminders
from programs.notifications import STAGE
from programs.schedule import (
    EnrolmentFacts,
    Interval,
    Lock,
    PrescriptionSpec,
    StageSpec,
    before_six_weeks,
    due_today,
    local_instant,
    local_midnight,
    snapshot,
)
from tests.test_schedule import ZONES

BREATHING = StageSpec(
    1, 1, open_before_clearance=True, ongoing=True, prescriptions=(PrescriptionSpec(11, 7),)
)
STAGES = (
    BREATHING,
    StageSpec(2, 2, prescriptions=(PrescriptionSpec(21, 3),)),
    StageSpec(3, 3, prescriptions=(PrescriptionSpec(31, 3),)),
    StageSpec(4, 4, loaded=True, prescriptions=(PrescriptionSpec(41, 3),)),
    StageSpec(5, 6, loaded=True, prescriptions=(PrescriptionSpec(51, 3),)),
    StageSpec(6, 7, loaded=True, prescriptions=(PrescriptionSpec(61, 3, lifting=True),)),
)
LOADED = {4, 5, 6}
START = date(2026, 3, 2)
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)

zones = st.sampled_from(ZONES)
start_dates = st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31))


def facts(start=START, tz="Europe/London", **values) -> EnrolmentFacts:
    values.setdefault("cleared_at", LONG_AGO)
    values.setdefault("birth_date", start - timedelta(weeks=10))
    return EnrolmentFacts(start_date=start, tz=ZoneInfo(tz), weeks=8, stages=STAGES, **values)


def at(tz, *args):
    return datetime(*args, tzinfo=ZoneInfo(tz))


def open_keys(snap):
    return {s.key for s in snap.open_stages}


# Loaded stages wait for 6 weeks after birth


def test_enrolled_a_week_after_birth_glute_strength_waits_for_six_weeks():
    f = facts(birth_date=START - timedelta(weeks=1))  # 6 weeks after birth: program day 35
    week_4 = snapshot(f, at("Europe/London", 2026, 3, 25, 9, 0))
    assert week_4.week == 4
    assert open_keys(week_4) == {1, 2, 3}
    state = week_4.state_of(4)
    assert state.lock is Lock.BIRTH
    assert state.opens_at == datetime(2026, 4, 6, 0, 0, tzinfo=ZoneInfo("Europe/London"))
    assert 4 in open_keys(snapshot(f, at("Europe/London", 2026, 4, 6, 0, 0)))
    # Hip flexors' own week was that same day: it follows a week later, not at once.
    opened = snapshot(f, at("Europe/London", 2026, 4, 6, 0, 0))
    assert opened.state_of(5).lock is Lock.PACED
    assert opened.state_of(5).opens_at == at("Europe/London", 2026, 4, 13, 0, 0)


def test_a_coach_cannot_open_a_loaded_stage_before_six_weeks_after_birth():
    f = facts(birth_date=START - timedelta(weeks=1), opened_early=frozenset({4}))
    snap = snapshot(f, at("Europe/London", 2026, 3, 3, 9, 0))
    assert snap.state_of(4).lock is Lock.BIRTH
    assert 4 in open_keys(snapshot(f, at("Europe/London", 2026, 4, 6, 0, 0)))


def test_birth_long_ago_changes_nothing():
    f = facts(birth_date=START - timedelta(weeks=30))
    assert 4 in open_keys(snapshot(f, at("Europe/London", 2026, 3, 23, 0, 0)))


@settings(max_examples=300)
@given(
    zone=zones,
    start=start_dates,
    weeks_since=st.integers(0, 12),
    minutes=st.integers(-3 * 24 * 60, 70 * 24 * 60),
    opened_early=st.frozensets(st.sampled_from(sorted(LOADED))),
)
def test_no_loaded_stage_is_open_before_six_weeks_after_birth(
    zone, start, weeks_since, minutes, opened_early
):
    tz = ZoneInfo(zone)
    birth = start - timedelta(weeks=weeks_since)
    f = facts(start=start, tz=zone, birth_date=birth, opened_early=opened_early)
    now = local_midnight(start, tz) + timedelta(minutes=minutes)
    snap = snapshot(f, now)
    six_weeks = local_midnight(birth + timedelta(weeks=6), tz)
    if now < six_weeks:
        assert not open_keys(snap) & LOADED
        assert now.astimezone(tz).date() < birth + timedelta(weeks=6)
    for state in snap.stages:
        if state.is_open and state.spec.loaded:
            assert state.opened_at >= six_weeks


def test_a_clearance_before_six_weeks_after_birth_is_early():
    f = facts(birth_date=date(2026, 2, 2))  # six weeks: 16 March
    assert before_six_weeks(f, at("Europe/London", 2026, 3, 15, 23, 59))
    assert not before_six_weeks(f, at("Europe/London", 2026, 3, 16, 0, 0))
    assert not before_six_weeks(facts(birth_date=None), at("Europe/London", 2026, 3, 3))


# A late clearance opens one stage a week


@settings(max_examples=300)
@given(
    zone=zones,
    start=start_dates,
    cleared_day=st.integers(-3, 55),
    minute=st.integers(0, 24 * 60 - 1),
    weeks_since=st.integers(0, 12),
)
def test_from_a_clearance_on_stages_open_at_least_a_week_apart(
    zone, start, cleared_day, minute, weeks_since
):
    tz = ZoneInfo(zone)
    cleared = local_instant(
        start + timedelta(days=cleared_day), time(minute // 60, minute % 60), tz
    )
    f = facts(
        start=start, tz=zone, cleared_at=cleared, birth_date=start - timedelta(weeks=weeks_since)
    )
    end = snapshot(f, local_midnight(start + timedelta(days=80), tz))
    opened = sorted(
        s.opened_at.astimezone(tz).date()
        for s in end.stages
        if s.is_open and not s.spec.open_before_clearance
    )
    if cleared_day >= 7:  # at least one stage waited for her
        for earlier, later in zip(opened, opened[1:], strict=False):
            assert (later - earlier).days >= 7
    assert len(opened) == len(set(opened))  # never two on the same day
    for s in end.stages:
        if s.is_open and not s.spec.open_before_clearance:
            assert s.opened_at >= cleared


def test_an_early_clearance_keeps_the_program_weeks():
    f = facts(cleared_at=at("Europe/London", 2026, 3, 1, 12, 0))
    for week, key in ((2, 2), (3, 3), (4, 4), (6, 5), (7, 6)):
        day = START + timedelta(days=7 * (week - 1))
        assert snapshot(f, local_midnight(day, ZoneInfo("Europe/London"))).state_of(key).is_open


def test_a_late_clearance_sends_one_stage_email_a_week():
    cleared = at("Europe/London", 2026, 4, 1, 15, 0)  # week 5: stages 2 to 4 have waited
    recipient = reminders.Recipient(facts(cleared_at=cleared), time(8, 0))
    planned = reminders.plan(recipient, cleared, at("Europe/London", 2026, 4, 28))
    stage_emails = [(p.key, p.due_at) for p in planned if p.kind == STAGE]
    assert stage_emails == [
        ("stage-3", at("Europe/London", 2026, 4, 8, 8, 0)),
        ("stage-4", at("Europe/London", 2026, 4, 15, 8, 0)),
        ("stage-5", at("Europe/London", 2026, 4, 22, 8, 0)),
    ]
    # Stage 2 opened when she said she was cleared: she saw it open, no email about it.
    assert 2 in open_keys(snapshot(recipient.facts, cleared))


@settings(max_examples=100)
@given(zone=zones, start=start_dates, cleared_day=st.integers(0, 50))
def test_stage_emails_come_at_most_one_a_week(zone, start, cleared_day):
    tz = ZoneInfo(zone)
    cleared = local_instant(start + timedelta(days=cleared_day), time(15, 0), tz)
    recipient = reminders.Recipient(facts(start=start, tz=zone, cleared_at=cleared), time(8, 0))
    planned = reminders.plan(
        recipient, local_midnight(start, tz), local_midnight(start + timedelta(days=60), tz)
    )
    days = [p.due_at.astimezone(tz).date() for p in planned if p.kind == STAGE]
    for earlier, later in zip(days, days[1:], strict=False):
        assert (later - earlier).days >= 7


# After a caesarean, lifting waits for clearance


LIFT_EARLY = StageSpec(
    1,
    1,
    open_before_clearance=True,
    ongoing=True,
    prescriptions=(PrescriptionSpec(11, 7), PrescriptionSpec(12, 7, lifting=True)),
)


def lifting_facts(**values) -> EnrolmentFacts:
    values.setdefault("birth_date", START - timedelta(weeks=10))
    return EnrolmentFacts(START, ZoneInfo("UTC"), 8, (LIFT_EARLY, *STAGES[1:]), **values)


def test_after_a_caesarean_lifting_is_off_her_list_until_she_is_cleared():
    cleared = datetime(2026, 3, 5, 12, tzinfo=UTC)
    f = lifting_facts(caesarean=True, cleared_at=cleared)
    before = snapshot(f, datetime(2026, 3, 4, 12, tzinfo=UTC))
    assert [p.key for p in before.daily] == [11]
    assert [p.key for p in due_today(before)] == [11]
    assert [p.key for p in snapshot(f, cleared).daily] == [11, 12]


def test_without_a_caesarean_lifting_is_on_her_list():
    f = lifting_facts(caesarean=False)
    assert [p.key for p in snapshot(f, datetime(2026, 3, 4, 12, tzinfo=UTC)).daily] == [11, 12]


@given(
    minutes=st.integers(0, 60 * 24 * 60),
    opened_early=st.frozensets(st.integers(1, 6)),
    held=st.frozensets(st.integers(1, 6)),
    weeks_since=st.integers(0, 20),
)
def test_no_lifting_before_clearance_after_a_caesarean_whatever_her_coach_does(
    minutes, opened_early, held, weeks_since
):
    f = lifting_facts(
        caesarean=True,
        opened_early=opened_early,
        held_stages=held - opened_early,
        birth_date=START - timedelta(weeks=weeks_since),
    )
    snap = snapshot(f, datetime(2026, 3, 2, tzinfo=UTC) + timedelta(minutes=minutes))
    assert not any(p.lifting for p in snap.daily)
    assert not any(p.lifting for p in due_today(snap))


# An urgent hold takes every exercise off her list


def test_an_urgent_hold_leaves_nothing_to_do_and_a_warning_hold_does():
    began = datetime(2026, 3, 10, 9, tzinfo=UTC)
    urgent = facts(tz="UTC", holds=(Interval(began, None, urgent=True),))
    warning = facts(tz="UTC", holds=(Interval(began, None),))
    later = began + timedelta(days=2)
    assert snapshot(urgent, later).urgent
    assert snapshot(urgent, later).daily == ()
    assert not snapshot(warning, later).urgent
    assert [p.key for p in snapshot(warning, later).daily] == [11, 21]
    assert snapshot(urgent, began - timedelta(seconds=1)).daily != ()


def test_once_the_urgent_hold_is_cleared_her_list_comes_back():
    began = datetime(2026, 3, 10, 9, tzinfo=UTC)
    cleared = began + timedelta(days=1)
    f = facts(tz="UTC", holds=(Interval(began, cleared, urgent=True),))
    assert snapshot(f, cleared - timedelta(seconds=1)).daily == ()
    assert [p.key for p in snapshot(f, cleared).daily] == [11, 21]


# Openings only grow with time, whatever the rules hold back


@given(
    zone=zones,
    start=start_dates,
    weeks_since=st.integers(0, 10),
    cleared_day=st.integers(-3, 50),
    offsets=st.lists(st.integers(0, 80 * 24 * 60), min_size=2, max_size=6),
)
def test_open_stages_only_grow_with_time(zone, start, weeks_since, cleared_day, offsets):
    tz = ZoneInfo(zone)
    f = facts(
        start=start,
        tz=zone,
        birth_date=start - timedelta(weeks=weeks_since),
        cleared_at=local_midnight(start + timedelta(days=cleared_day), tz) + timedelta(hours=15),
    )
    origin = local_midnight(start, tz) - timedelta(days=3)
    seen: set[int] = set()
    for moment in sorted(origin + timedelta(minutes=m) for m in offsets):
        snap = snapshot(f, moment)
        now_open = open_keys(snap)
        assert seen <= now_open
        seen = now_open
        for state in snap.stages:
            if state.is_open:
                assert state.opened_at is None or state.opened_at <= moment


# Through planning: no session emails while she is held urgently


@pytest.mark.django_db
@pytest.mark.parametrize("tier", [1, 2])
def test_planning_plans_no_session_email_while_she_is_held(make_enrolment, tier):
    from programs import planning
    from programs.models import Hold, Notification

    now = datetime(2026, 3, 10, 7, 0, tzinfo=UTC)  # an hour before her 08:00 reminder
    enrolment = make_enrolment()
    planning.plan_enrolments([enrolment.pk], now)
    # Her daily email: a session reminder, or a nudge after days without a session.
    daily = Notification.objects.filter(enrolment=enrolment, kind__in=["session", "nudge"])
    assert daily.filter(status="pending").count() == 2  # 10 and 11 March

    Hold.objects.create(enrolment=enrolment, tier=tier, started_at=now)
    planning.plan_enrolments([enrolment.pk], now)
    assert not daily.filter(status="pending").exists()
    assert daily.filter(status="cancelled").count() == 2


@pytest.mark.django_db
def test_planning_sends_a_late_clearance_one_stage_email_a_week(make_enrolment):
    from programs import planning
    from programs.models import Notification

    cleared = datetime(2026, 3, 25, 15, 0, tzinfo=UTC)  # week 4: deep core waited
    enrolment = make_enrolment(cleared_at=cleared)
    for day in range(25, 31 + 16):
        planning.plan_enrolments([enrolment.pk], cleared + timedelta(days=day - 25))
    stage_rows = Notification.objects.filter(enrolment=enrolment, kind="stage").order_by("due_at")
    assert [(row.key, row.due_at.date()) for row in stage_rows] == [
        (f"stage-{enrolment.program.stages.get(slug='glutes').pk}", date(2026, 4, 1))
    ]
