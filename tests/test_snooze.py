"""Snoozing one session reminder from its email, without logging in."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail, signing
from django.urls import reverse

from programs import delivery, links, planning
from programs.models import Notification, SessionLog

pytestmark = pytest.mark.django_db
SITE = "http://127.0.0.1:8000"
LINK = re.compile(r"- (In an hour|This evening|Tomorrow): (\S+)")


@pytest.fixture
def reminded(make_enrolment, clock):
    """She was sent 4 March's session reminder at 08:00 London time; returns her enrolment and
    its snooze links by label."""
    now = clock("2026-03-04 06:00", "Europe/London")
    enrolment = make_enrolment()
    planning.plan_for(enrolment, now)
    sent_at = clock("2026-03-04 08:00:30", "Europe/London")
    assert delivery.send_due(clock=lambda: sent_at).sent == 1
    (message,) = mail.outbox
    return enrolment, {label: url.removeprefix(SITE) for label, url in LINK.findall(message.body)}


def snoozes():
    return list(
        Notification.objects.filter(kind="snooze").values_list("key", "status", "scheduled_for")
    )


def test_a_session_reminder_offers_three_snoozes_in_both_parts(reminded):
    enrolment, found = reminded
    assert list(found) == ["In an hour", "This evening", "Tomorrow"]
    html = mail.outbox[0].alternatives[0][0]
    assert all(SITE + path in html for path in found.values())
    # Ids and a choice only: nothing about her or her health.
    for path in found.values():
        token = path.removeprefix("/email/snooze/").rstrip("/")
        data = signing.loads(token, salt=links.SNOOZE_SALT)
        assert set(data) == {"n", "s"}


def test_opening_a_snooze_link_asks_first_and_changes_nothing(client, reminded, clock):
    _, found = reminded
    clock("2026-03-04 08:05", "Europe/London")
    response = client.get(found["This evening"])
    assert response.status_code == 200
    assert b"Remind me this evening" in response.content
    assert snoozes() == []


def test_snoozing_till_this_evening_plans_one_row_at_seven_her_time(client, reminded, clock):
    enrolment, found = reminded
    clock("2026-03-04 08:05", "Europe/London")
    response = client.post(found["This evening"])
    assert "We'll remind you today at 19:00" in response.content.decode()
    assert snoozes() == [("2026-03-04", "pending", datetime(2026, 3, 4, 19, tzinfo=UTC))]
    # Planning keeps it where she put it, and the day's evening follow-up gives way to it.
    assert Notification.objects.get(kind="evening", key="2026-03-04").status == "pending"
    planning.plan_for(enrolment, datetime(2026, 3, 4, 8, 6, tzinfo=UTC))
    assert snoozes() == [("2026-03-04", "pending", datetime(2026, 3, 4, 19, tzinfo=UTC))]
    assert Notification.objects.get(kind="evening", key="2026-03-04").status == "cancelled"


def test_snoozing_again_moves_the_same_row(client, reminded, clock):
    _, found = reminded
    clock("2026-03-04 08:05", "Europe/London")
    client.post(found["This evening"])
    response = client.post(found["In an hour"])
    assert "We'll remind you today at 09:05" in response.content.decode()
    assert snoozes() == [("2026-03-04", "pending", datetime(2026, 3, 4, 9, 5, tzinfo=UTC))]


def test_the_snooze_is_sent_with_the_days_exercises_and_only_once(client, reminded, clock):
    _, found = reminded
    clock("2026-03-04 08:05", "Europe/London")
    client.post(found["In an hour"])
    due = clock("2026-03-04 09:05:30", "Europe/London")
    delivery.send_due(clock=lambda: due)
    snoozed = [m for m in mail.outbox if m.subject == "Your reminder, as you asked"]
    assert len(snoozed) == 1
    assert "Breathing 1" in snoozed[0].body
    assert snoozes()[0][1] == "sent"
    response = client.post(found["This evening"])
    assert "We already reminded you again" in response.content.decode()
    assert snoozes()[0][1] == "sent"


def test_pausing_cancels_a_snooze(client, reminded, clock, replanning):
    enrolment, found = reminded
    now = clock("2026-03-04 08:05", "Europe/London")
    client.post(found["This evening"])
    with replanning():
        enrolment.pause(now)
    assert snoozes()[0][1] == "cancelled"
    response = client.post(found["This evening"])
    assert "No reminder will come then" in response.content.decode()
    assert snoozes()[0][1] == "cancelled"


def test_a_withdrawn_program_says_so_and_snoozes_nothing(client, reminded, clock):
    enrolment, found = reminded
    enrolment.withdraw(clock("2026-03-04 08:05", "Europe/London"))
    response = client.post(found["In an hour"])
    assert "Your program has ended" in response.content.decode()
    assert snoozes() == []


def test_a_session_logged_since_needs_no_snooze(client, reminded, clock):
    enrolment, found = reminded
    clock("2026-03-04 08:05", "Europe/London")
    prescription = enrolment.program.stages.get(slug="breathing").prescriptions.first()
    SessionLog.objects.create(
        enrolment=enrolment, prescription=prescription, local_date=date(2026, 3, 4)
    )
    response = client.post(found["This evening"])
    assert "No reminder needed" in response.content.decode()
    assert snoozes() == []


def test_this_evening_once_it_has_passed_offers_tomorrow(client, reminded, clock):
    _, found = reminded
    clock("2026-03-04 19:30", "Europe/London")
    response = client.post(found["This evening"])
    page = response.content.decode()
    assert "This evening has already passed" in page
    assert snoozes() == []
    tomorrow = re.search(r'href="http://127.0.0.1:8000(/email/snooze/[^"]+)"', page).group(1)
    response = client.post(tomorrow)
    assert "We'll remind you tomorrow at 08:00" in response.content.decode()


def test_tomorrow_at_her_usual_time_is_her_usual_reminder_not_a_second(client, reminded, clock):
    _, found = reminded
    clock("2026-03-04 08:05", "Europe/London")
    page = client.post(found["Tomorrow"]).content.decode()
    assert "We'll remind you tomorrow at 08:00" in page
    assert "one email, not two" in page
    assert snoozes() == []
    usual = Notification.objects.get(scheduled_for=datetime(2026, 3, 5, 8, tzinfo=UTC))
    assert usual.status == "pending"


def test_tomorrow_without_a_reminder_of_its_own_gets_the_snooze(client, reminded, clock):
    enrolment, found = reminded
    enrolment.reminder_days = {"3": None}  # no reminder on Thursdays
    enrolment.save()
    clock("2026-03-04 08:05", "Europe/London")
    page = client.post(found["Tomorrow"]).content.decode()
    assert "We'll remind you tomorrow at 08:00" in page
    assert snoozes() == [("2026-03-04", "pending", datetime(2026, 3, 5, 8, tzinfo=UTC))]


def test_an_expired_snooze_link_is_refused(client, reminded, clock):
    _, found = reminded
    clock("2026-03-05 08:01", "Europe/London")
    response = client.post(found["Tomorrow"])
    assert response.status_code == 400
    assert b"This snooze link has expired" in response.content
    assert snoozes() == []


@pytest.mark.parametrize("token", ["nonsense", signing.dumps({"n": 1, "s": "year"}, salt="x")])
def test_a_bad_snooze_link_is_refused(client, reminded, token):
    response = client.post(reverse("snooze", args=[token]))
    assert response.status_code == 400
    assert snoozes() == []


def test_a_link_for_another_kind_of_email_snoozes_nothing(client, reminded, clock):
    enrolment, _ = reminded
    clock("2026-03-04 08:05", "Europe/London")
    checkin = Notification.objects.create(
        enrolment=enrolment,
        recipient=enrolment.user,
        kind="checkin",
        key="week-1",
        scheduled_for=datetime(2026, 3, 4, 8, tzinfo=UTC),
        due_at=datetime(2026, 3, 4, 8, tzinfo=UTC),
        status="sent",
    )
    response = client.post(links.snooze_url(checkin.pk, "hour").removeprefix(SITE))
    assert "There's nothing to snooze" in response.content.decode()
    assert snoozes() == []


def test_new_york_evening_is_seven_there(client, make_enrolment, clock):
    now = clock("2026-03-04 06:00", "America/New_York")
    enrolment = make_enrolment(timezone="America/New_York")
    planning.plan_for(enrolment, now)
    sent_at = clock("2026-03-04 08:00:30", "America/New_York")
    delivery.send_due(clock=lambda: sent_at)
    found = dict(LINK.findall(mail.outbox[0].body))
    clock("2026-03-04 09:00", "America/New_York")
    response = client.post(found["This evening"].removeprefix(SITE))
    assert "We'll remind you today at 19:00" in response.content.decode()
    assert snoozes()[0][2] == datetime(2026, 3, 5, 0, tzinfo=UTC)  # 19:00 EST
    assert snoozes()[0][2] - timedelta(hours=5) == datetime(2026, 3, 4, 19, tzinfo=UTC)
