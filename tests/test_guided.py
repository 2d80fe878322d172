"""The guided session: today's exercises one at a time, then how each went."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from programs import adherence, coaching
from programs.coaching import Flag, GuidedResult, strained
from programs.forms import GuidedSessionForm
from programs.models import (
    ClientStatus,
    Enrolment,
    GuidedExercise,
    GuidedSession,
    Prescription,
    SessionLog,
)

pytestmark = pytest.mark.django_db

MONDAY = "2026-03-09 09:00"  # week 2, a training day for the 3-days-a-week stage
TUESDAY = "2026-03-10 09:00"  # the same week: only the every-day stage is due
LABEL = coaching.FLAG_LABELS[Flag.STRAIN]


def session_url(enrolment):
    return reverse("guided_session", args=[enrolment.pk])


def prescription(stage_slug, n=1):
    return Prescription.objects.get(stage__slug=stage_slug, position=n)


def due():
    return [prescription("breathing", 1), prescription("breathing", 2)] + [
        prescription("deep-core", 1),
        prescription("deep-core", 2),
    ]


def answers(felt="right", skip=(), pain="3", **changes):
    data = {"pain_after": pain}
    for p in due():
        done = p not in skip
        data[f"done_{p.pk}"] = "1" if done else "0"
        if done:
            data[f"felt_{p.pk}"] = felt
    data.update(changes)
    return data


@pytest.fixture
def enrolment(make_enrolment, clock):
    clock(MONDAY, "Europe/London")
    return make_enrolment()


def test_today_offers_the_session_only_when_something_is_due(member, enrolment, clock):
    response = member.get(reverse("today", args=[enrolment.pk]))
    assert "Start today's session" in response.content.decode()
    enrolment.pause(timezone.now())
    response = member.get(reverse("today", args=[enrolment.pk]))
    assert "Start today's session" not in response.content.decode()


def test_the_session_lists_what_is_due_today_as_the_email_does(member, enrolment, clock):
    page = member.get(session_url(enrolment)).content.decode()
    assert "Exercise 1 of 4" in page and "Exercise 4 of 4" in page
    assert "Deep Core 1" in page
    assert "js/guided.js" in page
    assert "<script>" not in page and 'style="' not in page
    clock(TUESDAY, "Europe/London")
    page = member.get(session_url(enrolment)).content.decode()
    assert "Exercise 2 of 2" in page
    assert "Deep Core 1" not in page


def test_logged_out_goes_to_login(client, enrolment):
    response = client.get(session_url(enrolment))
    assert response.status_code == 302
    assert reverse("login") in response.url
    response = client.post(session_url(enrolment), answers())
    assert response.status_code == 302 and reverse("login") in response.url
    assert not GuidedSession.objects.exists()


def test_another_user_and_a_coach_get_404(client, other_user, coach, enrolment):
    for someone in (other_user, coach):
        client.force_login(someone)
        assert client.get(session_url(enrolment)).status_code == 404
        assert client.post(session_url(enrolment), answers()).status_code == 404
    assert not GuidedSession.objects.exists()


def test_saving_records_each_exercise_and_logs_the_done_ones(member, enrolment):
    skipped = prescription("deep-core", 2)
    response = member.post(session_url(enrolment), answers(skip=[skipped]), follow=True)
    assert "Session saved: 3 of 4 exercises done today." in response.content.decode()
    session = GuidedSession.objects.get()
    assert (session.enrolment, session.local_date, session.pain_after) == (
        enrolment,
        date(2026, 3, 9),
        3,
    )
    rows = {row.prescription: row for row in session.exercises.all()}
    assert rows[skipped].done is False and rows[skipped].felt == ""
    assert rows[prescription("breathing", 1)].felt == GuidedExercise.Felt.RIGHT
    logged = set(SessionLog.objects.values_list("prescription", "local_date"))
    assert logged == {(p.pk, date(2026, 3, 9)) for p in due() if p != skipped}


def test_pain_is_optional(member, enrolment):
    member.post(session_url(enrolment), answers(pain=""))
    assert GuidedSession.objects.get().pain_after is None


@pytest.mark.parametrize(
    "change, message",
    [
        ("no_felt", "Say how Breathing 1 felt."),
        ("no_done", "Say whether you did Breathing 1 or skipped it."),
        ("pain", "Select a valid choice."),
        ("felt", "Select a valid choice."),
    ],
)
def test_bad_answers_say_why_and_save_nothing(member, enrolment, change, message):
    first = prescription("breathing", 1)
    data = answers()
    if change == "no_felt":
        del data[f"felt_{first.pk}"]
    elif change == "no_done":
        del data[f"done_{first.pk}"]
    elif change == "pain":
        data["pain_after"] = "11"
    else:
        data[f"felt_{first.pk}"] = "awful"
    response = member.post(session_url(enrolment), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert "Nothing was saved yet." in page
    assert "Session saved" not in page
    assert not GuidedSession.objects.exists()
    assert not GuidedExercise.objects.exists()
    assert not SessionLog.objects.exists()


def test_the_form_alone(enrolment):
    assert GuidedSessionForm(answers(), prescriptions=due()).is_valid()
    form = GuidedSessionForm(answers(felt=""), prescriptions=due())
    assert not form.is_valid()
    assert form.errors[f"felt_{due()[0].pk}"] == ["Say how Breathing 1 felt."]


@pytest.mark.parametrize("state", ["paused", "urgent", "withdrawn", "not started"])
def test_no_session_when_she_cannot_exercise(member, enrolment, make_enrolment, state):
    from programs.models import Hold

    now = timezone.now()
    if state == "paused":
        enrolment.pause(now)
        message = "Your program is paused."
    elif state == "urgent":
        Hold.objects.create(enrolment=enrolment, started_at=now, tier=2)
        message = "exercise for now: your last check-in"
    elif state == "withdrawn":
        enrolment.withdraw(now)
        message = "You have left this program."
    else:
        enrolment.start_date = date(2026, 3, 20)
        enrolment.save()
        message = "Your program has not started yet."
    response = member.post(session_url(enrolment), answers(), follow=True)
    assert message in response.content.decode()
    assert not GuidedSession.objects.exists()
    response = member.get(session_url(enrolment), follow=True)
    assert message in response.content.decode()
    assert "Exercise 1 of" not in response.content.decode()


def test_adherence_counts_the_done_exercises(member, enrolment):
    facts = Enrolment.objects.get(pk=enrolment.pk).facts()
    now = timezone.now()
    logs = lambda: list(SessionLog.objects.values_list("prescription_id", "local_date"))  # noqa: E731
    before = adherence.last_days(facts, logs(), now).done
    member.post(session_url(enrolment), answers(skip=[prescription("deep-core", 2)]))
    assert adherence.last_days(facts, logs(), now).done == before + 3
    page = member.get(reverse("progress", args=[enrolment.pk])).content.decode()
    assert "Guided sessions" in page and "3 of 4 done" in page
    assert "Deep Core 2: skipped" in page


def coach_page(client, coach, enrolment):
    enrolment.coach = coach
    enrolment.save()
    client.force_login(coach)
    return client.get(reverse("client", args=[enrolment.pk])).content.decode()


def test_too_hard_flags_her_for_her_coach(member, client, coach, enrolment):
    member.post(session_url(enrolment), answers(felt="too_hard"))
    page = coach_page(client, coach, enrolment)
    assert LABEL in page
    assert "Breathing 1: done, too hard" in page
    assert ClientStatus.objects.get(pk=enrolment.pk).strain
    assert not enrolment.holds.exists()  # a coach's cue, not a red-flag hold


def test_about_right_raises_no_flag(member, client, coach, enrolment):
    member.post(session_url(enrolment), answers(felt="right"))
    page = coach_page(client, coach, enrolment)
    assert LABEL not in page
    assert "Breathing 1: done, about right" in page
    assert not ClientStatus.objects.get(pk=enrolment.pk).strain


def test_strained_pure():
    day = date(2026, 3, 9)
    easy = GuidedResult(day, False, 2)
    assert not strained([], day)
    assert not strained([easy], day)
    assert strained([GuidedResult(day, True, None)], day)
    # Too hard a week ago has passed.
    assert not strained([GuidedResult(date(2026, 3, 2), True, None)], day)
    # A rise of PAIN_JUMP over the session before is flagged; a smaller one is not.
    assert strained([easy, GuidedResult(day, False, 2 + coaching.PAIN_JUMP)], day)
    assert not strained([easy, GuidedResult(day, False, 3)], day)
    # Her last session counts: a later easy one lowers the flag.
    assert not strained([GuidedResult(day, True, 2), easy], day)


def test_her_export_holds_her_guided_sessions(member, enrolment):
    member.post(session_url(enrolment), answers(felt="easy", skip=[prescription("deep-core", 2)]))
    data = member.get(reverse("account_export")).json()
    (guided,) = data["enrolments"][0]["guided_sessions"]
    assert guided["date"] == "2026-03-09" and guided["pain_after"] == 3
    assert {"exercise": "Breathing 1", "done": True, "felt": "Easy"} in guided["exercises"]
    assert {"exercise": "Deep Core 2", "done": False, "felt": None} in guided["exercises"]


def test_an_exercise_logged_earlier_today_is_kept_and_the_rest_logged(member, enrolment):
    first = prescription("breathing", 1)
    earlier = SessionLog.objects.create(
        enrolment=enrolment, prescription=first, local_date=date(2026, 3, 9)
    )
    response = member.post(session_url(enrolment), answers(), follow=True)
    assert "Session saved: 4 of 4 exercises done today." in response.content.decode()
    assert SessionLog.objects.get(prescription=first).pk == earlier.pk
    assert SessionLog.objects.count() == 4


def test_saving_marks_her_for_planning_when_she_did_something(member, enrolment):
    # Whether she trained today decides tonight's nudge.
    Enrolment.objects.filter(pk=enrolment.pk).update(planned_until=timezone.now())
    member.post(session_url(enrolment), answers(skip=due()[1:]))
    enrolment.refresh_from_db()
    assert enrolment.planned_until is None


def test_saving_costs_the_same_queries_for_one_exercise_done_or_four(member, enrolment):
    def queries(data):
        GuidedSession.objects.all().delete()
        SessionLog.objects.all().delete()
        with CaptureQueriesContext(connection) as captured:
            assert member.post(session_url(enrolment), data).status_code == 302
        return len(captured)

    assert queries(answers(skip=due()[1:])) == queries(answers())
