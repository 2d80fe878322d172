"""Every alert has an owner: the coach, or the clinic's address when there is no coach or the
coach does not acknowledge in time; all through the outbox, without health data."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from programs import alerts, checkins, delivery, safety
from programs.models import CheckIn, CoachAction, Hold, Notification

pytestmark = pytest.mark.django_db

CLINIC = "clinic@example.org"
T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
TIER1, URGENT = safety.Tier.SEE_CLINICIAN, safety.Tier.URGENT


@pytest.fixture
def clinic(settings):
    settings.CLINIC_ALERT_EMAIL = CLINIC
    settings.ALERT_ESCALATE_AFTER_TIER1 = 24 * 3600
    settings.ALERT_ESCALATE_AFTER_URGENT = 3600
    return CLINIC


@pytest.fixture
def no_clinic(settings):
    settings.CLINIC_ALERT_EMAIL = ""


@pytest.fixture
def alone(make_enrolment):
    """A mother who enrolled on her own: no coach."""
    return make_enrolment()


@pytest.fixture
def coached(make_enrolment, coach, other_user):
    return make_enrolment(user=other_user, coach=coach)


def check_in(enrolment, tier, at=T0):
    return CheckIn.objects.create(
        enrolment=enrolment,
        week=2,
        submitted_at=at,
        pain=3,
        warning_signs=["leaking"] if tier == TIER1 else [],
        urgent_signs=["calf"] if tier == URGENT else [],
        sessions_felt=CheckIn.Felt.RIGHT,
        note="A private note about leaking",
        tier=tier,
    )


def raise_hold(enrolment, tier, at=T0):
    """What a red-flag check-in does: open (or raise) her hold, then raise its alerts."""
    checkin = check_in(enrolment, tier, at)
    hold = enrolment.holds.filter(cleared_at__isnull=True).first()
    if hold is None:
        hold = Hold.objects.create(enrolment=enrolment, tier=tier, checkin=checkin, started_at=at)
    elif tier > hold.tier:
        hold.tier = tier
        hold.save(update_fields=["tier"])
    return hold, alerts.raise_for(hold, checkin, tier, at)


def clinic_rows():
    return list(
        Notification.objects.filter(kind="clinic_alert").values_list(
            "key", "address", "recipient", "due_at", "status"
        )
    )


def send_at(when):
    return delivery.send_due(clock=lambda: when)


# No coach: the clinic is alerted at once


def test_a_hold_without_a_coach_alerts_the_clinic_address(clinic, alone):
    hold, rows = raise_hold(alone, TIER1)
    assert [(r.kind, r.address, r.recipient_id) for r in rows] == [("clinic_alert", CLINIC, None)]
    assert clinic_rows() == [(f"flag-hold-{hold.pk}", CLINIC, None, T0, "pending")]
    assert not Notification.objects.filter(kind="coach_alert").exists()


def test_the_clinic_alert_is_really_sent_to_the_address_without_health_data(clinic, alone):
    raise_hold(alone, TIER1)
    report = send_at(T0 + timedelta(seconds=1))
    assert report.sent == 1
    message = mail.outbox[0]
    assert message.to == [CLINIC]
    assert message.subject == "A client without a coach needs attention"
    assert "A client with no coach raised a red flag" in message.body
    assert "It is urgent" not in message.body
    assert "http://127.0.0.1:8000/triage/" in message.body
    text = message.subject + message.body + message.alternatives[0].content
    forbidden = ["Amira", "amira@example.com", "private note", "leaking", "3/10", "/coach/"]
    forbidden += list(safety.WARNING_SIGNS.values()) + list(safety.URGENT_SIGNS.values())
    for phrase in forbidden:
        assert phrase.lower() not in text.lower(), phrase
    assert Notification.objects.get(kind="clinic_alert").status == "sent"


def test_an_urgent_hold_without_a_coach_is_marked_urgent(clinic, alone):
    raise_hold(alone, URGENT)
    send_at(T0 + timedelta(seconds=1))
    message = mail.outbox[0]
    assert message.subject == "Urgent: A client without a coach needs attention"
    assert "It is urgent" in message.body


def test_raised_to_urgent_without_a_coach_the_clinic_hears_again(clinic, alone):
    hold, _ = raise_hold(alone, TIER1)
    raise_hold(alone, URGENT, T0 + timedelta(hours=2))
    assert [k for k, *_ in clinic_rows()] == [f"flag-hold-{hold.pk}", f"urgent-hold-{hold.pk}"]


def test_no_clinic_address_no_clinic_rows(no_clinic, alone):
    _, rows = raise_hold(alone, URGENT)
    assert rows == []
    assert not Notification.objects.exists()


def test_raising_again_adds_nothing(clinic, alone, coached):
    hold, first = raise_hold(alone, TIER1)
    again = alerts.raise_for(hold, hold.checkin, TIER1, T0 + timedelta(minutes=5))
    assert [r.pk for r in again] == [r.pk for r in first]
    coached_hold, first = raise_hold(coached, URGENT)
    again = alerts.raise_for(coached_hold, coached_hold.checkin, URGENT, T0 + timedelta(hours=3))
    assert [r.pk for r in again] == [r.pk for r in first]
    assert Notification.objects.count() == 3
    assert Notification.objects.get(key=f"escalate-hold-{coached_hold.pk}").due_at == T0 + (
        timedelta(hours=1)
    )


def test_signs_reported_outside_a_check_in_alert_once_per_hold(clinic, coached):
    hold = Hold.objects.create(enrolment=coached, tier=URGENT, started_at=T0)
    first = alerts.raise_for(hold, None, URGENT, T0)
    again = alerts.raise_for(hold, None, URGENT, T0 + timedelta(minutes=1))
    assert [r.pk for r in first] == [r.pk for r in again]
    assert sorted(r.key for r in first) == [f"escalate-hold-{hold.pk}", f"urgent-hold-{hold.pk}"]


# A coach: her alert now, the clinic's escalation later


@pytest.mark.parametrize(
    "tier, after", [(TIER1, timedelta(hours=24)), (URGENT, timedelta(hours=1))]
)
def test_a_coach_alert_brings_an_escalation_due_after_the_tiers_delay(
    clinic, coached, coach, tier, after
):
    hold, rows = raise_hold(coached, tier)
    assert sorted((r.kind, r.recipient_id, r.address) for r in rows) == [
        ("clinic_alert", None, CLINIC),
        ("coach_alert", coach.pk, ""),
    ]
    assert clinic_rows() == [(f"escalate-hold-{hold.pk}", CLINIC, None, T0 + after, "pending")]


def test_the_delays_are_settings(clinic, settings, coached):
    settings.ALERT_ESCALATE_AFTER_URGENT = 600
    raise_hold(coached, URGENT)
    assert clinic_rows()[0][3] == T0 + timedelta(minutes=10)


def test_no_clinic_address_only_the_coach_is_alerted(no_clinic, coached):
    _, rows = raise_hold(coached, TIER1)
    assert [r.kind for r in rows] == ["coach_alert"]
    assert clinic_rows() == []


def test_raised_to_urgent_the_escalation_comes_sooner(clinic, coached):
    hold, _ = raise_hold(coached, TIER1)
    raised = T0 + timedelta(hours=2)
    raise_hold(coached, URGENT, raised)
    # The coach has the urgent delay from the urgent sign, and never longer than before.
    assert clinic_rows() == [
        (f"escalate-hold-{hold.pk}", CLINIC, None, raised + timedelta(hours=1), "pending")
    ]
    assert Notification.objects.filter(kind="coach_alert").count() == 2


def test_escalation_is_sent_when_nobody_acknowledged_in_time(clinic, coached):
    raise_hold(coached, URGENT)
    send_at(T0 + timedelta(seconds=1))  # the coach's own alert
    assert [m.to for m in mail.outbox] == [["dana@example.com"]]
    assert send_at(T0 + timedelta(minutes=59)).claimed == 0  # not yet due
    report = send_at(T0 + timedelta(hours=1, seconds=1))
    assert report.sent == 1
    message = mail.outbox[-1]
    assert message.to == [CLINIC]
    assert message.subject == "Urgent: An alert has not been acknowledged"
    assert "has not been acknowledged in time" in message.body
    assert "http://127.0.0.1:8000/triage/" in message.body


def test_an_escalation_says_urgent_when_the_hold_was_raised_since(clinic, coached):
    hold, _ = raise_hold(coached, TIER1)
    Hold.objects.filter(pk=hold.pk).update(tier=URGENT)  # raised without moving the row
    send_at(T0 + timedelta(hours=24, seconds=1))
    assert mail.outbox[-1].subject == "Urgent: An alert has not been acknowledged"


def test_escalation_is_cancelled_when_acknowledged_in_time(clinic, coached, coach):
    hold, _ = raise_hold(coached, TIER1)
    send_at(T0 + timedelta(seconds=1))
    alerts.acknowledge(coached, coach, T0 + timedelta(hours=3))
    report = send_at(T0 + timedelta(hours=24, seconds=1))
    assert (report.sent, report.cancelled) == (0, 1)
    assert [m.to for m in mail.outbox] == [["dana@example.com"]]
    assert clinic_rows()[0][4] == "cancelled"


def test_escalation_is_cancelled_when_the_hold_was_cleared(clinic, coached, coach):
    raise_hold(coached, URGENT)
    send_at(T0 + timedelta(seconds=1))
    checkins.clear_hold(coached, coach, T0 + timedelta(minutes=30))
    report = send_at(T0 + timedelta(hours=1, seconds=1))
    assert (report.sent, report.cancelled) == (0, 1)


def test_escalation_goes_even_after_she_withdrew(clinic, coached):
    raise_hold(coached, URGENT)
    coached.status = coached.Status.WITHDRAWN
    coached.save(update_fields=["status"])
    report = send_at(T0 + timedelta(hours=1, seconds=1))
    assert report.sent == 2


def test_checking_escalations_costs_a_fixed_number_of_queries(
    clinic, make_enrolment, coach, django_user_model
):
    def queries_for(count):
        Notification.objects.all().delete()
        mail.outbox.clear()
        for _ in range(count):
            user = django_user_model.objects.create_user(f"m{count}-{_}@example.com")
            raise_hold(make_enrolment(user=user, coach=coach), URGENT)
        Notification.objects.filter(kind="coach_alert").delete()
        with CaptureQueriesContext(connection) as queries:
            assert send_at(T0 + timedelta(hours=2)).sent == count
        return len(queries)

    one, four = queries_for(1), queries_for(4)
    assert four - one == 3  # only each message's own receipt


# Acknowledging


def test_acknowledging_is_recorded_on_the_hold_and_audited(clinic, coached, coach):
    hold, _ = raise_hold(coached, TIER1)
    at = T0 + timedelta(hours=1)
    acknowledged, done = alerts.acknowledge(coached, coach, at)
    assert done and acknowledged.pk == hold.pk
    hold.refresh_from_db()
    assert (hold.acknowledged_at, hold.acknowledged_by, hold.cleared_at) == (at, coach, None)
    action = CoachAction.objects.get()
    assert (action.kind, action.actor, action.at) == ("acknowledged", coach, at)


def test_acknowledging_twice_records_it_once(clinic, coached, coach):
    raise_hold(coached, TIER1)
    alerts.acknowledge(coached, coach, T0 + timedelta(hours=1))
    hold, done = alerts.acknowledge(coached, coach, T0 + timedelta(hours=2))
    assert not done
    assert hold.acknowledged_at == T0 + timedelta(hours=1)
    assert CoachAction.objects.count() == 1


def test_nothing_to_acknowledge_without_an_open_hold(coached, coach):
    with pytest.raises(ValidationError, match="no open alert"):
        alerts.acknowledge(coached, coach, T0)
    assert not CoachAction.objects.exists()
