"""Planning in proportion to change: re-planning marked in one place, the horizon sweep, batches
any worker can take, completed programs leaving the sweep, and a broken enrolment that stops no
one."""

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from programs import (
    checkins,
    facts,
    planning,
    reminders,
    safety,
    schedule,
    tailoring,
    tasks,
    wakeups,
)
from programs.models import (
    Enrolment,
    Hold,
    Notification,
    Pause,
    Prescription,
    Program,
    ProgramMove,
    SessionLog,
    StageOverride,
)
from programs.notifications import SESSION

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 4, 7, 0, tzinfo=UTC)  # 07:00 in London, an hour before reminders
User = get_user_model()


def planned_for(published, enrolment) -> bool:
    return (wakeups.PLAN_ENROLMENTS, [enrolment.pk]) in published


def make_many(make_enrolment, n, **values):
    return [
        make_enrolment(user=User.objects.create_user(f"m{i}@example.com"), **values)
        for i in range(n)
    ]


def session_rows(enrolment):
    return list(
        Notification.objects.filter(enrolment=enrolment, kind="session")
        .order_by("scheduled_for")
        .values_list("key", "status")
    )


# A resumed program is planned at once, and a reminder due minutes later goes out


def test_a_reminder_two_minutes_after_a_resume_is_planned():
    facts = schedule.EnrolmentFacts(
        start_date=date(2026, 2, 22),  # program day 8 on 4 March, after a 2-day pause
        tz=UTC,
        weeks=6,
        stages=(schedule.StageSpec(1, 1, True, True, (schedule.PrescriptionSpec(1, 7),)),),
        pauses=(schedule.Interval(NOW - timedelta(days=2), NOW - timedelta(minutes=1)),),
        cleared_at=NOW - timedelta(days=3),
    )
    recipient = reminders.Recipient(facts, reminder_time=time(7, 2), last_session=date(2026, 3, 3))
    planned = reminders.plan(recipient, NOW - planning.GRACE, NOW + timedelta(hours=1))
    assert (SESSION, NOW + timedelta(minutes=2)) in [(p.kind, p.due_at) for p in planned]


def test_resume_plans_her_reminder_due_two_minutes_later(
    make_enrolment, django_capture_on_commit_callbacks, published
):
    enrolment = make_enrolment(reminder_time=time(7, 2))
    enrolment.pause(NOW - timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        Enrolment.objects.get(pk=enrolment.pk).resume(NOW)
    assert planned_for(published, enrolment)
    planning.plan_enrolments([enrolment.pk], NOW)
    row = Notification.objects.get(enrolment=enrolment, kind="session", key="2026-03-04")
    assert row.due_at == NOW + timedelta(minutes=2)


def test_clearing_a_hold_plans_her_reminder_due_two_minutes_later(
    make_enrolment, coach, django_capture_on_commit_callbacks, published
):
    enrolment = make_enrolment(reminder_time=time(7, 2), coach=coach)
    Hold.objects.create(enrolment=enrolment, tier=1, started_at=NOW - timedelta(days=1))
    planning.plan_enrolments([enrolment.pk], NOW - timedelta(minutes=1))
    assert session_rows(enrolment) == []
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        checkins.clear_hold(enrolment, coach, NOW)
    assert planned_for(published, enrolment)
    planning.plan_enrolments([enrolment.pk], NOW)
    assert session_rows(enrolment)[0] == ("2026-03-04", "pending")


# Whatever changes her schedule marks her, in the same transaction, and asks for a plan


def change_status(enrolment):
    enrolment.pause(NOW)


def change_time(enrolment):
    enrolment.reminder_time = time(9, 30)
    enrolment.save()


def change_preference(enrolment):
    enrolment.email_session = False
    enrolment.save(update_fields=["email_session"])


def raise_hold(enrolment):
    Hold.objects.create(enrolment=enrolment, tier=1, started_at=NOW)


def open_stage(enrolment):
    stage = enrolment.program.stages.get(slug="glutes")
    StageOverride.objects.create(enrolment=enrolment, stage=stage, action="open", created_at=NOW)


def log_session(enrolment):
    prescription = enrolment.program.stages.first().prescriptions.first()
    SessionLog.objects.create(enrolment=enrolment, prescription=prescription, local_date=NOW)


def delete_pause(enrolment):
    Pause.objects.filter(enrolment=enrolment).delete()


@pytest.mark.parametrize(
    "change",
    [change_status, change_time, change_preference, raise_hold, open_stage, log_session],
)
def test_every_change_marks_her_and_asks_for_a_plan(
    change, make_enrolment, django_capture_on_commit_callbacks, published
):
    enrolment = make_enrolment()
    planning.plan_enrolments([enrolment.pk], NOW)
    published.clear()
    assert Enrolment.objects.get(pk=enrolment.pk).planned_until is not None
    with django_capture_on_commit_callbacks(execute=True):
        change(enrolment)
    assert Enrolment.objects.get(pk=enrolment.pk).planned_until is None
    assert planned_for(published, enrolment)


def test_deleting_a_pause_marks_her_too(make_enrolment):
    enrolment = make_enrolment()
    enrolment.pause(NOW)
    planning.plan_enrolments([enrolment.pk], NOW)
    delete_pause(enrolment)
    assert Enrolment.objects.get(pk=enrolment.pk).planned_until is None


def test_a_change_rolled_back_asks_for_nothing(
    make_enrolment, django_capture_on_commit_callbacks, published
):
    enrolment = make_enrolment()
    published.clear()
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        change_time(enrolment)
        raise RuntimeError("rolled back")
    assert published == []


def test_an_admin_edit_of_her_reminder_time_re_plans(
    client, make_enrolment, django_capture_on_commit_callbacks, published
):
    enrolment = make_enrolment()
    planning.plan_enrolments([enrolment.pk], NOW)
    admin = User.objects.create_superuser("admin@example.com", "admin@example.com", "x")
    client.force_login(admin)
    url = reverse("admin:programs_enrolment_change", args=[enrolment.pk])
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(
        user=enrolment.user_id,
        program=enrolment.program_id,
        start_date="2026-03-02",
        timezone="Europe/London",
        reminder_time="06:30",
        weeks_postpartum=8,
        status="active",
    )
    for prefix in ("pauses", "tailorings", "moves"):
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    enrolment.refresh_from_db()
    assert enrolment.reminder_time == time(6, 30)
    assert enrolment.planned_until is None
    assert planned_for(published, enrolment)


def test_a_program_edit_marks_everyone_in_it(make_enrolment, program):
    enrolments = make_many(make_enrolment, 3)
    planning.plan_enrolments([e.pk for e in enrolments], NOW)
    prescription = program.stages.first().prescriptions.first()
    prescription.days_per_week = 5
    prescription.save()
    assert set(Enrolment.objects.values_list("planned_until", flat=True)) == {None}


# Her facts for a batch, loaded in one query per kind of row


def test_a_batch_loaded_in_grouped_queries_has_the_facts_prefetching_gives(
    make_enrolment, program, coach
):
    plain, paused, held, overridden, tailored, moved = make_many(make_enrolment, 6)
    Pause.objects.create(enrolment=paused, started_at=NOW - timedelta(days=3))
    Pause.objects.create(
        enrolment=paused, started_at=NOW - timedelta(days=9), ended_at=NOW - timedelta(days=8)
    )
    Hold.objects.create(enrolment=held, tier=2, started_at=NOW - timedelta(days=1))
    stages = list(program.stages.order_by("unlock_week"))
    StageOverride.objects.create(
        enrolment=overridden, stage=stages[2], action="open", created_at=NOW - timedelta(days=1)
    )
    StageOverride.objects.create(
        enrolment=overridden, stage=stages[1], action="hold", created_at=NOW - timedelta(days=2)
    )
    old = Prescription.objects.filter(stage=stages[0]).first()
    dose = replace(tailoring.Dose.of(old), reps=4)
    tailoring.change(tailored, old, dose, coach, NOW - timedelta(days=1))
    earlier = Program.objects.create(slug="earlier", name="Earlier", summary="", weeks=8)
    ProgramMove.objects.create(
        enrolment=moved, from_program=earlier, to_program=program, moved_at=NOW
    )
    SessionLog.objects.create(enrolment=plain, prescription=old, local_date=date(2026, 3, 3))
    ids = [plain.pk, paused.pk, held.pk, overridden.pk, tailored.pk, moved.pk]

    prefetched = list(facts.with_facts(Enrolment.objects.filter(pk__in=ids)).order_by("pk"))
    expected = facts.recipients(prefetched, facts.specs_for(prefetched))[0]
    batch = list(Enrolment.objects.filter(pk__in=ids).select_related("program").order_by("pk"))
    with CaptureQueriesContext(connection) as captured:
        related = facts.related_for(ids)
    assert len(captured) == 5  # one a kind of row, however many enrolments
    grouped = facts.recipients(batch, facts.specs_for(batch, related), related)[0]
    assert grouped == expected
    assert [len(r.facts.pauses) for r in grouped.values()] == [0, 2, 0, 0, 0, 0]
    assert grouped[moved.pk].facts.earlier and grouped[tailored.pk].facts.changes
    assert grouped[held.pk].facts.holds and grouped[overridden.pk].facts.override_times


# The sweep


def swept(now, batch_size=None, **kwargs):
    """A sweep at `now`, then each planning task it asked for claiming its batch (and dying
    before it plans it): the sweep's report, and the batches claimed."""
    asked: list[datetime] = []
    report = planning.sweep(now, ask=lambda: asked.append(now), batch_size=batch_size, **kwargs)
    claimed = [planning.claim_due(now, batch_size or settings.PLAN_BATCH) for _ in asked]
    return report, [ids for ids in claimed if ids]


def test_the_sweep_passes_by_whoever_is_planned_far_enough_ahead(make_enrolment):
    enrolments = make_many(make_enrolment, 4)
    planning.plan_enrolments([e.pk for e in enrolments], NOW)
    report, handed = swept(NOW + timedelta(minutes=1))
    assert (report.examined, handed) == (0, [])


def test_the_sweep_takes_her_when_her_horizon_runs_short(make_enrolment, settings):
    enrolments = make_many(make_enrolment, 4)
    planning.plan_enrolments([e.pk for e in enrolments], NOW)
    refill = NOW + planning.HORIZON - planning.lead()
    assert swept(refill - timedelta(minutes=1))[0].examined == 0
    report, handed = swept(refill)
    assert sorted(pk for batch in handed for pk in batch) == sorted(e.pk for e in enrolments)


def test_the_sweep_takes_only_those_marked(make_enrolment, django_capture_on_commit_callbacks):
    enrolments = make_many(make_enrolment, 5)
    planning.plan_enrolments([e.pk for e in enrolments], NOW)
    change_time(enrolments[2])
    report, handed = swept(NOW + timedelta(minutes=1))
    assert handed == [[enrolments[2].pk]]


def test_the_sweep_hands_out_bounded_batches(make_enrolment):
    make_many(make_enrolment, 7)
    report, handed = swept(NOW, batch_size=3, max_batches=2)
    assert [len(b) for b in handed] == [3, 3]
    rest = swept(NOW, batch_size=3)[1]
    assert [len(b) for b in rest] == [1]
    assert len({pk for batch in handed + rest for pk in batch}) == 7


def test_the_sweep_counts_no_further_than_it_may_ask_for(make_enrolment):
    make_many(make_enrolment, 7)
    report, handed = swept(NOW, batch_size=3, max_batches=2)
    assert (report.examined, report.batches) == (6, 2)


def test_the_sweep_claims_nothing_itself(make_enrolment):
    make_many(make_enrolment, 5)
    asked: list[None] = []
    report = planning.sweep(NOW, ask=lambda: asked.append(None), batch_size=2)
    assert (report.examined, report.batches, len(asked)) == (5, 3, 3)
    assert set(Enrolment.objects.values_list("planned_until", flat=True)) == {None}


def test_the_sweep_queries_do_not_grow_with_what_is_due(make_enrolment):
    def queries_with(due):
        Enrolment.objects.update(planned_until=NOW + planning.HORIZON)
        Enrolment.objects.filter(pk__in=pks[:due]).update(planned_until=None)
        with CaptureQueriesContext(connection) as captured:
            report = planning.sweep(NOW, ask=lambda: None, batch_size=2)
        assert report.examined == due
        return len(captured)

    pks = [e.pk for e in make_many(make_enrolment, 9)]
    assert queries_with(0) == queries_with(1) == queries_with(9)


def test_a_planning_task_claims_its_own_batch_and_plans_it(make_enrolment):
    enrolments = make_many(make_enrolment, 5)
    first = planning.plan_due(NOW, batch_size=3)
    second = planning.plan_due(NOW, batch_size=3)
    assert (first.enrolments, second.enrolments) == (3, 2)
    assert set(Enrolment.objects.values_list("planned_until", flat=True)) == {
        NOW + planning.HORIZON
    }
    assert all(session_rows(e) for e in enrolments)
    with CaptureQueriesContext(connection) as captured:
        nothing_left = planning.plan_due(NOW, batch_size=3)
    assert (nothing_left.enrolments, nothing_left.batches) == (0, 0)
    assert len(captured) <= 3  # the claim alone, in its transaction


def test_a_batch_claimed_is_not_claimed_again_until_its_lease_runs_out(make_enrolment, settings):
    settings.PLAN_CLAIM_SECONDS = 300
    pks = sorted(e.pk for e in make_many(make_enrolment, 3))
    first = swept(NOW)  # its task died before planning the batch
    again = swept(NOW + timedelta(minutes=1))
    after_lease = swept(NOW + timedelta(minutes=6))
    assert (first[0].examined, again[0].examined, after_lease[0].examined) == (3, 0, 3)
    claimed = [[sorted(batch) for batch in handed] for _, handed in (first, again, after_lease)]
    assert claimed == [[pks], [], [pks]]


def test_the_sweep_queries_do_not_grow_with_the_population(make_enrolment):
    def queries_at(n_new):
        make_many_offset(make_enrolment, n_new)
        planning.plan_all(NOW)
        with CaptureQueriesContext(connection) as captured:
            swept(NOW + timedelta(minutes=1))
        return len(captured)

    counter = iter(range(1000))

    def make_many_offset(make, n):
        for _ in range(n):
            i = next(counter)
            make(user=User.objects.create_user(f"s{i}@example.com"))

    assert queries_at(3) == queries_at(30)


def test_a_planned_batch_records_its_horizon(make_enrolment):
    enrolment = make_enrolment()
    planning.plan_enrolments([enrolment.pk], NOW)
    enrolment.refresh_from_db()
    assert enrolment.planned_until == NOW + planning.HORIZON
    assert (enrolment.plan_error, enrolment.plan_failed_at) == ("", None)


# Completed programs leave the sweep for good


def test_a_finished_program_is_completed_and_leaves_the_sweep(make_enrolment):
    enrolment = make_enrolment()  # six weeks from 2 March; "complete" at 08:00 on 13 April
    end = datetime(2026, 4, 13, 7, 0, tzinfo=UTC)
    planning.plan_enrolments([enrolment.pk], end)
    assert Notification.objects.filter(enrolment=enrolment, kind="complete").exists()
    assert Enrolment.objects.get(pk=enrolment.pk).status == "active"

    later = end + timedelta(days=1)
    report = planning.plan_enrolments([enrolment.pk], later)
    assert report.completed == 1
    assert Enrolment.objects.get(pk=enrolment.pk).status == "completed"
    assert swept(later + timedelta(days=30))[0].examined == 0


def test_a_paused_program_is_not_completed(make_enrolment):
    enrolment = make_enrolment()
    enrolment.pause(datetime(2026, 3, 20, tzinfo=UTC))
    planning.plan_enrolments([enrolment.pk], datetime(2026, 5, 1, tzinfo=UTC))
    assert Enrolment.objects.get(pk=enrolment.pk).status == "paused"


# A broken enrolment stops no one


def break_zone(enrolment, zone="Europe/Londn"):
    # The model refuses it now; older data or a raw update can still hold one.
    Enrolment.objects.filter(pk=enrolment.pk).update(timezone=zone)


def test_a_broken_zone_is_recorded_and_everyone_else_is_planned(make_enrolment, caplog):
    good, bad, also_good = make_many(make_enrolment, 3)
    break_zone(bad)
    report = planning.plan_enrolments([good.pk, bad.pk, also_good.pk], NOW)
    assert report.broken == [bad.pk]
    assert session_rows(good) and session_rows(also_good)
    assert session_rows(bad) == []
    bad.refresh_from_db()
    assert "Europe/Londn" in bad.plan_error
    assert bad.plan_failed_at == NOW
    assert bad.planned_until == NOW + planning.lead() + planning.RETRY_BROKEN
    assert f"enrolment {bad.pk} could not be planned" in caplog.text


def test_a_start_date_at_the_end_of_time_is_recorded_not_raised(make_enrolment):
    good, bad = make_many(make_enrolment, 2)
    Enrolment.objects.filter(pk=bad.pk).update(start_date=date(9999, 12, 31))
    report = planning.plan_enrolments([good.pk, bad.pk], NOW)
    assert report.broken == [bad.pk]
    assert session_rows(good)


def test_a_broken_enrolment_is_tried_again_an_hour_later_not_every_sweep(make_enrolment):
    (bad,) = make_many(make_enrolment, 1)
    break_zone(bad)
    planning.plan_enrolments([bad.pk], NOW)
    assert swept(NOW + timedelta(minutes=5))[0].examined == 0
    assert swept(NOW + planning.RETRY_BROKEN)[1] == [[bad.pk]]
    # Once fixed, she is planned normally.
    bad.timezone = "Europe/London"
    bad.save()
    planning.plan_enrolments([bad.pk], NOW + timedelta(minutes=6))
    bad.refresh_from_db()
    assert (bad.plan_error, bad.plan_failed_at) == ("", None)


def test_the_plan_error_holds_no_health_data(make_enrolment):
    (bad,) = make_many(make_enrolment, 1)
    checkins.record(
        bad,
        1,
        {
            "pain": 6,
            "pain_sites": ["pelvis"],
            "warning_signs": ["leaking"],
            "urgent_signs": [],
            "sessions_felt": "right",
            "note": "private words",
        },
        NOW,
    )
    break_zone(bad)
    planning.plan_enrolments([bad.pk], NOW)
    error = Enrolment.objects.get(pk=bad.pk).plan_error
    assert error
    for secret in ("private words", "leaking", safety.WARNING_SIGNS["leaking"], "pelvis"):
        assert secret not in error


def test_deleting_her_enrolment_asks_for_no_planning(
    make_enrolment, django_capture_on_commit_callbacks, published
):
    enrolment = make_enrolment()
    log_session(enrolment)
    enrolment.pause(NOW)
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        enrolment.delete()
    assert published == []


def test_deleting_one_session_log_re_plans_her(
    make_enrolment, django_capture_on_commit_callbacks, published
):
    enrolment = make_enrolment()
    log_session(enrolment)
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        SessionLog.objects.filter(enrolment=enrolment).delete()
    assert planned_for(published, enrolment)


def test_the_sweep_task_asks_for_planning_tasks_that_expire(make_enrolment, monkeypatch):
    make_enrolment()
    asked = []
    monkeypatch.setattr(tasks.plan_due_enrolments, "apply_async", lambda **kw: asked.append(kw))
    tasks.sweep.run()
    assert asked == [{"expires": settings.PLAN_CLAIM_SECONDS}]
