"""The evening follow-up: planned at 19:00 her time on a training day, dropped once she logs."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail

from programs import delivery, planning
from programs.models import Notification, SessionLog

pytestmark = pytest.mark.django_db


def evenings():
    return list(
        Notification.objects.filter(kind="evening").values_list("key", "status", "scheduled_for")
    )


def log_session(enrolment, day):
    prescription = enrolment.program.stages.get(slug="breathing").prescriptions.first()
    SessionLog.objects.create(enrolment=enrolment, prescription=prescription, local_date=day)


@pytest.mark.parametrize(
    ("zone", "now", "day", "expected"),
    [
        ("Europe/London", "2026-03-04 06:00", "2026-03-04", datetime(2026, 3, 4, 19, tzinfo=UTC)),
        # The clocks went forward that morning: 19:00 BST is 18:00 UTC.
        ("Europe/London", "2026-03-29 06:00", "2026-03-29", datetime(2026, 3, 29, 18, tzinfo=UTC)),
        (
            "Asia/Kathmandu",
            "2026-03-04 06:00",
            "2026-03-04",
            datetime(2026, 3, 4, 13, 15, tzinfo=UTC),
        ),
    ],
)
def test_planned_at_seven_her_time(make_enrolment, clock, zone, now, day, expected):
    enrolment = make_enrolment(timezone=zone)
    log_session(enrolment, date.fromisoformat(day) - timedelta(days=1))  # no nudge due
    planning.plan_for(enrolment, clock(now, zone))
    assert (day, "pending", expected) in evenings()


def test_logging_a_session_cancels_that_days_follow_up(make_enrolment, clock, replanning):
    enrolment = make_enrolment()
    planning.plan_for(enrolment, clock("2026-03-04 06:00", "Europe/London"))
    assert ("2026-03-04", "pending") in [row[:2] for row in evenings()]
    clock("2026-03-04 12:00", "Europe/London")
    with replanning():
        log_session(enrolment, date(2026, 3, 4))
    assert ("2026-03-04", "cancelled") in [row[:2] for row in evenings()]


def test_sent_when_nothing_is_logged_and_she_can_turn_it_off(make_enrolment, clock):
    enrolment = make_enrolment()
    planning.plan_for(enrolment, clock("2026-03-04 06:00", "Europe/London"))
    due = clock("2026-03-04 19:00:30", "Europe/London")
    delivery.send_due(clock=lambda: due)
    (message,) = [m for m in mail.outbox if m.subject == "Still time for a few minutes today"]
    assert "/email/unsubscribe/" in message.extra_headers["List-Unsubscribe"]
    assert "Breathing 1" in message.body
    assert Notification.objects.get(kind="evening", key="2026-03-04").status == "sent"


def test_checked_again_when_due_even_before_replanning(make_enrolment, clock):
    enrolment = make_enrolment()
    planning.plan_for(enrolment, clock("2026-03-04 06:00", "Europe/London"))
    log_session(enrolment, date(2026, 3, 4))  # no planner has run since
    due = clock("2026-03-04 19:00:30", "Europe/London")
    delivery.send_due(clock=lambda: due)
    assert Notification.objects.get(kind="evening", key="2026-03-04").status == "cancelled"
    assert not [m for m in mail.outbox if "few minutes" in m.subject]
