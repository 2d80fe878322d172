"""Her email preferences and one-click unsubscribe."""

import re
from datetime import UTC, datetime, time

import pytest
from django.urls import reverse

from programs import links, notifications, planning
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


# Her own time on each weekday


def weekly(**days):
    data = {"reminder_time": "08:00", "timezone": "Europe/London", "email_session": "on"}
    data.update(days)
    return data


def test_the_page_offers_each_weekday_and_every_preference(member, enrolment):
    page = member.get(reverse("preferences", args=[enrolment.pk])).content.decode()
    for day in ("Monday", "Sunday"):
        assert f'name="day_{("Monday", "Sunday").index(day) * 6}"' in page
        assert f"No reminder on {day}s" in page
    for preference in notifications.PREFERENCES.values():
        assert preference.label in page


def test_other_times_and_a_day_off_are_saved_and_replanned(member, enrolment, replanning):
    planning.plan_for(enrolment, enrolment.created_at)  # Wednesday 4 March, 06:00
    with replanning():
        response = member.post(
            reverse("preferences", args=[enrolment.pk]),
            weekly(day_3="07:15", off_4="on", day_0="08:00", email_evening="on"),
        )
    assert response.status_code == 302
    enrolment.refresh_from_db()
    # Monday at the usual time is nothing to store.
    assert enrolment.reminder_days == {"3": "07:15", "4": None}
    pending = dict(
        Notification.objects.filter(kind="session", status="pending").values_list(
            "key", "scheduled_for"
        )
    )
    assert pending == {
        "2026-03-04": datetime(2026, 3, 4, 8, 0, tzinfo=UTC),  # Wednesday: the usual time
        "2026-03-05": datetime(2026, 3, 5, 7, 15, tzinfo=UTC),  # Thursday: her own
    }
    planning.plan_for(enrolment, datetime(2026, 3, 5, 12, tzinfo=UTC))  # up to Saturday noon
    assert not Notification.objects.filter(key="2026-03-06").exists()  # Friday: none at all
    assert Notification.objects.filter(key="2026-03-07", kind="session").exists()
    page = member.get(reverse("preferences", args=[enrolment.pk])).content.decode()
    assert 'name="day_3" value="07:15"' in page
    assert re.search(r'name="off_4"[^>]*checked', page)


@pytest.mark.parametrize(
    ("days", "message"),
    [
        ({"day_2": "25:99"}, "Enter Wednesday&#x27;s time like 07:30, or leave it empty."),
        (
            {"day_2": "07:00", "off_2": "on"},
            "Choose a time or no reminder for Wednesday, not both.",
        ),
    ],
)
def test_bad_weekday_times_change_nothing(member, enrolment, days, message):
    enrolment.reminder_days = {"0": "06:45"}
    enrolment.save()
    response = member.post(
        reverse("preferences", args=[enrolment.pk]), weekly(reminder_time="09:00", **days)
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    enrolment.refresh_from_db()
    assert enrolment.reminder_days == {"0": "06:45"}
    assert enrolment.reminder_time == time(8, 0)


def test_saving_without_touching_the_days_keeps_every_day_at_the_usual_time(member, enrolment):
    member.post(reverse("preferences", args=[enrolment.pk]), weekly(reminder_time="07:00"))
    enrolment.refresh_from_db()
    assert (enrolment.reminder_days, enrolment.reminder_time) == ({}, time(7, 0))
    assert enrolment.weekday_times == ()


def test_the_evening_follow_up_can_be_turned_off_from_its_email(client, enrolment):
    client.post(unsubscribe_path(enrolment, "evening"))
    enrolment.refresh_from_db()
    assert (enrolment.email_evening, enrolment.email_session) == (False, True)
