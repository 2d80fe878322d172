"""Her email preferences and one-click unsubscribe."""

from datetime import time

import pytest
from django.urls import reverse

from programs import links, planning
from programs.models import Enrolment, Notification

pytestmark = pytest.mark.django_db
SITE = "http://127.0.0.1:8000"


@pytest.fixture
def enrolment(make_enrolment, clock):
    clock("2026-03-04 06:00", "Europe/London")
    return make_enrolment()


def unsubscribe_path(enrolment, kind="session"):
    return links.unsubscribe_url(enrolment.pk, kind).removeprefix(SITE)


def test_one_click_unsubscribe_by_post_without_logging_in(client, enrolment):
    response = client.post(unsubscribe_path(enrolment), {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert b"You're unsubscribed" in response.content
    enrolment.refresh_from_db()
    assert enrolment.email_session is False
    assert enrolment.email_checkin is True


def test_unsubscribe_link_opened_in_a_browser_asks_first(client, enrolment):
    response = client.get(unsubscribe_path(enrolment, "checkin"))
    assert b"Unsubscribe?" in response.content
    assert b"weekly check-ins" in response.content
    enrolment.refresh_from_db()
    assert enrolment.email_checkin is True


def test_replayed_unsubscribe_is_harmless(client, enrolment):
    for _ in range(3):
        assert client.post(unsubscribe_path(enrolment, "nudge")).status_code == 200
    enrolment.refresh_from_db()
    assert enrolment.email_nudge is False
    assert b"already unsubscribed" in client.get(unsubscribe_path(enrolment, "nudge")).content


def test_unsubscribing_cancels_pending_reminders_of_that_kind(client, enrolment, replanning):
    planning.plan_for(enrolment, enrolment.created_at)
    assert Notification.objects.filter(kind="session", status="pending").exists()
    with replanning():
        client.post(unsubscribe_path(enrolment))
    assert not Notification.objects.filter(kind="session", status="pending").exists()


@pytest.mark.parametrize("token", ["nonsense", "eyJlIjoxfQ:1abc:def"])
def test_a_bad_unsubscribe_token_is_refused_and_changes_nothing(client, enrolment, token):
    response = client.post(reverse("unsubscribe", args=[token]))
    assert response.status_code == 400
    enrolment.refresh_from_db()
    assert enrolment.email_session is True


def test_a_token_for_a_deleted_enrolment_is_calm(client, enrolment):
    path = unsubscribe_path(enrolment)
    Enrolment.objects.all().delete()
    assert b"nothing to unsubscribe" in client.post(path).content


def test_preferences_page_saves_and_replans(member, enrolment, replanning):
    planning.plan_for(enrolment, enrolment.created_at)
    with replanning():
        response = member.post(
            reverse("preferences", args=[enrolment.pk]),
            {"reminder_time": "19:15", "timezone": "Asia/Kolkata", "email_checkin": "on"},
        )
    assert response.status_code == 302
    enrolment.refresh_from_db()
    assert (enrolment.reminder_time, enrolment.timezone) == (time(19, 15), "Asia/Kolkata")
    assert (enrolment.email_session, enrolment.email_checkin) == (False, True)
    assert not Notification.objects.filter(kind="session", status="pending").exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("reminder_time", "25:61", "Enter a valid time"),
        ("timezone", "Nowhere/Town", "valid choice"),
    ],
)
def test_bad_preferences_change_nothing(member, enrolment, field, value, message):
    data = {"reminder_time": "09:00", "timezone": "Europe/London", field: value}
    response = member.post(reverse("preferences", args=[enrolment.pk]), data)
    assert message in response.content.decode()
    enrolment.refresh_from_db()
    assert (enrolment.reminder_time, enrolment.timezone) == (time(8, 0), "Europe/London")
    assert enrolment.email_session is True


def test_someone_elses_preferences_are_not_found(client, enrolment, other_user):
    client.force_login(other_user)
    assert client.get(reverse("preferences", args=[enrolment.pk])).status_code == 404
