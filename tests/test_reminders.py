"""Planning her emails, pure: at her local reminder time, across DST and odd offsets."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from programs import notifications
from programs.reminders import (
    Recipient,
    calendar,
    plan,
    snooze_at,
    still_wanted,
    weekday_times,
)
from programs.schedule import (
    EnrolmentFacts,
    Interval,
    PrescriptionSpec,
    StageSpec,
    local_instant,
    training_weekdays,
)
from tests.test_schedule import ZONES

CLEARED = datetime(2000, 1, 1, tzinfo=UTC)
STAGES = (
    StageSpec(
        1, 1, open_before_clearance=True, ongoing=True, prescriptions=(PrescriptionSpec(11, 7),)
    ),
    StageSpec(2, 2, prescriptions=(PrescriptionSpec(21, 3),)),
    StageSpec(3, 4, prescriptions=(PrescriptionSpec(31, 3),)),
)


def recipient(
    start=date(2026, 3, 2),
    tz="Europe/London",
    at=time(8, 0),
    pauses=(),
    holds=(),
    cleared_at=CLEARED,
    weeks=6,
    **kwargs,
):
    facts = EnrolmentFacts(
        start_date=start,
        tz=ZoneInfo(tz),
        weeks=weeks,
        stages=STAGES,
        pauses=tuple(pauses),
        holds=tuple(holds),
        cleared_at=cleared_at,
    )
    kwargs.setdefault("last_session", date(2099, 1, 1))  # no nudges unless a test wants them
    return Recipient(facts=facts, reminder_time=at, **kwargs)


def local(tz, *args):
    return datetime(*args, tzinfo=ZoneInfo(tz))


def planned_between(r, start, end):
    return [(item.kind, item.key, item.due_at) for item in plan(r, start, end)]


def kinds(r, start, end):
    return [(item.kind.key, item.key) for item in plan(r, start, end)]


# Daily session reminders


def test_session_reminder_at_her_local_time_every_training_day():
    r = recipient()
    items = planned_between(
        r, local("Europe/London", 2026, 3, 3), local("Europe/London", 2026, 3, 5)
    )
    assert items == [
        (notifications.SESSION, "2026-03-03", datetime(2026, 3, 3, 8, 0, tzinfo=UTC)),
        (notifications.SESSION, "2026-03-04", datetime(2026, 3, 4, 8, 0, tzinfo=UTC)),
    ]


def test_reminder_stays_at_eight_local_across_spring_forward():
    r = recipient(start=date(2026, 3, 2), tz="America/New_York")
    items = plan(r, local("America/New_York", 2026, 3, 7), local("America/New_York", 2026, 3, 10))
    moments = sorted({i.due_at for i in items})
    assert [m.astimezone(ZoneInfo("America/New_York")).hour for m in moments] == [8, 8, 8]
    assert [m.hour for m in moments] == [13, 12, 12]  # EST, then EDT


def test_reminder_stays_at_eight_local_across_fall_back():
    r = recipient(start=date(2026, 10, 26), tz="Europe/Berlin")
    items = plan(r, local("Europe/Berlin", 2026, 10, 24), local("Europe/Berlin", 2026, 10, 26, 12))
    assert [i.due_at for i in items] == [datetime(2026, 10, 26, 7, 0, tzinfo=UTC)]
    items = plan(
        recipient(start=date(2026, 10, 20), tz="Europe/Berlin"),
        local("Europe/Berlin", 2026, 10, 24, 12),
        local("Europe/Berlin", 2026, 10, 26, 12),
    )
    assert [i.due_at for i in items] == [
        datetime(2026, 10, 25, 7, 0, tzinfo=UTC),  # CET from 03:00 that day
        datetime(2026, 10, 26, 7, 0, tzinfo=UTC),  # day 7: week 1's check-in
        datetime(2026, 10, 26, 7, 0, tzinfo=UTC),
    ]


def test_reminder_in_the_spring_gap_moves_to_the_first_minute_after():
    r = recipient(start=date(2026, 3, 2), tz="America/New_York", at=time(2, 30))
    items = plan(r, local("America/New_York", 2026, 3, 8), local("America/New_York", 2026, 3, 9))
    moments = [i.due_at.astimezone(ZoneInfo("America/New_York")).time() for i in items]
    assert moments == [time(3, 0), time(3, 0)]  # day 7: the check-in and the session


def test_reminder_in_the_repeated_hour_is_sent_once_at_the_first():
    r = recipient(start=date(2026, 10, 26), tz="America/New_York", at=time(1, 30))
    items = plan(r, local("America/New_York", 2026, 11, 1), local("America/New_York", 2026, 11, 2))
    # 01:30 EDT, day 7: the check-in and the session
    assert [i.due_at for i in items] == [datetime(2026, 11, 1, 5, 30, tzinfo=UTC)] * 2


def test_training_days_are_spread_through_the_week():
    assert training_weekdays(7) == frozenset(range(7))
    assert training_weekdays(3) == frozenset({0, 2, 4})
    assert training_weekdays(1) == frozenset({0})
    assert len(training_weekdays(5)) == 5


def test_no_reminder_on_a_rest_day():
    stages = (StageSpec(1, 1, ongoing=True, prescriptions=(PrescriptionSpec(11, 3),)),)
    facts = EnrolmentFacts(date(2026, 3, 2), ZoneInfo("UTC"), 2, stages, cleared_at=CLEARED)
    r = Recipient(facts, time(8, 0), last_session=date(2099, 1, 1))
    week = plan(r, datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 9, tzinfo=UTC))
    # The first day is the stage's opening day; then days 2 and 4 of the week.
    assert [(i.kind.key, i.key) for i in week] == [
        ("stage", "stage-1"),
        ("session", "2026-03-04"),
        ("session", "2026-03-06"),
        ("checkin", "week-1"),  # day 7
    ]


# Stages, check-ins and the end


def test_stage_opening_replaces_that_mornings_session_reminder():
    r = recipient()
    got = kinds(r, local("Europe/London", 2026, 3, 9), local("Europe/London", 2026, 3, 10))
    assert got == [("stage", "stage-2")]


def test_first_day_brings_the_first_stage():
    r = recipient()
    got = kinds(r, local("Europe/London", 2026, 3, 2), local("Europe/London", 2026, 3, 3))
    assert got == [("stage", "stage-1")]


def test_weekly_checkins_on_each_new_week():
    r = recipient()
    items = plan(r, local("Europe/London", 2026, 3, 1), local("Europe/London", 2026, 4, 30))
    assert [i.key for i in items if i.kind is notifications.CHECKIN] == [
        f"week-{n}" for n in range(1, 6)
    ]


def test_program_complete_the_morning_after_the_last_day_and_nothing_after():
    r = recipient()
    items = plan(r, local("Europe/London", 2026, 4, 12, 12), local("Europe/London", 2026, 4, 30))
    assert [(i.kind.key, i.key) for i in items] == [("complete", "complete")]
    assert items[0].due_at == datetime(2026, 4, 13, 7, 0, tzinfo=UTC)  # BST


def test_nothing_before_the_start():
    r = recipient(start=date(2026, 3, 10))
    assert plan(r, local("Europe/London", 2026, 3, 1), local("Europe/London", 2026, 3, 9, 23)) == []


def test_not_cleared_gets_breathing_reminders_but_no_stage_news():
    r = recipient(cleared_at=None)
    got = kinds(r, local("Europe/London", 2026, 3, 9), local("Europe/London", 2026, 3, 11))
    assert got == [("session", "2026-03-09"), ("session", "2026-03-10")]


# Pauses, holds and preferences


def test_nothing_while_paused():
    pause = Interval(local("Europe/London", 2026, 3, 3, 20), None)
    r = recipient(pauses=[pause])
    assert plan(r, local("Europe/London", 2026, 3, 4), local("Europe/London", 2026, 3, 20)) == []


def test_nothing_while_held_by_a_red_flag():
    hold = Interval(local("Europe/London", 2026, 3, 3, 20), None)
    r = recipient(holds=[hold])
    assert plan(r, local("Europe/London", 2026, 3, 4), local("Europe/London", 2026, 3, 20)) == []


def test_after_a_pause_the_stage_news_moves_with_the_clock():
    pause = Interval(local("Europe/London", 2026, 3, 4, 20), local("Europe/London", 2026, 3, 6, 9))
    r = recipient(pauses=[pause])
    items = plan(r, local("Europe/London", 2026, 3, 6, 9), local("Europe/London", 2026, 3, 13))
    stage = [i for i in items if i.kind is notifications.STAGE]
    assert stage[0].due_at.date() == date(2026, 3, 11)


def test_kinds_she_turned_off_are_not_planned():
    r = recipient(turned_off=frozenset({"session", "checkin"}))
    got = kinds(r, local("Europe/London", 2026, 3, 3), local("Europe/London", 2026, 3, 10))
    assert got == [("stage", "stage-2")]
    r = recipient(turned_off=frozenset({"stage"}))
    got = kinds(r, local("Europe/London", 2026, 3, 8), local("Europe/London", 2026, 3, 10))
    assert got == [("checkin", "week-1"), ("session", "2026-03-08"), ("session", "2026-03-09")]


# Nudges


def test_nudge_after_three_full_days_without_a_session():
    r = recipient(last_session=date(2026, 3, 3), turned_off=frozenset({"evening"}))
    got = kinds(r, local("Europe/London", 2026, 3, 4), local("Europe/London", 2026, 3, 8))
    assert got == [
        ("session", "2026-03-04"),
        ("session", "2026-03-05"),
        ("session", "2026-03-06"),
        ("nudge", "week-1"),  # 4, 5 and 6 March passed without a session
    ]


def test_at_most_one_nudge_a_week():
    r = recipient(last_session=date(2026, 3, 3))
    items = plan(r, local("Europe/London", 2026, 3, 4), local("Europe/London", 2026, 3, 9))
    assert [i.kind for i in items].count(notifications.NUDGE) == 1
    r = recipient(last_session=date(2026, 3, 3), nudges=frozenset({(1, date(2026, 3, 5))}))
    items = plan(r, local("Europe/London", 2026, 3, 6), local("Europe/London", 2026, 3, 9))
    assert notifications.NUDGE not in [i.kind for i in items]


def test_the_day_a_nudge_went_out_gets_nothing_more():
    r = recipient(last_session=date(2026, 3, 3), nudges=frozenset({(1, date(2026, 3, 7))}))
    got = kinds(r, local("Europe/London", 2026, 3, 7), local("Europe/London", 2026, 3, 8))
    assert got == [("nudge", "week-1")]  # the same row again, so no session reminder too


def test_no_session_ever_counts_from_the_start():
    r = recipient(last_session=None, turned_off=frozenset({"evening"}))
    got = kinds(r, local("Europe/London", 2026, 3, 5), local("Europe/London", 2026, 3, 6))
    assert got == [("nudge", "week-1")]


# Re-checking just before sending


def test_still_wanted_when_nothing_changed():
    r = recipient()
    due = datetime(2026, 3, 4, 8, 0, tzinfo=UTC)
    assert still_wanted(r, notifications.SESSION, "2026-03-04", due, due + timedelta(minutes=2))


def test_not_wanted_after_she_paused():
    due = datetime(2026, 3, 4, 8, 0, tzinfo=UTC)
    r = recipient(pauses=[Interval(due + timedelta(minutes=1), None)])
    assert not still_wanted(r, notifications.SESSION, "2026-03-04", due, due + timedelta(minutes=2))


def test_not_wanted_if_her_reminder_time_moved():
    due = datetime(2026, 3, 4, 8, 0, tzinfo=UTC)
    assert not still_wanted(recipient(at=time(9, 0)), notifications.SESSION, "2026-03-04", due, due)


def test_a_stale_session_reminder_is_dropped_but_a_checkin_is_not():
    due = datetime(2026, 3, 8, 8, 0, tzinfo=UTC)  # day 7
    later = due + timedelta(hours=7)
    assert not still_wanted(recipient(), notifications.SESSION, "2026-03-08", due, later)
    assert still_wanted(recipient(), notifications.CHECKIN, "week-1", due, later)


# Properties, over many zones and dates


@settings(max_examples=150, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    start=st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)),
    minutes=st.integers(0, 24 * 60 - 1),
    offset_days=st.integers(-3, 50),
)
def test_every_reminder_falls_at_her_local_time_once_per_key(zone, start, minutes, offset_days):
    at = time(minutes // 60, minutes % 60)
    r = recipient(start=start, tz=zone, at=at)
    window_start = local_instant(start + timedelta(days=offset_days), time(0), ZoneInfo(zone))
    items = plan(r, window_start, window_start + timedelta(hours=48))
    keys = [(i.kind, i.key) for i in items]
    assert len(keys) == len(set(keys))
    for item in items:
        assert window_start <= item.due_at < window_start + timedelta(hours=48)
        wall = item.due_at.astimezone(ZoneInfo(zone))
        wanted = datetime.combine(wall.date(), at)
        # At her time, or just after it when a DST gap swallowed it.
        assert wanted <= wall.replace(tzinfo=None) <= wanted + timedelta(hours=2)
        assert still_wanted(r, item.kind, item.key, item.due_at, item.due_at)


@settings(max_examples=100, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    start=st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)),
    split=st.integers(1, 47),
)
def test_planning_in_pieces_gives_the_same_as_planning_at_once(zone, start, split):
    r = recipient(start=start, tz=zone)
    origin = local_instant(start, time(0), ZoneInfo(zone))
    middle, end = origin + timedelta(hours=split), origin + timedelta(hours=48)
    assert plan(r, origin, middle) + plan(r, middle, end) == plan(r, origin, end)


def test_no_stage_news_for_a_stage_her_coach_already_opened():
    r = recipient()
    facts = EnrolmentFacts(**{**r.facts.__dict__, "opened_early": frozenset({2})})
    r = Recipient(facts, time(8, 0), last_session=date(2099, 1, 1))
    got = kinds(r, local("Europe/London", 2026, 3, 9), local("Europe/London", 2026, 3, 10))
    assert got == [("session", "2026-03-09")]


# Her own time on each weekday, or none

# Monday 07:30, no reminder on Tuesday, Saturday 09:15, the usual 08:00 otherwise.
WEEKLY = (time(7, 30), None, time(8), time(8), time(8), time(9, 15), time(8))


@pytest.mark.parametrize(
    ("zone", "monday", "clocks_change"),
    [
        ("Europe/London", date(2026, 3, 23), True),  # forward on Sunday 29 March
        ("Europe/London", date(2026, 10, 19), True),  # back on Sunday 25 October
        ("America/New_York", date(2026, 3, 2), True),  # forward on Sunday 8 March
        ("America/New_York", date(2026, 10, 26), True),  # back on Sunday 1 November
        ("Pacific/Chatham", date(2026, 3, 30), True),  # +13:45 to +12:45 on Sunday 5 April
        ("Asia/Kathmandu", date(2026, 3, 2), False),  # +05:45 all year
    ],
)
def test_each_weekday_at_her_own_time_across_clock_changes(zone, monday, clocks_change):
    r = recipient(start=monday - timedelta(days=14), tz=zone, weekday_times=WEEKLY)
    tz = ZoneInfo(zone)
    items = plan(r, local_instant(monday, time(0), tz), local_instant(monday, time(0), tz) + WEEK)
    sessions = {i.due_at.astimezone(tz).date(): i.due_at for i in items if i.kind.key == "session"}
    expected = {
        monday + timedelta(days=n): local_instant(monday + timedelta(days=n), at, tz)
        for n, at in enumerate(WEEKLY)
        if at is not None
    }
    assert sessions == expected
    assert [at.astimezone(tz).time() for at in sessions.values()] == [
        at for at in WEEKLY if at is not None
    ]
    assert monday + timedelta(days=1) not in sessions  # Tuesday: no reminder
    offsets = {at.astimezone(tz).utcoffset() for at in sessions.values()}
    assert (len(offsets) == 2) is clocks_change


WEEK = timedelta(days=7)


def test_every_day_at_her_usual_time_unless_she_chose_otherwise():
    assert weekday_times(time(8), {}) == ()
    assert weekday_times(time(8), {"3": "08:00"}) == ()  # the same as usual: nothing to store
    assert weekday_times(time(8), {"0": "07:30", "1": None}) == (
        time(7, 30), None, time(8), time(8), time(8), time(8), time(8),
    )  # fmt: skip
    usual = recipient()
    chosen = recipient(weekday_times=weekday_times(time(8), {}))
    start, end = local("Europe/London", 2026, 3, 2), local("Europe/London", 2026, 3, 16)
    assert plan(usual, start, end) == plan(chosen, start, end)


@pytest.mark.parametrize("chosen", [{"7": "08:00"}, {"0": "25:00"}, {"x": None}, {"0": 8}])
def test_a_weekday_choice_that_makes_no_sense_is_refused(chosen):
    with pytest.raises((ValueError, TypeError)):
        weekday_times(time(8), chosen)


def test_a_day_without_a_reminder_still_gets_its_checkin_at_the_usual_time():
    sunday = date(2026, 3, 8)  # program day 6: the end of week 1
    days = (time(7),) * 6 + (None,)
    r = recipient(weekday_times=days, last_session=date(2026, 3, 2))
    items = plan(r, local("Europe/London", 2026, 3, 8), local("Europe/London", 2026, 3, 9))
    assert [(i.kind.key, i.key, i.due_at) for i in items] == [
        (
            "checkin",
            "week-1",
            local_instant(sunday, time(8), ZoneInfo("Europe/London")),
        )
    ]  # no session reminder, no nudge, no evening follow-up


def test_still_wanted_follows_the_weekday_times():
    r = recipient(weekday_times=WEEKLY)
    monday = local("Europe/London", 2026, 3, 16, 7, 30)
    assert still_wanted(r, notifications.SESSION, "2026-03-16", monday, monday)
    moved = recipient(weekday_times=(time(7),) + WEEKLY[1:])
    assert not still_wanted(moved, notifications.SESSION, "2026-03-16", monday, monday)


# The evening follow-up


def evenings(r, start, end):
    return [(i.key, i.due_at) for i in plan(r, start, end) if i.kind == notifications.EVENING]


@pytest.mark.parametrize(
    ("zone", "day"),
    [
        ("Europe/London", date(2026, 3, 28)),
        ("Europe/London", date(2026, 3, 29)),  # clocks went forward that morning
        ("America/New_York", date(2026, 3, 8)),
        ("Asia/Kathmandu", date(2026, 3, 9)),
        ("Pacific/Chatham", date(2026, 4, 5)),  # clocks went back that morning
    ],
)
def test_evening_follow_up_at_seven_her_time_when_nothing_is_logged(zone, day):
    tz = ZoneInfo(zone)
    r = recipient(tz=zone, last_session=day - timedelta(days=1))
    got = evenings(r, local_instant(day, time(0), tz), local_instant(day, time(23, 59), tz))
    assert got == [(day.isoformat(), local_instant(day, time(19), tz))]
    assert got[0][1].astimezone(tz).time() == time(19)


def test_no_evening_follow_up_once_she_logged_that_day():
    day = date(2026, 3, 10)
    at = local("Europe/London", 2026, 3, 10, 19)
    logged = recipient(last_session=day)
    assert evenings(logged, at, at + timedelta(hours=1)) == []
    assert not still_wanted(logged, notifications.EVENING, "2026-03-10", at, at)
    assert still_wanted(
        recipient(last_session=day - timedelta(days=1)), notifications.EVENING, "2026-03-10", at, at
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"weekday_times": WEEKLY},  # Tuesday 10 March has no reminder
        {"reminder_time": time(19, 30)},  # no reminder before the evening
        {"turned_off": frozenset({"evening"})},
        {"pauses": (Interval(datetime(2026, 3, 9, tzinfo=UTC)),)},
        {"snoozes": frozenset({(date(2026, 3, 10), datetime(2026, 3, 10, 20, tzinfo=UTC))})},
        {"nudges": frozenset({(2, date(2026, 3, 10))})},  # the day's email was the nudge
    ],
    ids=["day-off", "late-reminder", "turned-off", "paused", "snoozed", "nudged"],
)
def test_no_evening_follow_up(changes):
    at = local("Europe/London", 2026, 3, 10, 19)
    base = {"last_session": date(2026, 3, 9)}
    pauses = changes.pop("pauses", ())
    if "reminder_time" in changes:
        changes["at"] = changes.pop("reminder_time")
    r = recipient(pauses=pauses, **{**base, **changes})
    assert evenings(r, at - timedelta(hours=1), at + timedelta(hours=1)) == []
    assert evenings(recipient(**base), at - timedelta(hours=1), at + timedelta(hours=1))


def test_no_evening_follow_up_on_a_rest_day():
    rest = (StageSpec(1, 1, open_before_clearance=True, prescriptions=(PrescriptionSpec(11, 3),)),)
    r = recipient(last_session=date(2026, 3, 2))
    r = Recipient(
        EnrolmentFacts(**{**r.facts.__dict__, "stages": rest}),
        time(8),
        last_session=date(2026, 3, 2),
        turned_off=frozenset({"nudge"}),  # else 6 March's reminder is the nudge
    )
    days = [
        key
        for key, _ in evenings(
            r, local("Europe/London", 2026, 3, 2), local("Europe/London", 2026, 3, 9)
        )
    ]
    # 3 days a week: program days 0, 2 and 4, and not the day she logged.
    assert days == ["2026-03-04", "2026-03-06"]


# Snoozed reminders


def test_a_snoozed_reminder_comes_at_the_instant_she_chose():
    at = datetime(2026, 3, 10, 19, tzinfo=UTC)
    r = recipient(snoozes=frozenset({(date(2026, 3, 10), at)}), last_session=date(2026, 3, 9))
    got = [(i.kind, i.key, i.due_at) for i in plan(r, at, at + timedelta(minutes=1))]
    assert got == [(notifications.SNOOZE, "2026-03-10", at)]
    assert still_wanted(r, notifications.SNOOZE, "2026-03-10", at, at)


def test_a_snoozed_reminder_is_dropped_once_she_logs_or_pauses():
    day, at = date(2026, 3, 10), datetime(2026, 3, 10, 19, tzinfo=UTC)
    snoozes = frozenset({(day, at)})
    before = date(2026, 3, 9)
    assert still_wanted(
        recipient(snoozes=snoozes, last_session=before), notifications.SNOOZE, "2026-03-10", at, at
    )
    logged = recipient(snoozes=snoozes, last_session=day)
    paused = recipient(
        snoozes=snoozes, last_session=before, pauses=(Interval(at - timedelta(hours=2)),)
    )
    off = recipient(snoozes=snoozes, last_session=before, turned_off=frozenset({"session"}))
    for r in (logged, paused, off):
        assert not still_wanted(r, notifications.SNOOZE, "2026-03-10", at, at)


@pytest.mark.parametrize(
    ("zone", "now", "choice", "expected"),
    [
        ("Europe/London", (2026, 3, 28, 8), "hour", (2026, 3, 28, 9)),
        ("Europe/London", (2026, 3, 29, 8), "evening", (2026, 3, 29, 19)),  # after the change
        ("Europe/London", (2026, 3, 29, 19, 30), "evening", None),  # too late
        ("Europe/London", (2026, 3, 28, 21), "tomorrow", (2026, 3, 29, 8)),
        ("America/New_York", (2026, 11, 1, 8), "evening", (2026, 11, 1, 19)),
        ("Asia/Kathmandu", (2026, 3, 9, 8), "evening", (2026, 3, 9, 19)),
        ("Pacific/Chatham", (2026, 4, 4, 8), "tomorrow", (2026, 4, 5, 8)),
    ],
)
def test_when_a_snooze_reminds_her(zone, now, choice, expected):
    r = recipient(tz=zone)
    got = snooze_at(r, choice, local(zone, *now))
    assert got == (None if expected is None else local(zone, *expected).astimezone(UTC))


def test_snoozed_till_tomorrow_comes_at_tomorrows_own_time():
    r = recipient(weekday_times=WEEKLY)  # Monday 07:30
    got = snooze_at(r, "tomorrow", local("Europe/London", 2026, 3, 8, 8))
    assert got == local("Europe/London", 2026, 3, 9, 7, 30)


# The calendar feed's plan


def test_calendar_has_each_session_at_her_time_across_the_clock_change():
    tz = ZoneInfo("Europe/London")
    r = recipient(weekday_times=WEEKLY)
    entries = calendar(r, local("Europe/London", 2026, 3, 22, 12))
    sessions = {e.starts_at.date(): e.starts_at for e in entries if e.stage is None}
    assert sessions[date(2026, 3, 28)].utcoffset() == timedelta(0)
    assert sessions[date(2026, 3, 29)].utcoffset() == timedelta(hours=1)
    assert {d: at.time() for d, at in sessions.items() if d.weekday() == 6} == {
        date(2026, 3, 22): time(8),
        date(2026, 3, 29): time(8),
        date(2026, 4, 5): time(8),
        date(2026, 4, 12): time(8),
    }
    assert sessions[date(2026, 3, 30)].time() == time(7, 30)
    # A day without an email still has its session, at the usual time.
    assert sessions[date(2026, 3, 24)].time() == time(8)
    assert min(sessions) == date(2026, 3, 22) and max(sessions) == date(2026, 4, 12)
    assert all(e.starts_at.tzinfo == tz for e in entries)
    stages = [(e.stage, e.starts_at) for e in entries if e.stage is not None]
    assert stages == [(3, local("Europe/London", 2026, 3, 23))]


def test_calendar_is_empty_while_she_is_paused_and_follows_the_pause_after():
    now = local("Europe/London", 2026, 3, 10, 12)
    paused = recipient(pauses=(Interval(now - timedelta(days=1)),))
    assert calendar(paused, now) == []
    resumed = recipient(pauses=(Interval(now - timedelta(days=3), now - timedelta(days=1)),))
    stage_3 = [e for e in calendar(resumed, now) if e.stage == 3]
    assert stage_3[0].starts_at.date() == date(2026, 3, 25)  # week 4, two days later


def test_a_snooze_landing_on_her_own_reminder_is_not_sent_twice():
    tomorrow = local("Europe/London", 2026, 3, 11, 8).astimezone(UTC)
    r = recipient(snoozes=frozenset({(date(2026, 3, 10), tomorrow)}), last_session=date(2026, 3, 9))
    got = [i.kind.key for i in plan(r, tomorrow, tomorrow + timedelta(minutes=1))]
    assert got == ["session"]  # 11 March's own reminder, and no snooze beside it
    # On a day she has no reminder, the snooze is what comes.
    off = recipient(
        snoozes=frozenset({(date(2026, 3, 10), tomorrow)}),
        last_session=date(2026, 3, 9),
        weekday_times=(time(8),) * 2 + (None,) + (time(8),) * 4,  # none on Wednesdays
    )
    got = [i.kind.key for i in plan(off, tomorrow, tomorrow + timedelta(minutes=1))]
    assert got == ["snooze"]


@settings(max_examples=100, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    start=st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)),
    times=st.lists(st.one_of(st.none(), st.times()), min_size=7, max_size=7),
)
def test_every_session_reminder_falls_at_its_weekdays_time(zone, start, times):
    tz = ZoneInfo(zone)
    r = recipient(start=start, tz=zone, weekday_times=tuple(times), last_session=None)
    end = start + timedelta(days=9)
    items = plan(r, local_instant(start, time(0), tz), local_instant(end, time(0), tz))
    reminded, stage_days = set(), set()
    for item in items:
        day = item.due_at.astimezone(tz).date()
        if item.kind == notifications.STAGE:
            stage_days.add(day)  # the stage email takes the place of that day's reminder
        if item.kind in (notifications.SESSION, notifications.NUDGE, notifications.EVENING):
            chosen = times[day.weekday()]
            assert chosen is not None  # never on a day without a reminder
            if item.kind != notifications.EVENING:
                assert item.due_at == local_instant(day, chosen, tz)
                reminded.add(day)
    days = {start + timedelta(days=n) for n in range(9)}
    assert reminded == {d for d in days - stage_days if times[d.weekday()] is not None}
