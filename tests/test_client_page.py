"""A coach's page for one client, her actions, and who may see what."""

from datetime import UTC, date, datetime

import pytest
from django.core import mail
from django.urls import reverse

from programs import delivery, roles
from programs.models import (
    CheckIn,
    CoachAction,
    Hold,
    Message,
    Notification,
    SessionLog,
    StageOverride,
)

pytestmark = pytest.mark.django_db

CLIENT_GETS = ["client"]
CLIENT_POSTS = [
    "clear_hold",
    "acknowledge",
    "client_pause",
    "client_resume",
    "client_stage",
    "client_note",
    "client_message",
]
COACH_PAGES = ["dashboard", "export_csv", "invitations", "coach_settings"]


@pytest.fixture
def other_coach(django_user_model):
    user = django_user_model.objects.create_user("olga@example.com", "olga@example.com", "x")
    roles.make_coach(user)
    return user


@pytest.fixture
def enrolment(make_enrolment, coach, clock):
    clock("2026-03-10 09:00", "Europe/London")
    return make_enrolment(coach=coach)


@pytest.fixture
def as_coach(client, coach):
    client.force_login(coach)
    return client


def url(name, enrolment):
    return reverse(name, args=[enrolment.pk])


# Who may see what


@pytest.mark.parametrize("name", CLIENT_GETS + CLIENT_POSTS)
def test_another_coachs_client_is_not_found(client, other_coach, enrolment, name):
    client.force_login(other_coach)
    response = (
        client.post(url(name, enrolment))
        if name in CLIENT_POSTS
        else client.get(url(name, enrolment))
    )
    assert response.status_code == 404


@pytest.mark.parametrize("name", CLIENT_GETS + CLIENT_POSTS)
def test_an_enrollee_is_forbidden_even_on_her_own_enrolment(member, enrolment, name):
    response = (
        member.post(url(name, enrolment))
        if name in CLIENT_POSTS
        else member.get(url(name, enrolment))
    )
    assert response.status_code == 403


@pytest.mark.parametrize("name", COACH_PAGES)
def test_an_enrollee_cannot_open_coach_pages(member, name):
    assert member.get(reverse(name)).status_code == 403


@pytest.mark.parametrize("name", CLIENT_GETS + CLIENT_POSTS)
def test_logged_out_is_sent_to_log_in(client, enrolment, name):
    response = (
        client.post(url(name, enrolment))
        if name in CLIENT_POSTS
        else client.get(url(name, enrolment))
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", COACH_PAGES)
def test_logged_out_coach_pages_send_to_log_in(client, name):
    assert client.get(reverse(name))["Location"].startswith(reverse("login"))


def test_nothing_changes_when_another_coach_tries(client, other_coach, enrolment):
    client.force_login(other_coach)
    client.post(url("client_pause", enrolment))
    client.post(url("client_note", enrolment), {"text": "hi"})
    client.post(url("client_message", enrolment), {"text": "hi"})
    enrolment.refresh_from_db()
    assert enrolment.status == "active"
    assert not CoachAction.objects.exists()
    assert not Message.objects.exists()
    assert not Notification.objects.filter(kind="new_message").exists()


def test_staff_see_any_client(client, enrolment, django_user_model):
    staff = django_user_model.objects.create_user("s@example.com", "s@example.com", is_staff=True)
    client.force_login(staff)
    assert client.get(url("client", enrolment)).status_code == 200


# The page


def test_page_shows_where_she_is_her_answers_and_her_timeline(as_coach, enrolment):
    item = enrolment.program.stages.get(slug="breathing").prescriptions.first()
    SessionLog.objects.create(enrolment=enrolment, prescription=item, local_date=date(2026, 3, 9))
    CheckIn.objects.create(
        enrolment=enrolment,
        week=1,
        submitted_at=datetime(2026, 3, 9, 20, tzinfo=UTC),
        pain=6,
        pain_sites=["hip"],
        warning_signs=["leaking"],
        sessions_felt="too_hard",
        note="Tired this week",
        tier=1,
    )
    content = as_coach.get(url("client", enrolment)).content.decode()
    assert "Week 2 of 6" in content
    assert "6 / 10 (Hip)" in content
    assert "Leaking urine or faeces" in content
    assert "Tired this week" in content
    assert "Too hard" in content
    assert "Logged 1 exercise(s)" in content
    assert "Week 1 check-in (red flag)" in content
    assert 'role="img"' in content


def test_page_runs_a_bounded_number_of_queries(as_coach, enrolment, django_assert_max_num_queries):
    with django_assert_max_num_queries(25):
        as_coach.get(url("client", enrolment))


# Actions, each recorded with who and when


def test_coach_pauses_and_resumes_her_program(as_coach, enrolment, coach):
    as_coach.post(url("client_pause", enrolment))
    enrolment.refresh_from_db()
    assert enrolment.status == "paused"
    as_coach.post(url("client_resume", enrolment))
    enrolment.refresh_from_db()
    assert enrolment.status == "active"
    kinds = list(CoachAction.objects.values_list("kind", "actor"))
    assert kinds == [("paused", coach.pk), ("resumed", coach.pk)]


def test_resuming_an_active_program_is_refused_with_a_message(as_coach, enrolment):
    response = as_coach.post(url("client_resume", enrolment), follow=True)
    assert b"This program is not paused." in response.content
    assert not CoachAction.objects.exists()


def test_an_urgent_hold_is_marked_urgent_in_words(as_coach, enrolment):
    Hold.objects.create(enrolment=enrolment, tier=2, started_at=datetime(2026, 3, 9, tzinfo=UTC))
    content = as_coach.get(url("client", enrolment)).content.decode()
    assert '<li class="flag flag-urgent">Urgent</li>' in content
    assert '<span class="flag flag-urgent">Urgent</span>' in content
    assert "See a clinician" not in content


def test_a_warning_hold_says_see_a_clinician(as_coach, enrolment):
    Hold.objects.create(enrolment=enrolment, tier=1, started_at=datetime(2026, 3, 9, tzinfo=UTC))
    content = as_coach.get(url("client", enrolment)).content.decode()
    assert '<li class="flag">See a clinician</li>' in content
    assert "flag-urgent" not in content
    assert ">Urgent<" not in content


def test_coach_acknowledges_an_alert_without_clearing_the_hold(as_coach, enrolment, coach):
    hold = Hold.objects.create(
        enrolment=enrolment, tier=1, started_at=datetime(2026, 3, 9, tzinfo=UTC)
    )
    page = as_coach.get(url("client", enrolment)).content.decode()
    assert "Nobody has acknowledged this alert yet." in page
    assert f'action="{url("acknowledge", enrolment)}"' in page
    response = as_coach.post(url("acknowledge", enrolment), follow=True)
    content = response.content.decode()
    assert "Alert acknowledged. Clear the hold once it is safe." in content
    assert "already acknowledged" not in content  # one act, one message
    assert "Alert acknowledged by Dana Coach on 10 Mar, 09:00." in content
    assert "Nobody has acknowledged this alert yet." not in content
    assert "Dana Coach: Acknowledged the alert" in content  # her timeline
    hold.refresh_from_db()
    assert hold.acknowledged_by == coach and hold.is_open
    assert CoachAction.objects.get().kind == "acknowledged"


def test_acknowledging_without_a_hold_is_refused_with_a_message(as_coach, enrolment):
    response = as_coach.post(url("acknowledge", enrolment), follow=True)
    assert b"There is no open alert to acknowledge." in response.content
    assert b"Alert acknowledged." not in response.content
    assert not CoachAction.objects.exists()


def test_acknowledging_needs_a_csrf_token(coach, enrolment):
    from django.test import Client

    Hold.objects.create(enrolment=enrolment, tier=1, started_at=datetime(2026, 3, 9, tzinfo=UTC))
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(coach)
    assert strict.post(url("acknowledge", enrolment)).status_code == 403
    assert Hold.objects.get().acknowledged_at is None


def test_coach_clears_a_hold(as_coach, enrolment, coach):
    Hold.objects.create(enrolment=enrolment, tier=1, started_at=datetime(2026, 3, 9, tzinfo=UTC))
    response = as_coach.post(url("clear_hold", enrolment))
    assert response["Location"] == url("client", enrolment)
    assert Hold.objects.get().cleared_by == coach


def test_coach_opens_the_next_stage_early(as_coach, enrolment):
    glutes = enrolment.program.stages.get(slug="glutes")
    as_coach.post(url("client_stage", enrolment), {"stage": glutes.pk, "action": "open"})
    assert StageOverride.objects.get().action == "open"
    snap = enrolment.snapshot(datetime(2026, 3, 10, 10, tzinfo=UTC))
    assert snap.state_of(glutes.pk).is_open
    assert CoachAction.objects.get().detail == "Glute strength"


def test_coach_holds_a_stage_and_releases_it(as_coach, enrolment):
    core = enrolment.program.stages.get(slug="deep-core")
    as_coach.post(url("client_stage", enrolment), {"stage": core.pk, "action": "hold"})
    assert not enrolment.snapshot(datetime(2026, 3, 10, 10, tzinfo=UTC)).state_of(core.pk).is_open
    as_coach.post(url("client_stage", enrolment), {"stage": core.pk, "action": "release"})
    assert enrolment.snapshot(datetime(2026, 3, 10, 10, tzinfo=UTC)).state_of(core.pk).is_open
    assert list(CoachAction.objects.values_list("kind", flat=True)) == [
        "held_stage",
        "released_stage",
    ]


def test_a_stage_of_another_program_is_refused(as_coach, enrolment):
    from programs.models import Program, Stage

    other = Program.objects.create(slug="o", name="O", summary="o", weeks=2)
    stage = Stage.objects.create(
        program=other, position=1, slug="s", title="S", unlock_week=1, goal="g"
    )
    response = as_coach.post(
        url("client_stage", enrolment), {"stage": stage.pk, "action": "open"}, follow=True
    )
    assert b"Choose a stage" in response.content
    assert not StageOverride.objects.exists()


def test_a_private_note_is_kept_and_shown_to_coaches_only(as_coach, enrolment, user):
    from django.test import Client

    as_coach.post(url("client_note", enrolment), {"text": "Call her Friday"})
    assert CoachAction.objects.get().detail == "Call her Friday"
    assert "Call her Friday" in as_coach.get(url("client", enrolment)).content.decode()
    her = Client()
    her.force_login(user)
    today = her.get(reverse("today", args=[enrolment.pk]))
    assert today.status_code == 200
    assert b"Call her Friday" not in today.content


def test_an_empty_note_is_refused(as_coach, enrolment):
    response = as_coach.post(url("client_note", enrolment), {"text": ""}, follow=True)
    assert b"Write something" in response.content
    assert not CoachAction.objects.exists()


def test_a_message_goes_into_her_thread_and_emails_her_that_it_is_there(as_coach, enrolment, clock):
    as_coach.post(url("client_message", enrolment), {"text": "Lovely progress this week!"})
    assert Message.objects.get().body == "Lovely progress this week!"
    row = Notification.objects.get(kind="new_message")
    assert (row.recipient, row.status) == (enrolment.user, "pending")
    delivery.send_due(clock=lambda: datetime(2026, 3, 10, 9, 1, tzinfo=UTC))
    row.refresh_from_db()
    assert row.status == "sent"
    message = mail.outbox[-1]
    assert message.subject == "You have a new message from your coach"
    assert "Lovely progress" not in message.body
    assert "Lovely progress" not in message.alternatives[0][0]
    assert f"/enrolments/{enrolment.pk}/#messages" in message.body
