"""A coach invites a new client; the link brings her through sign-up and enrolment to that coach."""

import re
import smtplib
from datetime import time, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

from programs import links, roles
from programs.models import CoachProfile, Enrolment, Invitation, Notification, Program
from programs.views import invitations as invitation_views
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture(autouse=True)
def now(clock):
    return clock("2026-03-10 09:00", "Europe/London")


@pytest.fixture
def coach(db):
    user = User.objects.create_user(
        "carla@example.com", "carla@example.com", PASSWORD, first_name="Carla"
    )
    roles.make_coach(user)
    return user


@pytest.fixture
def coach_client(client, coach):
    client.force_login(coach)
    return client


def enrol_answers(**overrides):
    data = {
        "start_date": "2026-03-10",
        "timezone": "Europe/London",
        "reminder_time": "07:30",
        "weeks_postpartum": "9",
        "caesarean": "False",
        "cleared": "True",
    }
    data.update(overrides)
    return data


def invite(coach, program, email="new.mum@example.com", **values):
    from django.utils import timezone

    return Invitation.objects.create(
        coach=coach, program=program, email=email, created_at=timezone.now(), **values
    )


def accept_url(invitation):
    return reverse("accept_invitation", args=[links.invitation_token(invitation.pk)])


def link_in(message) -> str:
    return re.search(r"http://\S+/invite/\S+/", message.body).group(0)


# Sending


def test_a_coach_invites_by_email(coach_client, coach, program):
    response = coach_client.post(
        reverse("invitations"), {"email": " New.Mum@Example.com ", "program": program.pk}
    )
    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert (invitation.coach, invitation.program, invitation.email) == (
        coach,
        program,
        "new.mum@example.com",
    )
    assert invitation.accepted_at is None
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new.mum@example.com"]
    assert "Carla" in message.subject and "Test program" in message.subject
    assert link_in(message).endswith(accept_url(invitation))
    assert accept_url(invitation) in message.alternatives[0].content


def test_the_page_lists_her_invitations_pending_and_accepted(coach_client, coach, program, user):
    invite(coach, program, email="waiting@example.com")
    done = invite(coach, program, email="amira@example.com")
    Invitation.objects.filter(pk=done.pk).update(accepted_at=done.created_at, accepted_by=user)
    other_coach = User.objects.create_user("dee@example.com", "dee@example.com")
    invite(other_coach, program, email="not-hers@example.com")
    content = coach_client.get(reverse("invitations")).content.decode()
    assert "waiting@example.com" in content and "Pending" in content
    assert "amira@example.com" in content and "Accepted 10 Mar 2026" in content
    assert "not-hers@example.com" not in content


def test_an_old_pending_invitation_shows_as_expired(coach_client, coach, program, clock):
    invite(coach, program)
    clock("2026-03-25 09:00", "Europe/London")
    coach_client.force_login(coach)  # her session from two weeks ago has expired
    assert "Expired" in coach_client.get(reverse("invitations")).content.decode()


def test_a_bad_email_is_refused_on_its_field(coach_client, program):
    response = coach_client.post(
        reverse("invitations"), {"email": "not-an-email", "program": program.pk}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["email"]
    assert Invitation.objects.count() == 0
    assert mail.outbox == []


def test_only_published_programs_can_be_chosen(coach_client, program):
    hidden = Program.objects.create(
        slug="hidden", name="Hidden", summary="-", weeks=4, is_published=False
    )
    response = coach_client.post(
        reverse("invitations"), {"email": "a@example.com", "program": hidden.pk}
    )
    assert response.context["form"].errors["program"]
    assert Invitation.objects.count() == 0


def test_when_the_email_fails_the_coach_gets_the_link_to_copy(coach_client, program, monkeypatch):
    def refuse(**kwargs):
        raise smtplib.SMTPServerDisconnected("gone")

    monkeypatch.setattr(invitation_views, "send_mail", refuse)
    response = coach_client.post(
        reverse("invitations"), {"email": "new.mum@example.com", "program": program.pk}
    )
    assert response.status_code == 200
    invitation = Invitation.objects.get()
    content = response.content.decode()
    assert "We could not email new.mum@example.com" in content
    assert links.absolute(accept_url(invitation)) in content


def test_an_enrollee_cannot_open_the_invitations_page(member):
    assert member.get(reverse("invitations")).status_code == 403
    assert member.post(reverse("invitations"), {"email": "a@example.com"}).status_code == 403
    assert Invitation.objects.count() == 0


def test_logged_out_is_sent_to_log_in(client):
    response = client.get(reverse("invitations"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# Accepting


def test_the_whole_way_from_the_email_to_her_coach(coach_client, client, coach, program):
    coach_client.post(
        reverse("invitations"), {"email": "new.mum@example.com", "program": program.pk}
    )
    coach_client.logout()
    path = link_in(mail.outbox[0]).removeprefix("http://127.0.0.1:8000")

    response = client.get(path)
    location = urlsplit(response["Location"])
    assert location.path == reverse("signup")
    assert parse_qs(location.query) == {"next": [path]}

    page = client.get(response["Location"])
    assert page.context["form"]["email"].value() == "new.mum@example.com"
    assert page.context["next"] == path

    response = client.post(
        reverse("signup"),
        {
            "first_name": "Nadia",
            "email": "new.mum@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "next": path,
        },
    )
    assert response["Location"] == reverse("signup_sent")
    # She confirms her address from her phone's mail app: another browser, no invitation in
    # its session; the confirmation brings her back through the invitation link.
    confirm = re.search(r"http://\S+(/accounts/signup/confirm/\S+)", mail.outbox[-1].body)[1]
    client = Client()
    response = client.post(confirm, {"next": client.get(confirm).context["next"]})
    assert response["Location"] == path
    response = client.get(path)
    assert response["Location"] == reverse("enrol", args=[program.slug])
    response = client.post(response["Location"], enrol_answers())
    assert response.status_code == 302

    enrolment = Enrolment.objects.get()
    invitation = Invitation.objects.get()
    assert enrolment.user.email == "new.mum@example.com"
    assert enrolment.coach == coach
    assert invitation.accepted_by == enrolment.user
    assert invitation.accepted_at is not None
    assert invitation_views.SESSION_KEY not in client.session


def test_logged_in_she_goes_straight_to_enrol(member, coach, program):
    invitation = invite(coach, program, email="amira@example.com")
    response = member.get(accept_url(invitation))
    assert response["Location"] == reverse("enrol", args=[program.slug])
    member.post(response["Location"], enrol_answers())
    assert Enrolment.objects.get().coach == coach


def test_someone_else_logged_in_gets_a_clear_page_and_no_coach(member, coach, program):
    invitation = invite(coach, program, email="jo.bloggs@example.com")
    response = member.get(accept_url(invitation))
    assert response.status_code == 403
    content = response.content.decode()
    assert (
        "This invitation was sent to j…@…; log out to accept it, or ask your coach for a new one."
        in content
    )
    assert "jo.bloggs" not in content
    assert invitation_views.SESSION_KEY not in member.session

    member.post(reverse("enrol", args=[program.slug]), enrol_answers())
    assert Enrolment.objects.get().coach is None
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_the_invited_person_logged_in_does_not_get_that_page(member, coach, program):
    response = member.get(accept_url(invite(coach, program, email="AMIRA@example.com")))
    assert response.status_code == 302
    assert "log out to accept it" not in member.get(response["Location"]).content.decode()


def test_an_invitation_left_in_the_browser_does_not_follow_the_next_person(
    client, coach, program, user
):
    """Someone opens the link on a shared computer and leaves; another person logs in there
    and enrols. The coach who invited someone else does not become hers."""
    invitation = invite(coach, program, email="jo.bloggs@example.com")
    client.get(accept_url(invitation))
    assert client.session[invitation_views.SESSION_KEY] == invitation.pk
    client.post(reverse("login"), {"username": user.email, "password": PASSWORD})
    client.post(reverse("enrol", args=[program.slug]), enrol_answers())
    assert Enrolment.objects.get(user=user).coach is None
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_a_tampered_link_is_refused(client, coach, program):
    token = links.invitation_token(invite(coach, program).pk)
    response = client.get(reverse("accept_invitation", args=[token[:-2] + "xx"]))
    assert response.status_code == 400
    assert "not valid" in response.content.decode()
    assert invitation_views.SESSION_KEY not in client.session


def test_an_expired_link_is_refused(client, coach, program, clock):
    url = accept_url(invite(coach, program))
    clock("2026-03-24 09:01", "Europe/London")  # 14 days and a minute later
    response = client.get(url)
    assert response.status_code == 400
    assert "expired" in response.content.decode()


def test_an_accepted_invitation_is_not_used_again(client, coach, program, user, other_user):
    invitation = invite(coach, program, email="bea@example.com")
    Invitation.objects.filter(pk=invitation.pk).update(
        accepted_at=invitation.created_at, accepted_by=user
    )
    client.force_login(other_user)
    response = client.get(accept_url(invitation), follow=True)
    assert response.status_code == 200
    assert "already been accepted" in response.content.decode()
    assert invitation_views.SESSION_KEY not in client.session

    client.post(reverse("enrol", args=[program.slug]), enrol_answers())
    assert Enrolment.objects.get(user=other_user).coach is None
    invitation.refresh_from_db()
    assert invitation.accepted_by == user


def test_an_invitation_taken_meanwhile_does_not_reassign(member, coach, program, other_user):
    """Two people opened one link: the first to enrol gets the coach, the second does not."""
    invitation = invite(coach, program, email="amira@example.com")
    member.get(accept_url(invitation))
    Invitation.objects.filter(pk=invitation.pk).update(
        accepted_at=invitation.created_at, accepted_by=other_user
    )
    member.post(reverse("enrol", args=[program.slug]), enrol_answers())
    assert Enrolment.objects.get().coach is None
    assert invitation_views.SESSION_KEY not in member.session
    invitation.refresh_from_db()
    assert invitation.accepted_by == other_user


def test_an_invitation_to_another_program_waits_for_that_one(member, coach, program):
    other = Program.objects.create(slug="other", name="Other", summary="-", weeks=4)
    invitation = invite(coach, other, email="amira@example.com")
    member.get(accept_url(invitation))
    member.post(reverse("enrol", args=[program.slug]), enrol_answers())
    assert Enrolment.objects.get().coach is None
    assert member.session[invitation_views.SESSION_KEY] == invitation.pk
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_a_failed_enrolment_leaves_the_invitation_pending(member, coach, program):
    invitation = invite(coach, program, email="amira@example.com")
    member.get(accept_url(invitation))
    response = member.post(
        reverse("enrol", args=[program.slug]), enrol_answers(weeks_postpartum="200")
    )
    assert response.status_code == 200
    invitation.refresh_from_db()
    assert invitation.accepted_at is None
    assert member.session[invitation_views.SESSION_KEY] == invitation.pk


def test_a_withdrawn_program_link_is_gone(client, coach, program):
    invitation = invite(coach, program)
    Program.objects.filter(pk=program.pk).update(is_published=False)
    assert client.get(accept_url(invitation)).status_code == 410


# Her settings


def test_a_coach_opens_her_settings_and_gets_a_profile(coach_client, coach):
    response = coach_client.get(reverse("coach_settings"))
    assert response.status_code == 200
    assert CoachProfile.objects.get(user=coach).email_digest is True


def test_saving_settings_plans_her_digest(coach_client, coach, replanning):
    with replanning():
        response = coach_client.post(
            reverse("coach_settings"),
            {"timezone": "Europe/London", "digest_time": "18:00", "email_digest": "on"},
        )
    assert response.status_code == 302
    profile = CoachProfile.objects.get(user=coach)
    assert (profile.timezone, profile.digest_time) == ("Europe/London", time(18, 0))
    keys = list(Notification.objects.filter(recipient=coach).values_list("key", flat=True))
    assert keys == ["2026-03-10", "2026-03-11"]


def test_a_bad_time_zone_is_refused_on_its_field(coach_client, coach):
    response = coach_client.post(
        reverse("coach_settings"),
        {"timezone": "Mars/Olympus", "digest_time": "07:30", "email_digest": "on"},
    )
    assert response.context["form"].errors["timezone"]
    assert CoachProfile.objects.get(user=coach).timezone == "UTC"


def test_an_enrollee_has_no_coach_settings(member):
    assert member.get(reverse("coach_settings")).status_code == 403


def test_invitation_tokens_round_trip_and_expire(now):
    token = links.invitation_token(42)
    assert links.read_invitation(token) == 42
    with pytest.raises(links.BadLink):
        links.read_invitation(links.invitation_token(42) + "x")
    assert timedelta(days=14) == links.INVITATION_MAX_AGE
