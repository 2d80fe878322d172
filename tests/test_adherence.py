"""Adherence arithmetic, pure."""

from datetime import date, timedelta

from programs.adherence import Target, tally_week

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
