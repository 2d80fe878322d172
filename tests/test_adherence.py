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
