"""Her calendar feed: a signed address, her sessions and stage openings, and a reset."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from icalendar import Calendar

from programs import links

pytestmark = pytest.mark.django_db
SITE = "http://127.0.0.1:8000"
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def enrolment(make_enrolment, clock):
    clock("2026-03-22 12:00", "Europe/London")  # a week before the clocks go forward
    return make_enrolment()


def feed_path(enrolment):
    enrolment.refresh_from_db()
    return links.calendar_url(enrolment.pk, enrolment.calendar_secret).removeprefix(SITE)


def events(client, enrolment):
    response = client.get(feed_path(enrolment))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    return list(calendar.walk("VEVENT"))


def sessions(found):
    return {
        event.decoded("dtstart").date(): event.decoded("dtstart")
        for event in found
        if "session" in str(event.get("summary"))
    }


def test_each_session_is_at_her_time_across_the_clock_change(client, enrolment):
    found = sessions(events(client, enrolment))
    saturday, sunday = found[date(2026, 3, 28)], found[date(2026, 3, 29)]
    assert (saturday.time(), sunday.time()) == (time(8), time(8))
    assert saturday.tzinfo is not None and sunday.tzinfo is not None
    assert saturday.utcoffset() == timedelta(0)
    assert sunday.utcoffset() == timedelta(hours=1)  # 08:00 BST is 07:00 UTC
    # The rest of her program, from today to its last day (6 weeks from 2 March).
    assert min(found) == date(2026, 3, 22) and max(found) == date(2026, 4, 12)


def test_the_feed_names_its_zone(client, enrolment):
    response = client.get(feed_path(enrolment))
    assert b"TZID=Europe/London" in response.content
    assert b"BEGIN:VTIMEZONE" in response.content


def test_stage_openings_are_whole_days(client, enrolment):
    openings = [e for e in events(client, enrolment) if "New stage" in str(e.get("summary"))]
    assert [(str(e.get("summary")), e.decoded("dtstart")) for e in openings] == [
        ("New stage opens: Glute strength", date(2026, 3, 23))
    ]


def test_her_own_weekday_times_are_in_the_feed(client, enrolment, clock):
    enrolment.reminder_days = {"0": "07:30", "1": None}
    enrolment.save()
    found = sessions(events(client, enrolment))
    assert found[date(2026, 3, 30)].time() == time(7, 30)  # a Monday, after the change
    assert found[date(2026, 3, 30)].utcoffset() == timedelta(hours=1)
    assert found[date(2026, 3, 31)].time() == time(8)  # no email that Tuesday: usual time


def test_the_feed_follows_her_plan(client, enrolment, clock):
    before = sessions(events(client, enrolment))
    enrolment.pause(datetime(2026, 3, 22, 12, tzinfo=LONDON))
    assert events(client, enrolment) == []
    enrolment.refresh_from_db()
    enrolment.resume(clock("2026-03-24 12:00", "Europe/London"))
    later = sessions(events(client, enrolment))
    # From tomorrow (she was still paused at 08:00 today), to two days later than before.
    assert (min(later), max(later)) == (date(2026, 3, 25), max(before) + timedelta(days=2))
    enrolment.withdraw(datetime(2026, 3, 22, 13, tzinfo=LONDON))
    assert events(client, enrolment) == []


def test_no_health_data_or_name_in_the_feed(client, enrolment):
    body = client.get(feed_path(enrolment)).content.decode()
    for private in ("Amira", "amira@example.com", "pain", "leak", "symptom"):
        assert private.lower() not in body.lower()


def test_a_wrong_signature_finds_nothing(client, enrolment):
    path = reverse("calendar_feed", args=[enrolment.pk, "x" * 27])
    assert client.get(path).status_code == 404
    other = links.calendar_url(enrolment.pk + 1, "").removeprefix(SITE)
    assert client.get(other).status_code == 404


def test_resetting_the_link_revokes_the_old_one(member, enrolment):
    old = feed_path(enrolment)
    page = member.get(reverse("preferences", args=[enrolment.pk])).content.decode()
    assert "Add to your calendar" in page and SITE + old in page
    assert 'href="webcal://127.0.0.1:8000' + old + '"' in page
    response = member.post(reverse("reset_calendar", args=[enrolment.pk]), follow=True)
    assert "The old one no longer works" in response.content.decode()
    new = feed_path(enrolment)
    assert new != old
    assert member.get(old).status_code == 404
    assert member.get(new).status_code == 200
    assert SITE + new in response.content.decode()


def test_only_she_can_reset_her_link_and_only_by_post(client, member, enrolment, other_user):
    path = reverse("reset_calendar", args=[enrolment.pk])
    assert member.get(path).status_code == 405
    old = feed_path(enrolment)
    client.force_login(other_user)
    assert client.post(path).status_code == 404
    assert feed_path(enrolment) == old
