"""A client's flags and adherence for her coach, pure."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from programs import adherence
from programs.coaching import Flag, client, flags
from programs.schedule import EnrolmentFacts, Interval, PrescriptionSpec, StageSpec, snapshot

START = date(2026, 3, 2)
CLEARED = datetime(2000, 1, 1, tzinfo=UTC)
STAGES = (
    StageSpec(1, 1, ongoing=True, prescriptions=(PrescriptionSpec(11, 7),)),
    StageSpec(2, 2, prescriptions=(PrescriptionSpec(21, 3),)),
)


def facts(**changes):
    base = EnrolmentFacts(START, ZoneInfo("UTC"), 4, STAGES, cleared_at=CLEARED)
    return EnrolmentFacts(**{**base.__dict__, **changes})


def at(day, hour=12):
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=hour)


def test_no_flags_for_a_client_who_is_doing_fine():
    snap = snapshot(facts(), at(date(2026, 3, 5)))
    assert flags(snap, START, date(2026, 3, 4), [3, 3], failing=0) == ()


def test_idle_after_three_full_days_without_a_session():
    snap = snapshot(facts(), at(date(2026, 3, 8)))
    assert flags(snap, START, date(2026, 3, 4), [], 0) == (Flag.IDLE,)  # 5, 6 and 7 March
    assert flags(snap, START, date(2026, 3, 5), [], 0) == ()


def test_idle_counts_from_the_start_when_she_never_logged():
    assert flags(snapshot(facts(), at(date(2026, 3, 5))), START, None, [], 0) == (Flag.IDLE,)
    assert flags(snapshot(facts(), at(date(2026, 3, 4))), START, None, [], 0) == ()


def test_not_idle_while_paused_or_before_the_start():
    paused = facts(pauses=(Interval(at(date(2026, 3, 3)), None),))
    assert flags(snapshot(paused, at(date(2026, 3, 20))), START, None, [], 0) == ()
    assert flags(snapshot(facts(), at(date(2026, 2, 20))), START, None, [], 0) == ()


def test_pain_up_two_points_since_the_previous_check_in():
    snap = snapshot(facts(), at(date(2026, 3, 3)))
    assert flags(snap, START, date(2026, 3, 2), [2, 4], 0) == (Flag.PAIN_UP,)
    assert flags(snap, START, date(2026, 3, 2), [2, 3], 0) == ()
    assert flags(snap, START, date(2026, 3, 2), [6, 2, 4], 0) == (Flag.PAIN_UP,)
    assert flags(snap, START, date(2026, 3, 2), [4], 0) == ()


def test_hold_and_failing_reminders_and_their_order():
    held = facts(holds=(Interval(at(date(2026, 3, 3)), None),))
    snap = snapshot(held, at(date(2026, 3, 10)))
    assert flags(snap, START, None, [1, 5], failing=2) == (Flag.HOLD, Flag.PAIN_UP, Flag.FAILING)


def test_an_urgent_hold_is_flagged_urgent_not_as_a_warning():
    held = facts(holds=(Interval(at(date(2026, 3, 3)), None),))
    snap = snapshot(held, at(date(2026, 3, 10)))
    assert flags(snap, START, None, [], 0, urgent=True) == (Flag.URGENT,)
    assert flags(snap, START, None, [], 0, urgent=False) == (Flag.HOLD,)
    # Urgent is about the hold: with none in force, no flag.
    assert (
        flags(snapshot(facts(), at(date(2026, 3, 10))), START, date(2026, 3, 9), [], 0, True) == ()
    )


def test_client_sums_adherence_over_weeks_and_the_last_seven_days():
    logs = [(11, START + timedelta(days=n)) for n in range(9)] + [(21, date(2026, 3, 9))]
    row = client(facts(), at(date(2026, 3, 10)), logs, [4, 3], failing=0)
    assert row.snapshot.week == 2
    assert row.overall == (7 + 2 + 1, 7 + 7 + 3)
    # Stage 2 opened on 9 March: 2 of the last 7 days, so at most 2 of its 3 a week.
    assert (row.last_7_days.done, row.last_7_days.expected) == (7 + 1, 7 + 2)
    assert row.last_activity == date(2026, 3, 10)
    assert row.last_pain == 3


def test_a_stage_opened_early_counts_from_the_week_it_opened():
    early = facts(opened_early=frozenset({2}))
    tallies = adherence.weekly(early, [], at(date(2026, 3, 4)))
    assert tallies[0].expected == 7 + 3
