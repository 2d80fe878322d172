"""The pure program calendar: unlocks in her own time zone, across DST, pauses and year ends."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from programs.schedule import (
    EnrolmentFacts,
    Interval,
    Lock,
    StageSpec,
    local_instant,
    local_midnight,
    program_day_on,
    snapshot,
    week_dates,
)

# From UTC−12 to UTC+14, half- and quarter-hour offsets, DST in both hemispheres, a zone whose
# DST change happens at midnight (Santiago) and one that moves by 30 minutes (Lord Howe).
ZONES = [
    "Etc/GMT+12",
    "Pacific/Pago_Pago",
    "Pacific/Honolulu",
    "America/St_Johns",
    "America/New_York",
    "America/Havana",
    "America/Santiago",
    "America/Sao_Paulo",
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "Asia/Beirut",
    "Asia/Tehran",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Adelaide",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Pacific/Tongatapu",
    "Pacific/Kiritimati",
]

STAGES = (
    StageSpec(key=1, unlock_week=1, open_before_clearance=True, ongoing=True),
    StageSpec(key=2, unlock_week=2),
    StageSpec(key=3, unlock_week=3),
    StageSpec(key=4, unlock_week=4),
    StageSpec(key=5, unlock_week=6),
    StageSpec(key=6, unlock_week=7),
)
CLEARED = datetime(2000, 1, 1, tzinfo=UTC)


def facts(start=date(2026, 1, 5), tz="Europe/London", pauses=(), cleared_at=CLEARED, weeks=8):
    return EnrolmentFacts(
        start_date=start,
        tz=ZoneInfo(tz),
        weeks=weeks,
        stages=STAGES,
        pauses=tuple(pauses),
        cleared_at=cleared_at,
    )


def at(tz, *args):
    """An instant given as a wall time in `tz`."""
    return datetime(*args, tzinfo=ZoneInfo(tz))


def open_keys(snap):
    return {s.key for s in snap.open_stages}


zones = st.sampled_from(ZONES)
start_dates = st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31))
weeks = st.integers(min_value=1, max_value=8)


# Local instants


def test_ordinary_local_time():
    instant = local_instant(date(2026, 6, 1), time(8, 0), ZoneInfo("America/New_York"))
    assert instant == datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def test_skipped_local_time_moves_to_the_end_of_the_gap():
    tz = ZoneInfo("America/New_York")
    instant = local_instant(date(2026, 3, 8), time(2, 30), tz)
    assert instant.astimezone(tz).replace(tzinfo=None) == datetime(2026, 3, 8, 3, 0)


def test_repeated_local_time_is_its_first_occurrence():
    tz = ZoneInfo("America/New_York")
    instant = local_instant(date(2026, 11, 1), time(1, 30), tz)
    assert instant == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT, not EST


def test_half_hour_gap_on_lord_howe():
    tz = ZoneInfo("Australia/Lord_Howe")
    instant = local_instant(date(2026, 10, 4), time(2, 15), tz)
    assert instant.astimezone(tz).replace(tzinfo=None) == datetime(2026, 10, 4, 2, 30)


def test_missing_midnight_in_santiago_is_one_in_the_morning():
    tz = ZoneInfo("America/Santiago")
    instant = local_midnight(date(2026, 9, 6), tz)
    assert instant.astimezone(tz).replace(tzinfo=None) == datetime(2026, 9, 6, 1, 0)


@given(zone=zones, day=start_dates, minutes=st.integers(0, 24 * 60 - 1))
def test_local_instant_is_on_that_day_at_or_just_after_that_time(zone, day, minutes):
    tz = ZoneInfo(zone)
    wanted = time(minutes // 60, minutes % 60)
    local = local_instant(day, wanted, tz).astimezone(tz)
    wall = datetime.combine(day, wanted)
    # Never earlier than asked; later only by a DST gap (at most two hours).
    assert wall <= local.replace(tzinfo=None) <= wall + timedelta(hours=2)


# Unlocking


def test_before_the_start_nothing_is_open_and_week_is_zero():
    snap = snapshot(facts(), at("Europe/London", 2026, 1, 4, 23, 59))
    assert snap.week == 0
    assert open_keys(snap) == set()
    assert snap.starts_at == datetime(2026, 1, 5, 0, 0, tzinfo=UTC)


def test_week_one_opens_the_first_stage_at_local_midnight():
    snap = snapshot(facts(), at("Europe/London", 2026, 1, 5, 0, 0))
    assert snap.week == 1
    assert open_keys(snap) == {1}
    assert snap.state_of(2).opens_at == datetime(2026, 1, 12, 0, 0, tzinfo=UTC)


def test_stage_opens_at_midnight_in_her_zone_not_the_servers():
    f = facts(tz="Pacific/Kiritimati")  # UTC+14
    just_before = datetime(2026, 1, 11, 9, 59, tzinfo=UTC)  # 23:59 on the 11th in Kiritimati
    assert 2 not in open_keys(snapshot(f, just_before))
    assert 2 in open_keys(snapshot(f, just_before + timedelta(minutes=1)))


def test_week_eight_opens_all_stages_and_the_program_ends_after_56_days():
    f = facts()
    last_day = snapshot(f, at("Europe/London", 2026, 3, 1, 23, 0))
    assert last_day.week == 8
    assert open_keys(last_day) == {1, 2, 3, 4, 5, 6}
    assert not last_day.finished
    assert last_day.ends_at == datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
    after = snapshot(f, at("Europe/London", 2026, 3, 2, 0, 0))
    assert after.finished
    assert after.week == 8
    assert after.ends_at is None


def test_unlock_falls_on_the_spring_forward_weekend_at_local_midnight():
    f = facts(start=date(2026, 3, 1), tz="America/New_York")
    opens_at = snapshot(f, at("America/New_York", 2026, 3, 2, 12, 0)).state_of(2).opens_at
    assert opens_at.astimezone(ZoneInfo("America/New_York")).replace(tzinfo=None) == datetime(
        2026, 3, 8, 0, 0
    )
    assert opens_at == datetime(2026, 3, 8, 5, 0, tzinfo=UTC)  # still EST at midnight


def test_unlock_after_fall_back_uses_the_new_offset():
    f = facts(start=date(2026, 10, 25), tz="America/New_York")
    opens_at = snapshot(f, at("America/New_York", 2026, 10, 26, 12, 0)).state_of(2).opens_at
    assert opens_at == datetime(2026, 11, 1, 4, 0, tzinfo=UTC)  # midnight EDT
    later = snapshot(f, at("America/New_York", 2026, 11, 2, 12, 0)).state_of(3).opens_at
    assert later == datetime(2026, 11, 8, 5, 0, tzinfo=UTC)  # midnight EST


def test_program_runs_across_the_new_year():
    f = facts(start=date(2026, 12, 28), tz="Pacific/Chatham")
    snap = snapshot(f, at("Pacific/Chatham", 2027, 1, 4, 0, 0))
    assert snap.week == 2
    assert 2 in open_keys(snap)


def test_leap_day_counts_as_a_day():
    f = facts(start=date(2028, 2, 22))
    assert 2 not in open_keys(snapshot(f, at("Europe/London", 2028, 2, 28, 23, 59)))
    assert 2 in open_keys(snapshot(f, at("Europe/London", 2028, 2, 29, 0, 0)))


def test_naive_instant_is_refused():
    with pytest.raises(ValueError):
        snapshot(facts(), datetime(2026, 1, 10, 12, 0))


@settings(max_examples=300)
@given(zone=zones, start=start_dates, week=weeks)
def test_each_stage_opens_exactly_at_local_midnight_of_its_week(zone, start, week):
    stages = tuple(StageSpec(key=w, unlock_week=w) for w in range(1, 9))
    f = EnrolmentFacts(start, ZoneInfo(zone), 8, stages, cleared_at=CLEARED)
    day = start + timedelta(days=7 * (week - 1))
    opens_at = local_midnight(day, ZoneInfo(zone))
    before = snapshot(f, opens_at - timedelta(microseconds=1))
    after = snapshot(f, opens_at)
    assert week not in open_keys(before)
    assert week in open_keys(after)
    assert after.week == week
    assert after.today == day
    if week > 1:
        assert before.state_of(week).opens_at == opens_at


@given(
    zone=zones,
    start=start_dates,
    offsets=st.lists(st.integers(0, 80 * 24 * 60), min_size=2, max_size=6),
)
def test_open_stages_only_grow_with_time(zone, start, offsets):
    f = facts(start=start, tz=zone)
    origin = local_midnight(start, ZoneInfo(zone)) - timedelta(days=3)
    moments = sorted(origin + timedelta(minutes=m) for m in offsets)
    seen: set[int] = set()
    for moment in moments:
        now_open = open_keys(snapshot(f, moment))
        assert seen <= now_open
        seen = now_open


# Clearance


def test_not_cleared_only_the_breathing_stage_opens():
    f = facts(cleared_at=None)
    snap = snapshot(f, at("Europe/London", 2026, 2, 20, 12, 0))
    assert open_keys(snap) == {1}
    assert snap.state_of(4).lock is Lock.CLEARANCE
    assert snap.state_of(4).opens_at is None  # its week has passed: waits for clearance only


def test_a_late_clearance_opens_one_waiting_stage_at_once_then_one_a_week():
    cleared = at("Europe/London", 2026, 2, 1, 9, 0)  # day 27, week 4: stages 2 to 4 waited
    f = facts(cleared_at=cleared)
    assert open_keys(snapshot(f, cleared - timedelta(seconds=1))) == {1}
    snap = snapshot(f, cleared)
    assert open_keys(snap) == {1, 2}
    assert snap.state_of(3).lock is Lock.PACED
    assert snap.state_of(3).opens_at == datetime(2026, 2, 8, 0, 0, tzinfo=UTC)  # day 34
    assert open_keys(snapshot(f, at("Europe/London", 2026, 2, 8, 0, 0))) == {1, 2, 3}
    assert open_keys(snapshot(f, at("Europe/London", 2026, 2, 15, 0, 0))) == {1, 2, 3, 4}
    # Stage 5's own week (day 35) came while the others waited: it follows them.
    assert snapshot(f, at("Europe/London", 2026, 2, 15, 0, 0)).state_of(5).opens_at == datetime(
        2026, 2, 22, 0, 0, tzinfo=UTC
    )


def test_not_cleared_future_stage_still_says_when_its_week_comes():
    f = facts(cleared_at=None)
    state = snapshot(f, at("Europe/London", 2026, 1, 6, 12, 0)).state_of(2)
    assert state.lock is Lock.CLEARANCE
    assert state.opens_at == datetime(2026, 1, 12, 0, 0, tzinfo=UTC)


# Pauses


def test_pause_shifts_unlocks_by_the_paused_days():
    pause = Interval(at("Europe/London", 2026, 1, 7, 20, 0), at("Europe/London", 2026, 1, 10, 9, 0))
    f = facts(pauses=[pause])
    snap = snapshot(f, at("Europe/London", 2026, 1, 10, 9, 0))
    assert snap.program_day == 2  # 5 calendar days, 3 of them paused
    assert snap.state_of(2).opens_at == datetime(2026, 1, 15, 0, 0, tzinfo=UTC)


def test_while_paused_the_program_stands_still_and_no_date_is_promised():
    pause = Interval(at("Europe/London", 2026, 1, 9, 20, 0), None)
    f = facts(pauses=[pause])
    a = snapshot(f, at("Europe/London", 2026, 1, 10, 9, 0))
    b = snapshot(f, at("Europe/London", 2026, 1, 30, 9, 0))
    assert a.paused and b.paused
    assert a.program_day == b.program_day == 4
    assert open_keys(b) == {1}
    assert b.state_of(2).lock is Lock.PAUSED
    assert b.state_of(2).opens_at is None
    assert b.ends_at is None


def test_open_stages_stay_open_while_paused():
    pause = Interval(at("Europe/London", 2026, 1, 20, 8, 0), None)
    snap = snapshot(facts(pauses=[pause]), at("Europe/London", 2026, 2, 20, 8, 0))
    assert open_keys(snap) == {1, 2, 3}


def test_pause_and_resume_on_the_same_day_costs_nothing():
    pause = Interval(at("Europe/London", 2026, 1, 7, 8, 0), at("Europe/London", 2026, 1, 7, 21, 0))
    assert snapshot(facts(pauses=[pause]), at("Europe/London", 2026, 1, 12, 0, 0)).week == 2


def test_days_paused_before_the_start_do_not_count():
    pause = Interval(at("Europe/London", 2025, 12, 20, 8, 0), at("Europe/London", 2026, 1, 5, 8, 0))
    assert program_day_on(facts(pauses=[pause]), date(2026, 1, 12)) == 7


@given(
    zone=zones,
    start=start_dates,
    pause_day=st.integers(0, 40),
    length=st.integers(0, 30),
    hour=st.integers(0, 23),
)
def test_any_pause_moves_later_unlocks_by_its_local_days(zone, start, pause_day, length, hour):
    tz = ZoneInfo(zone)
    began = local_instant(start + timedelta(days=pause_day), time(hour), tz)
    ended = local_instant(start + timedelta(days=pause_day + length), time(hour), tz)
    f = facts(start=start, tz=zone, pauses=[Interval(began, ended)])
    snap = snapshot(f, ended)
    for state in snap.stages:
        unshifted_day = start + timedelta(days=7 * (state.spec.unlock_week - 1))
        if state.lock is Lock.SCHEDULED:
            assert state.opens_at == local_midnight(unshifted_day + timedelta(days=length), tz)
        else:
            assert state.is_open
            assert unshifted_day <= start + timedelta(days=pause_day)


# Weeks as spans of her calendar


def test_week_dates_of_a_plain_week():
    f = facts()
    assert week_dates(f, 2, date(2026, 2, 1)) == (date(2026, 1, 12), date(2026, 1, 18))


def test_week_dates_stretch_over_a_pause():
    pause = Interval(at("Europe/London", 2026, 1, 14, 8, 0), at("Europe/London", 2026, 1, 17, 8, 0))
    f = facts(pauses=[pause])
    assert week_dates(f, 2, date(2026, 2, 1)) == (date(2026, 1, 12), date(2026, 1, 21))
    assert week_dates(f, 3, date(2026, 2, 1)) == (date(2026, 1, 22), date(2026, 1, 28))


def test_current_week_ends_today_and_future_week_is_none():
    f = facts()
    assert week_dates(f, 1, date(2026, 1, 7)) == (date(2026, 1, 5), date(2026, 1, 7))
    assert week_dates(f, 2, date(2026, 1, 7)) is None


# Focus: what goes on her daily list


def test_focus_is_the_newest_open_stage_plus_ongoing_ones():
    snap = snapshot(facts(), at("Europe/London", 2026, 1, 27, 9, 0))  # week 4
    assert {s.key for s in snap.focus} == {1, 4}


def test_progress_percent_runs_from_zero_to_hundred():
    f = facts()
    assert snapshot(f, at("Europe/London", 2026, 1, 5, 9, 0)).progress_percent == 0
    assert snapshot(f, at("Europe/London", 2026, 2, 2, 9, 0)).progress_percent == 50
    assert snapshot(f, at("Europe/London", 2026, 3, 9, 9, 0)).progress_percent == 100


# Her coach's overrides


def test_coach_can_open_a_stage_before_its_week():
    f = facts()
    f = EnrolmentFacts(**{**f.__dict__, "opened_early": frozenset({3})})
    snap = snapshot(f, at("Europe/London", 2026, 1, 6, 9, 0))
    assert open_keys(snap) == {1, 3}
    assert {s.key for s in snap.focus} == {1, 3}


def test_opening_early_still_waits_for_clearance():
    f = facts(cleared_at=None)
    f = EnrolmentFacts(**{**f.__dict__, "opened_early": frozenset({3})})
    assert snapshot(f, at("Europe/London", 2026, 1, 6, 9, 0)).state_of(3).lock is Lock.CLEARANCE


def test_coach_can_keep_a_stage_closed_after_its_week():
    f = facts()
    f = EnrolmentFacts(**{**f.__dict__, "held_stages": frozenset({2})})
    snap = snapshot(f, at("Europe/London", 2026, 1, 20, 9, 0))
    assert open_keys(snap) == {1, 3}
    assert snap.state_of(2).lock is Lock.COACH
