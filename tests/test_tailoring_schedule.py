"""Her coach's tailoring and program moves in the pure schedule and adherence: each change
applies from its instant, and every day counts what was prescribed on it."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from programs import adherence, schedule
from programs.schedule import Change, EnrolmentFacts, Era, PrescriptionSpec, StageSpec

START = date(2026, 3, 2)  # a Monday
CLEARED = datetime(2026, 1, 1, tzinfo=UTC)
BREATHING = StageSpec(
    1, 1, open_before_clearance=True, ongoing=True, prescriptions=(PrescriptionSpec(11, 7),)
)
CORE = StageSpec(2, 1, prescriptions=(PrescriptionSpec(21, 7), PrescriptionSpec(22, 7)))


def facts(**values) -> EnrolmentFacts:
    values.setdefault("cleared_at", CLEARED)
    return EnrolmentFacts(
        START,
        ZoneInfo("UTC"),
        values.pop("weeks", 6),
        values.pop("stages", (BREATHING, CORE)),
        **values,
    )


def at(day: int, hour: int = 12) -> datetime:
    """Noon (or `hour`) UTC on program day `day`."""
    return datetime.combine(START + timedelta(days=day), datetime.min.time(), UTC) + timedelta(
        hours=hour
    )


def daily(f: EnrolmentFacts, when: datetime) -> list[int]:
    return [p.key for p in schedule.snapshot(f, when).daily]


def test_a_new_dose_replaces_the_old_in_place_from_its_instant():
    new = PrescriptionSpec(31, 3)
    f = facts(changes=(Change(2, at(3), replaces=21, spec=new),))
    assert daily(f, at(3, 11)) == [11, 21, 22]
    assert daily(f, at(3, 13)) == [11, 31, 22]


def test_an_added_exercise_goes_at_the_end_of_its_stage():
    f = facts(changes=(Change(2, at(1), spec=PrescriptionSpec(41, 7)),))
    assert daily(f, at(0)) == [11, 21, 22]
    assert daily(f, at(2)) == [11, 21, 22, 41]


def test_a_removed_exercise_leaves_her_list_and_only_hers():
    f = facts(changes=(Change(2, at(1), replaces=22),))
    assert daily(f, at(2)) == [11, 21]
    assert daily(facts(), at(2)) == [11, 21, 22]


def test_changes_apply_in_order_so_a_dose_changed_twice_ends_at_the_last():
    f = facts(
        changes=(
            Change(2, at(1), replaces=21, spec=PrescriptionSpec(31, 5)),
            Change(2, at(2), replaces=31, spec=PrescriptionSpec(32, 3)),
        )
    )
    assert daily(f, at(1, 18)) == [11, 31, 22]
    assert daily(f, at(3)) == [11, 32, 22]


def test_a_change_to_another_stage_leaves_this_one_alone():
    f = facts(changes=(Change(1, at(1), replaces=21, spec=PrescriptionSpec(31, 7)),))
    assert daily(f, at(2)) == [11, 21, 22]


def test_a_lifting_exercise_her_coach_adds_still_waits_for_clearance_after_a_caesarean():
    lift = PrescriptionSpec(41, 7, lifting=True)
    f = facts(caesarean=True, cleared_at=None, changes=(Change(1, at(1), spec=lift),))
    assert daily(f, at(2)) == [11]
    assert daily(facts(caesarean=True, changes=(Change(1, at(1), spec=lift),)), at(2)) == [
        11,
        41,
        21,
        22,
    ]


def test_days_per_week_changed_by_her_coach_set_her_training_days():
    f = facts(changes=(Change(2, at(0, 0), replaces=21, spec=PrescriptionSpec(31, 2)),))
    due = [[p.key for p in schedule.due_today(schedule.snapshot(f, at(d)))] for d in range(7)]
    assert [31 in keys for keys in due] == [True, False, False, True, False, False, False]


def test_adherence_counts_each_day_against_what_was_prescribed_that_day():
    # Exercise 21 every day until day 3; from then 31, three days a week.
    f = facts(changes=(Change(2, at(3, 0), replaces=21, spec=PrescriptionSpec(31, 3)),))
    logs = [(21, START + timedelta(days=d)) for d in range(3)]
    logs += [(31, START + timedelta(days=d)) for d in (3, 5)]
    (week,) = adherence.weekly(f, logs, at(6, 23))
    lines = {line.target.key: (line.done, line.target.days_per_week) for line in week.lines}
    assert lines[21] == (3, 3)  # on her list 3 days: 3 asked
    assert lines[31] == (2, 3)
    assert 22 in lines


def test_a_session_logged_before_a_same_day_change_counts_for_the_replacement():
    f = facts(changes=(Change(2, at(3, 15), replaces=21, spec=PrescriptionSpec(31, 7)),))
    logs = [(21, START + timedelta(days=3))]
    tally = adherence.last_days(f, logs, at(3, 20), days=1)
    lines = {line.target.key: line.done for line in tally.lines}
    assert lines == {11: 0, 31: 1, 22: 0}


def test_a_session_of_a_replaced_exercise_on_a_later_day_does_not_count():
    f = facts(changes=(Change(2, at(1, 0), replaces=21, spec=PrescriptionSpec(31, 7)),))
    tally = adherence.last_days(f, [(21, START + timedelta(days=2))], at(2, 20), days=1)
    assert sum(line.done for line in tally.lines) == 0


# Moves to another program


OTHER = (StageSpec(5, 1, open_before_clearance=True, prescriptions=(PrescriptionSpec(51, 7),)),)


def moved(day: int) -> EnrolmentFacts:
    """She followed (BREATHING, CORE) over 6 weeks until noon on `day`, then OTHER over 8."""
    return facts(weeks=8, stages=OTHER, earlier=(Era(at(day), 6, (BREATHING, CORE)),))


def test_before_the_move_the_old_program_applied_and_after_it_the_new():
    f = moved(10)
    assert daily(f, at(10, 11)) == [11, 21, 22]
    assert schedule.snapshot(f, at(10, 11)).weeks == 6
    assert daily(f, at(10, 13)) == [51]
    assert schedule.snapshot(f, at(10, 13)).weeks == 8


def test_a_move_keeps_her_program_day():
    f = moved(10)
    assert schedule.snapshot(f, at(12)).program_day == 12
    assert schedule.snapshot(f, at(12)).week == 2


def test_adherence_before_a_move_still_counts_the_old_programs_sessions():
    f = moved(7)
    logs = [(k, START + timedelta(days=d)) for d in range(7) for k in (11, 21, 22)]
    first, second = adherence.weekly(f, logs, at(13, 23))
    assert (first.done, first.expected) == (21, 21)
    assert {line.target.key for line in second.lines} == {51}
