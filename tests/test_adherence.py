"""Adherence arithmetic, pure."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from programs import adherence
from programs.adherence import Target, tally_week
from programs.schedule import (
    EnrolmentFacts,
    PrescriptionSpec,
    StageSpec,
    local_instant,
    local_midnight,
)

MON = date(2026, 3, 2)


def days(*offsets):
    return [MON + timedelta(days=n) for n in offsets]


def test_each_target_counts_distinct_days_in_the_week():
    targets = [Target(1, 3), Target(2, 7)]
    logs = [(1, d) for d in days(0, 1)] + [(2, d) for d in days(0, 0, 1, 2)]
    tally = tally_week(1, MON, MON + timedelta(days=6), targets, logs)
    assert [line.done for line in tally.lines] == [2, 3]
    assert (tally.done, tally.expected) == (5, 10)
    assert tally.percent == 50


def test_extra_days_do_not_count_beyond_the_target():
    tally = tally_week(
        1, MON, MON + timedelta(days=6), [Target(1, 2)], [(1, d) for d in days(0, 1, 2, 3)]
    )
    assert tally.lines[0].done == 2
    assert tally.lines[0].met


def test_logs_outside_the_week_are_ignored():
    tally = tally_week(
        2, MON, MON + timedelta(days=6), [Target(1, 3)], [(1, d) for d in days(-1, 7)]
    )
    assert tally.done == 0
    assert not tally.lines[0].met


def test_logs_for_other_exercises_are_ignored():
    tally = tally_week(1, MON, MON, [Target(1, 1)], [(9, MON)])
    assert tally.done == 0


def test_no_targets_is_zero_percent_not_a_crash():
    assert tally_week(1, MON, MON, [], []).percent == 0


def _facts(start):
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from programs.schedule import EnrolmentFacts, PrescriptionSpec, StageSpec

    stages = (StageSpec(1, 1, ongoing=True, prescriptions=(PrescriptionSpec(7, 7),)),)
    return EnrolmentFacts(
        start, ZoneInfo("UTC"), 4, stages, cleared_at=datetime(2000, 1, 1, tzinfo=UTC)
    )


def test_last_seven_days_in_her_first_days_counts_only_days_since_she_started():
    from datetime import UTC, datetime

    from programs.adherence import last_days

    facts = _facts(MON)
    logs = [(7, MON), (7, MON + timedelta(days=1))]
    tally = last_days(facts, logs, datetime(2026, 3, 4, 12, tzinfo=UTC))  # her third day
    assert (tally.first, tally.done, tally.expected) == (MON, 2, 3)


def test_last_seven_days_before_the_start_expects_nothing():
    from datetime import UTC, datetime

    from programs.adherence import last_days

    tally = last_days(_facts(MON), [], datetime(2026, 2, 27, 12, tzinfo=UTC))
    assert (tally.done, tally.expected) == (0, 0)


def test_weekly_tallies_follow_pauses():
    from datetime import UTC, datetime

    from programs.adherence import overall, weekly
    from programs.schedule import EnrolmentFacts, Interval

    facts = _facts(MON)
    paused = Interval(datetime(2026, 3, 3, 12, tzinfo=UTC), datetime(2026, 3, 6, 12, tzinfo=UTC))
    facts = EnrolmentFacts(**{**facts.__dict__, "pauses": (paused,)})
    logs = [(7, MON + timedelta(days=n)) for n in range(10)]
    tallies = weekly(facts, logs, datetime(2026, 3, 12, 12, tzinfo=UTC))
    assert [(t.first, t.last) for t in tallies] == [
        (MON, MON + timedelta(days=9)),  # three paused days stretch week 1
        (MON + timedelta(days=10), MON + timedelta(days=10)),
    ]
    assert overall(tallies) == (7, 14)


# Adherence never rewrites the past: only what was prescribed to her on each day counts

HISTORY_STAGES = (
    StageSpec(1, 1, True, True, (PrescriptionSpec(11, 7),)),
    StageSpec(2, 2, prescriptions=(PrescriptionSpec(21, 3), PrescriptionSpec(22, 3))),
    StageSpec(3, 3, prescriptions=(PrescriptionSpec(31, 3),)),
    StageSpec(4, 4, prescriptions=(PrescriptionSpec(41, 3),)),
    StageSpec(5, 6, prescriptions=(PrescriptionSpec(51, 4),)),
)
HISTORY_ZONES = [
    "UTC",
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
]


def history(start=MON, tz="UTC", **values):
    values.setdefault("cleared_at", datetime(2000, 1, 1, tzinfo=UTC))
    return EnrolmentFacts(start, ZoneInfo(tz), 8, HISTORY_STAGES, **values)


def opened_early(facts, key, made):
    return EnrolmentFacts(
        **{**facts.__dict__, "opened_early": frozenset({key}), "override_times": ((key, made),)}
    )


def test_opening_a_stage_early_leaves_the_weeks_before_it_as_they_were():
    # She followed her list every day for 5 weeks; then her coach opened stage 5 early.
    facts = history()
    logs = [
        (p.key, MON + timedelta(days=d))
        for d in range(35)
        for p in adherence.schedule.snapshot(
            facts, datetime.combine(MON + timedelta(days=d), time(12), tzinfo=UTC)
        ).daily
    ]
    now = datetime(2026, 4, 6, 12, tzinfo=UTC)  # day 35, week 6, after stage 5 opened anyway
    made = datetime(2026, 3, 30, 12, tzinfo=UTC)  # day 28, the first day of week 5
    before = adherence.weekly(facts, logs, now)
    after = adherence.weekly(opened_early(facts, 5, made), logs, now)
    assert before[:4] == after[:4]
    assert adherence.overall(after[:4]) == adherence.overall(before[:4]) == (40, 40)
    # No week before the stage existed for her asks for its exercise.
    assert all(line.target.key != 51 for tally in after[:4] for line in tally.lines)


def test_a_stage_opened_on_the_fifth_day_of_a_week_asks_for_its_days_left():
    made = datetime(2026, 3, 13, 9, tzinfo=UTC)  # day 11: week 2, 3 days left
    facts = opened_early(history(), 3, made)
    week_2 = adherence.weekly(facts, [], datetime(2026, 3, 20, 12, tzinfo=UTC))[1]
    expected = {line.target.key: line.target.days_per_week for line in week_2.lines}
    # Deep core was on her list for 4 days (3 asked), stage 3 for the last 3 (3 asked).
    assert expected == {11: 7, 21: 3, 22: 3, 31: 3}


@settings(max_examples=150, deadline=None)
@given(
    zone=st.sampled_from(HISTORY_ZONES),
    key=st.integers(2, 5),
    hold=st.booleans(),
    made_minutes=st.integers(0, 50 * 24 * 60),
    later_days=st.integers(0, 20),
    logged=st.sets(st.tuples(st.sampled_from([11, 21, 22, 31, 41, 51]), st.integers(0, 55))),
)
def test_an_override_on_day_d_changes_nothing_before_d(
    zone, key, hold, made_minutes, later_days, logged
):
    tz = ZoneInfo(zone)
    facts = history(tz=zone)
    made = local_midnight(MON, tz) + timedelta(minutes=made_minutes)
    field = "held_stages" if hold else "opened_early"
    changed = EnrolmentFacts(
        **{**facts.__dict__, field: frozenset({key}), "override_times": ((key, made),)}
    )
    day_d = made.astimezone(tz).date()
    now = local_instant(day_d + timedelta(days=later_days), time(18), tz)
    logs = [(k, MON + timedelta(days=d)) for k, d in logged]

    lists_before = adherence.daily_lists(facts, MON, day_d - timedelta(days=1), now)
    lists_after = adherence.daily_lists(changed, MON, day_d - timedelta(days=1), now)
    assert lists_before == lists_after

    before = [t for t in adherence.weekly(facts, logs, now) if t.last < day_d]
    after = [t for t in adherence.weekly(changed, logs, now) if t.last < day_d]
    assert before == after
    assert adherence.overall(before) == adherence.overall(after)
