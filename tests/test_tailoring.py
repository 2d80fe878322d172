"""Her coach tailors her program: each change is hers alone, recorded, re-plans her, and is
shown to her; bad input changes nothing; only her coach (and staff) can make one."""

import threading
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import RestrictedError
from django.urls import reverse
from django.utils import timezone

from programs import delivery, planning, roles, schedule, tailoring
from programs.models import (
    ClientStatus,
    CoachAction,
    Enrolment,
    Exercise,
    Prescription,
    Program,
    ProgramMove,
    SessionLog,
    Stage,
    Tailoring,
)
from tests.conftest import make_exercise, person
from tests.test_concurrency import TIMEOUT, in_threads, one_waiting_on_the_other, postgresql_only

pytestmark = pytest.mark.django_db


def prescription(stage_slug, n=1) -> Prescription:
    return Prescription.objects.get(
        stage__slug=stage_slug, exercise__slug=f"{stage_slug}-{n}", enrolment=None
    )


@pytest.fixture
def enrolment(make_enrolment, coach, clock):
    clock("2026-03-10 09:00", "Europe/London")  # program day 8: breathing and deep core open
    return make_enrolment(coach=coach)


@pytest.fixture
def as_coach(client, coach):
    client.force_login(coach)
    return client


def dose(p: Prescription, **changes) -> dict:
    values = {
        "exercise": p.exercise_id,
        "sets": p.sets,
        "reps": p.reps or "",
        "hold_seconds": p.hold_seconds or "",
        "days_per_week": p.days_per_week,
        "note": p.note,
    }
    return {**values, **changes}


def change_url(enrolment, p):
    return reverse("tailor_change", args=[enrolment.pk, p.pk])


def today(client, enrolment) -> str:
    return client.get(reverse("today", args=[enrolment.pk])).content.decode()


# A new dose


def test_a_new_dose_is_hers_alone_recorded_and_re_plans_her(as_coach, enrolment, coach):
    old = prescription("deep-core")
    version = Enrolment.objects.get(pk=enrolment.pk).version
    response = as_coach.post(change_url(enrolment, old), dose(old, sets=2, reps=8))
    assert response.status_code == 302
    (tailoring,) = Tailoring.objects.all()
    new = tailoring.prescription
    assert (tailoring.kind, tailoring.replaces, tailoring.made_by) == ("dose", old, coach)
    assert (new.enrolment, new.sets, new.reps, new.exercise) == (enrolment, 2, 8, old.exercise)
    assert Prescription.objects.get(pk=old.pk).reps == 10  # the program's stays
    action = CoachAction.objects.get(kind=CoachAction.Kind.TAILORED)
    assert action.detail == "Deep Core 1: 2 × 8 reps, 3 days a week (was 10 reps, 3 days a week)"
    enrolment.refresh_from_db()
    assert enrolment.planned_until is None and enrolment.version != version
    page = as_coach.get(response["Location"]).content.decode()
    assert "Saved: Deep Core 1: 2 × 8 reps" in page
    assert "changed for her" in page
    again = as_coach.get(response["Location"]).content.decode()
    assert "Saved:" not in again  # said once


def test_the_success_message_is_said_only_when_a_row_was_saved(as_coach, enrolment):
    old = prescription("deep-core")
    saved = as_coach.post(change_url(enrolment, old), dose(old, reps=8), follow=True)
    assert "Saved: Deep Core 1: 8 reps" in saved.content.decode()
    current = Tailoring.objects.get().prescription
    unchanged = as_coach.post(change_url(enrolment, current), dose(current))
    assert unchanged.status_code == 400
    assert "Saved:" not in unchanged.content.decode()
    assert "Nothing was saved: Nothing changed" in unchanged.content.decode()
    assert Tailoring.objects.count() == 1
    stale = as_coach.post(change_url(enrolment, old), dose(old, reps=5))
    assert "Nothing was saved: That exercise is no longer on her list" in stale.content.decode()
    assert Tailoring.objects.count() == 1


def test_she_sees_the_new_dose_marked_as_changed_by_her_coach(as_coach, enrolment, user, client):
    old = prescription("breathing")
    as_coach.post(change_url(enrolment, old), dose(old, reps=6), follow=True)
    client.force_login(user)
    page = today(client, enrolment)
    assert "6 reps" in page
    assert "Changed by your coach" in page
    assert "Saved:" not in page  # her coach's confirmation is not shown to her
    assert "Breathing 1: 6 reps, every day (was 10 reps, every day)" in page


def test_another_woman_in_the_program_keeps_the_programs_dose(
    as_coach, enrolment, make_enrolment, other_user, client
):
    hers = make_enrolment(user=other_user)
    old = prescription("breathing")
    as_coach.post(change_url(enrolment, old), dose(old, reps=6), follow=True)
    client.force_login(other_user)
    page = today(client, hers)
    assert "6 reps" not in page and "Changed by your coach" not in page
    assert "10 reps" in page


def test_the_program_page_never_shows_a_tailored_prescription(as_coach, enrolment, program):
    old = prescription("breathing")
    as_coach.post(change_url(enrolment, old), dose(old, reps=6), follow=True)
    page = as_coach.get(program.get_absolute_url()).content.decode()
    assert "6 reps" not in page
    assert page.count("Breathing 1") == 1


def test_her_session_email_lists_the_tailored_exercises(as_coach, enrolment, clock):
    clock("2026-03-10 21:00", "Europe/London")
    swap_to = make_exercise("side-lying-clam")
    old = prescription("breathing", 2)
    as_coach.post(change_url(enrolment, old), dose(old, exercise=swap_to.pk, reps=12))
    as_coach.post(reverse("tailor_remove", args=[enrolment.pk, prescription("breathing").pk]))
    SessionLog.objects.create(
        enrolment=enrolment, prescription=prescription("deep-core"), local_date=date(2026, 3, 10)
    )
    planning.plan_all(clock("2026-03-11 07:00", "Europe/London"))
    sent_at = clock("2026-03-11 08:00", "Europe/London") + timedelta(seconds=30)
    delivery.send_due(clock=lambda: sent_at)
    [email] = [m for m in mail.outbox if m.subject == "Today's exercises"]
    assert "Side Lying Clam: 12 reps" in email.body
    assert "Breathing 1" not in email.body and "Breathing 2" not in email.body


def trained_yesterday(enrolment):
    """So that her morning email is the session's, not a nudge."""
    SessionLog.objects.create(
        enrolment=enrolment, prescription=prescription("breathing"), local_date=date(2026, 3, 10)
    )


def test_her_coachs_note_stays_out_of_her_email_and_shows_on_today(
    as_coach, enrolment, clock, client, user
):
    clock("2026-03-10 21:00", "Europe/London")
    old = prescription("deep-core")
    note = "gentler while your scar is sore"
    as_coach.post(change_url(enrolment, old), dose(old, reps=6, note=note))
    trained_yesterday(enrolment)
    planning.plan_all(clock("2026-03-11 07:00", "Europe/London"))
    sent_at = clock("2026-03-11 08:00", "Europe/London") + timedelta(seconds=30)
    delivery.send_due(clock=lambda: sent_at)
    [email] = [m for m in mail.outbox if m.subject == "Today's exercises"]
    assert f"{old.exercise.name}: 6 reps" in email.body
    assert note not in email.body and note not in email.alternatives[0][0]
    client.force_login(user)
    assert note in client.get(reverse("today", args=[enrolment.pk])).content.decode()


def test_the_programs_own_note_is_in_her_email(as_coach, enrolment, clock):
    clock("2026-03-11 07:00", "Europe/London")
    Prescription.objects.filter(pk=prescription("deep-core").pk).update(note="each side")
    trained_yesterday(enrolment)
    planning.plan_all(clock("2026-03-11 07:00", "Europe/London"))
    sent_at = clock("2026-03-11 08:00", "Europe/London") + timedelta(seconds=30)
    delivery.send_due(clock=lambda: sent_at)
    [email] = [m for m in mail.outbox if m.subject == "Today's exercises"]
    assert "each side" in email.body


# Swap, add, remove


def test_a_swap_puts_another_exercise_in_its_place(as_coach, enrolment, client, user):
    swap_to = make_exercise("pelvic-tilt")
    old = prescription("deep-core")
    as_coach.post(change_url(enrolment, old), dose(old, exercise=swap_to.pk), follow=True)
    assert Tailoring.objects.get().kind == "swap"
    client.force_login(user)
    page = today(client, enrolment)
    assert "Pelvic Tilt" in page
    assert page.index("Pelvic Tilt") < page.index("Deep Core 2")  # in the old one's place


def test_a_swap_to_an_exercise_already_in_the_stage_is_refused(as_coach, enrolment):
    old = prescription("deep-core", 1)
    other = prescription("deep-core", 2)
    response = as_coach.post(change_url(enrolment, old), dose(old, exercise=other.exercise_id))
    assert response.status_code == 400
    assert "Deep Core 2 is already in this stage for her." in response.content.decode()
    assert not Tailoring.objects.exists()
    assert not Prescription.objects.filter(enrolment__isnull=False).exists()


def test_an_added_exercise_joins_the_end_of_its_stage(as_coach, enrolment, client, user):
    new = make_exercise("bridge")
    stage = Stage.objects.get(slug="deep-core")
    url = reverse("tailor_add", args=[enrolment.pk, stage.pk])
    form = {"exercise": new.pk, "sets": 2, "reps": 10, "days_per_week": 3}
    assert as_coach.post(url, form, follow=True).redirect_chain[0][1] == 302
    added = Tailoring.objects.get(kind="add").prescription
    assert (added.stage, added.position, added.enrolment) == (stage, 3, enrolment)
    client.force_login(user)
    assert "Bridge" in today(client, enrolment)


def test_a_dose_with_neither_reps_nor_hold_is_refused_and_changes_nothing(as_coach, enrolment):
    stage = Stage.objects.get(slug="deep-core")
    url = reverse("tailor_add", args=[enrolment.pk, stage.pk])
    form = {"exercise": make_exercise("bridge").pk, "sets": 2, "days_per_week": 3}
    response = as_coach.post(url, form)
    assert response.status_code == 400
    assert "Give a number of reps, a hold time, or both." in response.content.decode()
    assert not Tailoring.objects.exists() and not CoachAction.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"), [("days_per_week", 8), ("sets", 0), ("reps", -1), ("exercise", 999999)]
)
def test_an_impossible_dose_is_refused_on_its_field(as_coach, enrolment, field, value):
    old = prescription("deep-core")
    response = as_coach.post(change_url(enrolment, old), dose(old, **{field: value}))
    assert response.status_code == 400
    assert 'class="errorlist' in response.content.decode()
    assert not Tailoring.objects.exists()


def test_a_removed_exercise_leaves_her_list_and_adherence(as_coach, enrolment, client, user, coach):
    old = prescription("deep-core", 2)
    response = as_coach.post(reverse("tailor_remove", args=[enrolment.pk, old.pk]), follow=True)
    assert "Saved: Deep Core 2 taken out of Deep core." in response.content.decode()
    client.force_login(user)
    page = today(client, enrolment)
    assert f'id="ex-{prescription("deep-core", 1).pk}"' in page
    assert f'id="ex-{old.pk}"' not in page
    assert "Deep Core 2 taken out of Deep core" in page  # in her coach's changes
    # Removed twice: the second finds it gone.
    as_coach.force_login(coach)
    again = as_coach.post(reverse("tailor_remove", args=[enrolment.pk, old.pk]), follow=True)
    assert "no longer on her list" in again.content.decode()
    assert Tailoring.objects.count() == 1


def test_her_dashboard_row_follows_a_tailoring_in_the_same_request(as_coach, enrolment):
    before = ClientStatus.objects.get(enrolment=enrolment).recent_expected
    as_coach.post(reverse("tailor_remove", args=[enrolment.pk, prescription("breathing").pk]))
    assert ClientStatus.objects.get(enrolment=enrolment).recent_expected < before


def test_she_can_log_her_tailored_exercise_and_no_one_else_can(
    as_coach, enrolment, client, user, make_enrolment, other_user
):
    old = prescription("breathing")
    as_coach.post(change_url(enrolment, old), dose(old, reps=6), follow=True)
    new = Tailoring.objects.get().prescription
    client.force_login(user)
    client.post(reverse("log_session", args=[enrolment.pk, new.pk]))
    assert SessionLog.objects.filter(enrolment=enrolment, prescription=new).exists()
    hers = make_enrolment(user=other_user)
    client.force_login(other_user)
    response = client.post(reverse("log_session", args=[hers.pk, new.pk]))
    assert response.status_code == 404


# Her start date


def test_moving_her_start_date_is_recorded_and_re_plans_her(as_coach, enrolment):
    url = reverse("tailor_start", args=[enrolment.pk])
    response = as_coach.post(url, {"start_date": "2026-02-23"}, follow=True)
    assert "Her program now starts on 23 February 2026." in response.content.decode()
    enrolment.refresh_from_db()
    assert enrolment.start_date == date(2026, 2, 23)
    assert enrolment.planned_until is None
    action = CoachAction.objects.get(kind=CoachAction.Kind.MOVED_START)
    assert action.detail == "From 2 March 2026 to 23 February 2026"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "2025-01-01",
            "From 1 January 2025 her 6-week program would be over already. Choose one on or "
            "after 28 January 2026, or move her to a longer program.",
        ),
        ("2026-01-27", "From 27 January 2026 her 6-week program would be over already"),
        ("2026-12-01", "Choose a start date from 28 January 2026 to 2 June 2026."),
        ("2026-03-02", "That is already her start date."),
        ("0001-01-01", "Enter a date between"),
        ("not a date", "Enter a valid date."),
    ],
)
def test_a_start_date_out_of_range_is_refused_and_changes_nothing(
    as_coach, enrolment, value, message
):
    response = as_coach.post(reverse("tailor_start", args=[enrolment.pk]), {"start_date": value})
    assert response.status_code == 400
    assert message in response.content.decode()
    enrolment.refresh_from_db()
    assert enrolment.start_date == date(2026, 3, 2)
    assert not CoachAction.objects.exists()


def test_the_earliest_start_date_offered_keeps_her_last_program_day_ahead(
    as_coach, enrolment, clock
):
    url = reverse("tailor", args=[enrolment.pk])
    assert "From 28 January 2026 to 2 June 2026." in as_coach.get(url).content.decode()
    response = as_coach.post(
        reverse("tailor_start", args=[enrolment.pk]), {"start_date": "2026-01-28"}
    )
    assert response.status_code == 302
    her = Enrolment.objects.get(pk=enrolment.pk)
    snap = her.snapshot(timezone.now())
    assert (snap.program_day, snap.week, snap.finished) == (41, 6, False)
    planning.plan_all(timezone.now())
    assert Enrolment.objects.get(pk=enrolment.pk).status == Enrolment.Status.ACTIVE


def test_days_her_program_stood_still_let_her_start_date_move_further_back(as_coach, enrolment):
    enrolment.pauses.create(  # three days paused: her program is three days behind the calendar
        started_at=datetime(2026, 3, 4, 12, tzinfo=UTC),
        ended_at=datetime(2026, 3, 7, 12, tzinfo=UTC),
    )
    url = reverse("tailor", args=[enrolment.pk])
    assert "From 25 January 2026 to 2 June 2026." in as_coach.get(url).content.decode()
    start = reverse("tailor_start", args=[enrolment.pk])
    refused = as_coach.post(start, {"start_date": "2026-01-24"})
    assert "would be over already" in refused.content.decode()
    assert as_coach.post(start, {"start_date": "2026-01-25"}).status_code == 302
    assert not Enrolment.objects.get(pk=enrolment.pk).snapshot(timezone.now()).finished


# Another program


@pytest.fixture
def other_program(db):
    program = Program.objects.create(slug="twins", name="Twins program", summary="-", weeks=8)
    stage = Stage.objects.create(
        program=program,
        position=1,
        slug="twins-breathing",
        title="Twins breathing",
        unlock_week=1,
        goal="Breathe.",
        open_before_clearance=True,
    )
    Prescription.objects.create(
        stage=stage, exercise=make_exercise("twins-1"), reps=5, days_per_week=7
    )
    return program


def test_moving_her_to_another_program_keeps_her_history(
    as_coach, enrolment, other_program, program, client, user, coach
):
    SessionLog.objects.create(
        enrolment=enrolment, prescription=prescription("breathing"), local_date=date(2026, 3, 9)
    )
    url = reverse("tailor_move", args=[enrolment.pk])
    response = as_coach.post(url, {"program": other_program.pk}, follow=True)
    assert "She now follows Twins program; her history stays." in response.content.decode()
    enrolment.refresh_from_db()
    assert enrolment.program == other_program and enrolment.start_date == date(2026, 3, 2)
    move = ProgramMove.objects.get()
    assert (move.from_program, move.to_program) == (program, other_program)
    assert SessionLog.objects.filter(enrolment=enrolment).count() == 1
    client.force_login(user)
    assert "Twins 1" in today(client, enrolment)
    progress = client.get(reverse("progress", args=[enrolment.pk])).content.decode()
    assert "Breathing 1" in progress  # week 1, as it was prescribed then
    as_coach.force_login(coach)
    coach_page = as_coach.get(reverse("client", args=[enrolment.pk])).content.decode()
    assert "Moved her to another program" in coach_page


def test_a_program_she_already_follows_separately_is_refused(
    as_coach, enrolment, other_program, make_enrolment, user
):
    make_enrolment(program=other_program)
    response = as_coach.post(
        reverse("tailor_move", args=[enrolment.pk]), {"program": other_program.pk}
    )
    assert response.status_code == 400
    assert "already enrolled in that program separately" in response.content.decode()
    assert Enrolment.objects.get(pk=enrolment.pk).program_id != other_program.pk
    assert not ProgramMove.objects.exists()


def test_a_program_shorter_than_where_she_is_is_refused(as_coach, enrolment, other_program):
    Program.objects.filter(pk=other_program.pk).update(weeks=1)
    response = as_coach.post(
        reverse("tailor_move", args=[enrolment.pk]), {"program": other_program.pk}
    )
    assert response.status_code == 400
    assert "Twins program has 1 week and she is on day 9: it would end at once." in (
        response.content.decode()
    )
    assert not ProgramMove.objects.exists()


def test_an_unpublished_program_is_not_offered(as_coach, enrolment, other_program):
    Program.objects.filter(pk=other_program.pk).update(is_published=False)
    response = as_coach.post(
        reverse("tailor_move", args=[enrolment.pk]), {"program": other_program.pk}
    )
    assert response.status_code == 400
    assert not ProgramMove.objects.exists()


# The page


def test_the_page_lists_her_exercises_as_tailored_and_the_changes(as_coach, enrolment):
    old = prescription("deep-core")
    as_coach.post(change_url(enrolment, old), dose(old, reps=7))
    page = as_coach.get(reverse("tailor", args=[enrolment.pk])).content.decode()
    assert "Deep Core 1</strong>: 7 reps" in page
    assert "Changed the dose. Deep Core 1: 7 reps" in page
    assert "Dana Coach" in page
    chosen = f'<option value="{old.exercise_id}" selected>Deep Core 1</option>'
    assert page.count(chosen) == 1  # in its own change form only


def test_the_page_says_a_start_date_move_re_counts_her_program_unlike_the_other_changes(
    as_coach, enrolment
):
    page = as_coach.get(reverse("tailor", args=[enrolment.pk])).content.decode()
    assert "Changes to her exercises and her program apply to her alone, from now on" in page
    assert (
        "Moving her start date is different: it re-counts her whole program from the new date"
        in page
    )
    assert "her sessions and check-ins stay" in page


def test_the_page_queries_do_not_grow_with_changes(
    as_coach, enrolment, django_assert_max_num_queries
):
    url = reverse("tailor", args=[enrolment.pk])
    old = prescription("deep-core")
    as_coach.post(change_url(enrolment, old), dose(old, reps=7))
    with django_assert_max_num_queries(40) as captured:
        as_coach.get(url)
    few = len(captured)
    for n, slug in enumerate(["breathing", "deep-core"]):
        for k in (1, 2):
            p = Tailoring.objects.filter(replaces__exercise__slug=f"{slug}-{k}").first()
            current = p.prescription if p else prescription(slug, k)
            as_coach.post(change_url(enrolment, current), dose(current, reps=20 + n + k))
    with django_assert_max_num_queries(few):
        as_coach.get(url)
    for stage in Stage.objects.filter(program=enrolment.program):  # more exercises, more forms
        for name in (f"{stage.slug}-added-1", f"{stage.slug}-added-2"):
            added = {"exercise": make_exercise(name).pk, "sets": 1, "reps": 5, "days_per_week": 3}
            as_coach.post(reverse("tailor_add", args=[enrolment.pk, stage.pk]), added)
    assert Tailoring.objects.filter(kind="add").count() > 2
    with django_assert_max_num_queries(few):
        as_coach.get(url)


# Who may


def tailor_urls(enrolment) -> list[tuple[str, str]]:
    p = prescription("deep-core")
    stage = p.stage
    return [
        ("get", reverse("tailor", args=[enrolment.pk])),
        ("post", reverse("tailor_change", args=[enrolment.pk, p.pk])),
        ("post", reverse("tailor_remove", args=[enrolment.pk, p.pk])),
        ("post", reverse("tailor_add", args=[enrolment.pk, stage.pk])),
        ("post", reverse("tailor_start", args=[enrolment.pk])),
        ("post", reverse("tailor_move", args=[enrolment.pk])),
    ]


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("another coach", 404),
        ("her", 403),
        ("another client", 403),
        ("visitor", 302),
    ],
)
def test_only_her_coach_and_staff_can_tailor_her_program(client, enrolment, role, status):
    from tests.conftest import make

    who = make(role)
    if who:
        client.force_login(who)
    for method, url in tailor_urls(enrolment):
        response = getattr(client, method)(url)
        assert response.status_code == status, (method, url)
    assert not Tailoring.objects.exists() and not ProgramMove.objects.exists()
    assert Enrolment.objects.get(pk=enrolment.pk).start_date == date(2026, 3, 2)


@pytest.mark.parametrize(
    ("broken", "shown"),
    [({"timezone": "Europe/Londn"}, "Europe/Londn"), ({"start_date": date(1, 1, 1)}, "date")],
    ids=["zone", "date"],
)
def test_an_enrolment_the_schedule_cannot_read_is_sent_back_with_what_needs_fixing(
    as_coach, enrolment, broken, shown
):
    urls = tailor_urls(enrolment)
    Enrolment.objects.filter(pk=enrolment.pk).update(**broken)  # older data; the model refuses it
    form = {"start_date": "2026-02-23", "sets": 2, "reps": 5, "days_per_week": 3}
    for method, url in urls:
        response = getattr(as_coach, method)(url, form, follow=True)
        assert response.redirect_chain == [("/coach/", 302)], (method, url)
        page = response.content.decode()
        assert "needs fixing by staff before her program can be shown or changed" in page
        assert shown in page
    assert not Tailoring.objects.exists() and not CoachAction.objects.exists()
    assert not ProgramMove.objects.exists()


def test_staff_can_open_the_page(client, enrolment):
    staff = person("staff@example.com", is_staff=True)
    roles.make_coach(staff)
    client.force_login(staff)
    assert client.get(reverse("tailor", args=[enrolment.pk])).status_code == 200


def test_staff_who_are_not_coaches_can_tailor_her_program(client, enrolment):
    staff = person("staff@example.com", is_staff=True)
    assert not roles.is_coach(staff)
    client.force_login(staff)
    assert client.get(reverse("tailor", args=[enrolment.pk])).status_code == 200
    old = prescription("deep-core")
    response = client.post(change_url(enrolment, old), dose(old, reps=6), follow=True)
    assert "Saved: Deep Core 1: 6 reps" in response.content.decode()
    assert Tailoring.objects.get().made_by == staff


def test_a_prescription_of_another_program_is_not_found(as_coach, enrolment, other_program):
    theirs = Prescription.objects.get(stage__program=other_program)
    response = as_coach.post(change_url(enrolment, theirs), dose(theirs, reps=3))
    assert response.status_code == 404
    assert not Tailoring.objects.exists()
    assert Exercise.objects.filter(slug="twins-1").exists()


# The admin


def test_the_admin_shows_her_changes_and_keeps_the_stage_list_the_programs(
    as_coach, enrolment, admin_client
):
    old = prescription("deep-core")
    as_coach.post(change_url(enrolment, old), dose(old, reps=7))
    stage = admin_client.get(reverse("admin:programs_stage_change", args=[old.stage_id]))
    assert stage.content.decode().count('name="prescriptions-') > 0
    assert 'value="7"' not in stage.content.decode()
    page = admin_client.get(reverse("admin:programs_enrolment_change", args=[enrolment.pk]))
    assert "Deep Core 1: 7 reps" in page.content.decode()


def test_the_admin_cannot_change_her_program_behind_her_history(
    admin_client, enrolment, other_program, program
):
    url = reverse("admin:programs_enrolment_change", args=[enrolment.pk])
    form = admin_client.get(url).context["adminform"].form
    assert "program" not in form.fields


# Two changes at once


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_two_changes_to_one_exercise_at_once_take_turns(enrolment, coach):
    """The second reads her list after the first commits, so it is refused rather than saved
    without effect (its old prescription is gone from her list)."""
    from django.utils import timezone

    old = prescription("deep-core")

    def change(reps):
        her = Enrolment.objects.get(pk=enrolment.pk)
        dose = replace(tailoring.Dose.of(Prescription.objects.get(pk=old.pk)), reps=reps)
        try:
            tailoring.change(her, Prescription.objects.get(pk=old.pk), dose, coach, timezone.now())
        except ValidationError as error:
            return error.messages[0]
        return "saved"

    assert one_waiting_on_the_other(lambda: change(7), lambda: change(5)) == [
        "saved",
        "That exercise is no longer on her list; reload the page.",
    ]
    assert Tailoring.objects.count() == 1


def test_loading_tailored_clients_for_the_digest_takes_no_query_per_client(
    enrolment, coach, make_enrolment, django_user_model
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from programs import digests

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            digests.summaries([coach.pk], timezone.now())
        return len(captured)

    old = prescription("deep-core")
    tailoring.change(enrolment, old, replace(tailoring.Dose.of(old), reps=4), coach, timezone.now())
    few = queries()
    for n in range(3):
        other = make_enrolment(user=person(f"client{n}@example.com"), coach=coach)
        tailoring.change(other, old, replace(tailoring.Dose.of(old), reps=5), coach, timezone.now())
        tailoring.remove(other, prescription("breathing"), coach, timezone.now())
    assert queries() == few


def test_the_programs_exercise_her_coach_replaced_cannot_be_deleted(as_coach, enrolment):
    old = prescription("deep-core")
    as_coach.post(change_url(enrolment, old), dose(old, reps=6))
    with pytest.raises(RestrictedError):
        old.delete()
    assert Tailoring.objects.filter(replaces=old).exists()


def test_deleting_her_enrolment_takes_her_tailorings_with_it(as_coach, enrolment):
    old = prescription("deep-core")
    as_coach.post(change_url(enrolment, old), dose(old, reps=6))
    hers = Tailoring.objects.get().prescription
    SessionLog.objects.create(enrolment=enrolment, prescription=hers, local_date=date(2026, 3, 10))
    enrolment.delete()
    assert not Tailoring.objects.exists() and not SessionLog.objects.exists()
    assert not Prescription.objects.filter(pk=hers.pk).exists()
    assert Prescription.objects.filter(pk=old.pk).exists()


# A request that loaded her row, or read the clock, before another saved a change


def stale_copy(enrolment) -> Enrolment:
    return Enrolment.objects.get(pk=enrolment.pk)


@pytest.mark.parametrize("kind", ["change", "remove", "add"])
def test_a_change_through_a_copy_of_her_row_read_before_a_move_is_refused_cleanly(
    enrolment, coach, other_program, kind
):
    stale = stale_copy(enrolment)
    tailoring.move_program(stale_copy(enrolment), other_program, coach, timezone.now())
    old = prescription("deep-core")
    with pytest.raises(ValidationError) as refused:
        if kind == "change":
            tailoring.change(
                stale, old, replace(tailoring.Dose.of(old), reps=4), coach, timezone.now()
            )
        elif kind == "remove":
            tailoring.remove(stale, old, coach, timezone.now())
        else:
            tailoring.add(stale, old.stage, tailoring.Dose.of(old), coach, timezone.now())
    assert refused.value.messages == ["Deep core is no longer in her program; reload the page."]
    assert not Tailoring.objects.exists()


def test_a_second_move_through_a_copy_of_her_row_read_before_the_first_is_refused(
    enrolment, coach, other_program
):
    first, second = stale_copy(enrolment), stale_copy(enrolment)
    tailoring.move_program(first, other_program, coach, timezone.now())
    with pytest.raises(ValidationError) as refused:
        tailoring.move_program(second, other_program, coach, timezone.now())
    assert refused.value.messages == ["She is already in that program."]
    assert ProgramMove.objects.count() == 1


@pytest.mark.parametrize("move", ["start", "program"])
def test_a_move_through_a_copy_of_her_row_read_before_she_left_is_refused(
    enrolment, coach, other_program, move
):
    stale = stale_copy(enrolment)
    left = stale_copy(enrolment)
    left.withdraw(timezone.now())
    with pytest.raises(ValidationError) as refused:
        if move == "start":
            tailoring.move_start(stale, date(2026, 2, 23), coach, timezone.now())
        else:
            tailoring.move_program(stale, other_program, coach, timezone.now())
    assert refused.value.messages[0].startswith("Her program has ended")
    her = stale_copy(enrolment)
    assert (her.start_date, her.program_id) == (date(2026, 3, 2), enrolment.program_id)
    assert not ProgramMove.objects.exists()


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_two_moves_at_once_make_one(enrolment, coach, other_program):
    """Each request loaded her row before either moved her; the second reads it again once the
    first has committed, and finds her moved."""
    copies = [stale_copy(enrolment), stale_copy(enrolment)]

    def move(her):
        try:
            tailoring.move_program(her, other_program, coach, timezone.now())
        except ValidationError as error:
            return error.messages[0]
        return "moved"

    assert one_waiting_on_the_other(lambda: move(copies[0]), lambda: move(copies[1])) == [
        "moved",
        "She is already in that program.",
    ]
    assert ProgramMove.objects.count() == 1


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_move_to_a_program_she_enrols_in_at_that_moment_is_refused(
    enrolment, coach, other_program, make_enrolment
):
    """Her own enrolment is not yet committed when the move checks for it; the database's
    constraint refuses the move, which says why and saves nothing."""
    enrolled, release = threading.Event(), threading.Event()

    def enrol():
        with transaction.atomic():
            make_enrolment(program=other_program)
            enrolled.set()
            release.wait(TIMEOUT)

    def move():
        enrolled.wait(TIMEOUT)
        threading.Timer(0.5, release.set).start()  # while the move waits for her enrolment
        try:
            tailoring.move_program(stale_copy(enrolment), other_program, coach, timezone.now())
        except ValidationError as error:
            return error.messages[0]
        return "moved"

    assert in_threads(enrol, move) == [None, tailoring.SEPARATELY]
    assert not ProgramMove.objects.exists()
    assert not CoachAction.objects.filter(kind=CoachAction.Kind.MOVED_PROGRAM).exists()
    assert stale_copy(enrolment).program_id != other_program.pk


# A request that read the clock before another, but took her row after it


def test_a_change_read_with_an_earlier_clock_sees_the_change_saved_before_it(enrolment, coach):
    first_clock = timezone.now()
    old = prescription("deep-core")
    tailoring.change(enrolment, old, replace(tailoring.Dose.of(old), reps=7), coach, first_clock)
    with pytest.raises(ValidationError) as refused:
        tailoring.change(
            enrolment,
            old,
            replace(tailoring.Dose.of(old), reps=5),
            coach,
            first_clock - timedelta(seconds=1),
        )
    assert refused.value.messages == ["That exercise is no longer on her list; reload the page."]
    assert Tailoring.objects.count() == 1


def test_a_change_read_with_an_earlier_clock_is_made_after_the_one_saved_before_it(
    enrolment, coach
):
    first_clock = timezone.now()
    one, two = prescription("deep-core", 1), prescription("deep-core", 2)
    first = tailoring.change(
        enrolment, one, replace(tailoring.Dose.of(one), reps=7), coach, first_clock
    )
    second = tailoring.remove(enrolment, two, coach, first_clock - timedelta(seconds=1))
    assert second.made_at > first.made_at
    her = stale_copy(enrolment)
    her_facts = her.facts()
    stage = next(s for s in her_facts.stages if s.key == one.stage_id)
    assert [p.key for p in schedule.prescribed(her_facts, stage, second.made_at)] == [
        first.prescription_id
    ]
    action = CoachAction.objects.filter(kind=CoachAction.Kind.TAILORED).latest("pk")
    assert action.at == second.made_at


def test_changes_made_at_the_same_instant_are_all_in_force_at_it(as_coach, enrolment, coach):
    now = timezone.now()
    one, two = prescription("deep-core", 1), prescription("deep-core", 2)
    first = tailoring.change(enrolment, one, replace(tailoring.Dose.of(one), reps=7), coach, now)
    second = tailoring.remove(enrolment, two, coach, now)
    assert first.made_at == second.made_at == now
    page = as_coach.get(reverse("tailor", args=[enrolment.pk])).content.decode()
    assert "Deep Core 1</strong>: 7 reps" in page
    assert f'id="ex-{two.pk}"' not in page


def test_a_change_read_with_an_earlier_clock_than_a_move_is_made_in_her_new_program(
    enrolment, coach, other_program
):
    first_clock = timezone.now()
    move = tailoring.move_program(enrolment, other_program, coach, first_clock)
    twins = Prescription.objects.get(stage__program=other_program)
    change = tailoring.change(
        enrolment,
        twins,
        replace(tailoring.Dose.of(twins), reps=9),
        coach,
        first_clock - timedelta(seconds=1),
    )
    assert change.made_at > move.moved_at


def test_moving_her_back_brings_back_the_changes_made_for_her_there(
    as_coach, enrolment, other_program, program, clock
):
    old = prescription("deep-core")
    as_coach.post(change_url(enrolment, old), dose(old, reps=6))
    clock("2026-03-10 10:00", "Europe/London")
    as_coach.post(reverse("tailor_move", args=[enrolment.pk]), {"program": other_program.pk})
    clock("2026-03-10 11:00", "Europe/London")
    as_coach.post(reverse("tailor_move", args=[enrolment.pk]), {"program": program.pk})
    enrolment.refresh_from_db()
    now = clock("2026-03-10 12:00", "Europe/London")
    by_pk = tailoring.her_prescriptions(enrolment)
    lists = dict(tailoring.stage_lists(enrolment, enrolment.facts(), now, by_pk))
    deep_core = next(ps for stage, ps in lists.items() if stage.slug == "deep-core")
    assert [(p.exercise_id, p.reps) for p in deep_core][0] == (old.exercise_id, 6)


def test_deleting_her_enrolment_after_two_changes_to_one_exercise(as_coach, enrolment, clock):
    old = prescription("deep-core")
    as_coach.post(change_url(enrolment, old), dose(old, reps=6))
    first = Tailoring.objects.get().prescription
    clock("2026-03-10 10:00", "Europe/London")
    as_coach.post(change_url(enrolment, first), dose(first, reps=5))
    assert Tailoring.objects.filter(replaces=first).exists()
    enrolment.delete()
    assert not Tailoring.objects.exists()
    assert not Prescription.objects.filter(enrolment__isnull=False).exists()
