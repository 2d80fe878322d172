"""A coach's daily digest: planned at her local time, sent only when a client is flagged."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from programs import coaching, delivery, digests, notifications, planning, roles, safety
from programs.models import ClientStatus, CoachProfile, Hold, Notification, SessionLog

pytestmark = pytest.mark.django_db
User = get_user_model()
NOW = datetime(2026, 3, 4, 7, 0, tzinfo=UTC)  # 07:00 in London, half an hour before her digest
DUE = datetime(2026, 3, 4, 7, 30, 30, tzinfo=UTC)


def make_coach(email="carla@example.com", **profile):
    user = User.objects.create_user(email, email, first_name="Carla")
    roles.make_coach(user)
    values = {"timezone": "Europe/London", "digest_time": time(7, 30)}
    values.update(profile)
    CoachProfile.objects.create(user=user, **values)
    return user


@pytest.fixture
def coach(db):
    return make_coach()


@pytest.fixture
def make_client(make_enrolment, coach):
    """One of her clients, with a session logged the day before NOW: nothing flagged."""

    def make(email="amira@example.com", **overrides):
        user = User.objects.filter(email=email).first() or User.objects.create_user(
            email, email, first_name=email.split("@")[0].title()
        )
        enrolment = make_enrolment(user=user, coach=overrides.pop("coach", coach), **overrides)
        prescription = enrolment.program.stages.get(slug="breathing").prescriptions.first()
        SessionLog.objects.create(
            enrolment=enrolment, prescription=prescription, local_date=date(2026, 3, 3)
        )
        return enrolment

    return make


def digest_rows(**filters):
    return list(
        Notification.objects.filter(kind="coach_digest", **filters).values_list(
            "key", "scheduled_for", "status"
        )
    )


def hold(enrolment):
    return Hold.objects.create(enrolment=enrolment, tier=1, started_at=NOW - timedelta(hours=1))


# Planning


def test_her_digest_is_planned_at_her_local_time(coach):
    report = planning.plan_digests(NOW)
    assert (report.coaches, report.created) == (1, 2)
    assert digest_rows() == [
        ("2026-03-04", datetime(2026, 3, 4, 7, 30, tzinfo=UTC), "pending"),
        ("2026-03-05", datetime(2026, 3, 5, 7, 30, tzinfo=UTC), "pending"),
    ]
    row = Notification.objects.get(key="2026-03-04")
    assert (row.enrolment, row.recipient, row.due_at) == (None, coach, row.scheduled_for)


def test_across_the_spring_dst_change(db):
    """London skips 01:00 to 02:00 on 29 March 2026: a 01:30 digest goes at 02:00 BST."""
    make_coach(digest_time=time(1, 30))
    planning.plan_digests(datetime(2026, 3, 28, 2, 0, tzinfo=UTC))
    assert [(key, at) for key, at, _ in digest_rows()] == [
        ("2026-03-29", datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),  # 02:00 BST, after the gap
        ("2026-03-30", datetime(2026, 3, 30, 0, 30, tzinfo=UTC)),  # 01:30 BST
    ]


def test_across_the_autumn_dst_change(db):
    """New York's clocks go back at 02:00 on 1 November 2026: 08:00 is an hour later in UTC."""
    make_coach(timezone="America/New_York", digest_time=time(8, 0))
    planning.plan_digests(datetime(2026, 10, 31, 11, 0, tzinfo=UTC))
    assert [(key, at) for key, at, _ in digest_rows()] == [
        ("2026-10-31", datetime(2026, 10, 31, 12, 0, tzinfo=UTC)),  # 08:00 EDT
        ("2026-11-01", datetime(2026, 11, 1, 13, 0, tzinfo=UTC)),  # 08:00 EST
    ]


def test_planning_again_changes_nothing(coach):
    planning.plan_digests(NOW)
    before = list(Notification.objects.values())
    report = planning.plan_digests(NOW + timedelta(minutes=5))
    assert (report.created, report.moved, report.cancelled) == (0, 0, 0)
    assert list(Notification.objects.values()) == before


def test_a_new_time_moves_her_pending_digests(coach):
    planning.plan_digests(NOW)
    CoachProfile.objects.filter(user=coach).update(digest_time=time(18, 0))
    report = planning.plan_digests_for([coach.pk], NOW)
    assert report.moved == 2
    assert [at for _, at, _ in digest_rows()] == [
        datetime(2026, 3, 4, 18, 0, tzinfo=UTC),
        datetime(2026, 3, 5, 18, 0, tzinfo=UTC),
    ]
    assert Notification.objects.count() == 2


def test_a_new_time_zone_moves_and_cancels_what_no_longer_fits(coach):
    planning.plan_digests(NOW)
    CoachProfile.objects.filter(user=coach).update(timezone="Asia/Kolkata")  # 07:30 is 02:00 UTC
    planning.plan_digests_for([coach.pk], NOW)
    assert digest_rows() == [
        ("2026-03-04", datetime(2026, 3, 4, 7, 30, tzinfo=UTC), "cancelled"),  # passed there
        ("2026-03-05", datetime(2026, 3, 5, 2, 0, tzinfo=UTC), "pending"),
        ("2026-03-06", datetime(2026, 3, 6, 2, 0, tzinfo=UTC), "pending"),
    ]


def test_turning_it_off_cancels_and_on_again_brings_back(coach):
    planning.plan_digests(NOW)
    CoachProfile.objects.filter(user=coach).update(email_digest=False)
    assert planning.plan_digests_for([coach.pk], NOW).cancelled == 2
    assert {status for *_, status in digest_rows()} == {"cancelled"}
    assert planning.plan_digests(NOW).created == 0

    CoachProfile.objects.filter(user=coach).update(email_digest=True)
    assert planning.plan_digests_for([coach.pk], NOW).moved == 2
    assert {status for *_, status in digest_rows()} == {"pending"}


def test_turned_off_on_the_settings_page(client, coach, clock):
    planning.plan_digests(NOW)
    clock("2026-03-04 07:05")
    client.force_login(coach)
    unticked = {"timezone": "Europe/London", "digest_time": "07:30"}
    client.post("/coach/settings/", unticked)
    profile = CoachProfile.objects.get(user=coach)
    assert not profile.email_digest
    assert profile.planned_until is None  # marked: the next sweep plans her first
    planning.plan_digests(timezone.now())
    assert Notification.objects.filter(status="pending").count() == 0


def test_a_new_coach_gets_a_profile_with_the_digest_on(db):
    user = User.objects.create_user("new.coach@example.com", "new.coach@example.com")
    roles.make_coach(user)
    planning.plan_digests(NOW)
    profile = CoachProfile.objects.get(user=user)
    assert (profile.email_digest, profile.timezone, profile.digest_time) == (
        True,
        "UTC",
        time(7, 30),
    )
    assert len(digest_rows(recipient=user)) == 2


def test_no_digest_for_someone_who_is_no_longer_a_coach(coach):
    planning.plan_digests(NOW)
    coach.groups.clear()
    planning.plan_digests(NOW)
    assert {status for *_, status in digest_rows()} == {"cancelled"}


def test_planning_queries_grow_with_batches_not_coaches(db):
    def queries_for_planning():
        Notification.objects.all().delete()
        with CaptureQueriesContext(connection) as captured:
            report = planning.plan_digests(NOW, everyone=True, batch_size=10)
        return len(captured), report.batches

    for i in range(10):
        make_coach(f"c{i}@example.com")
    small, small_batches = queries_for_planning()
    for i in range(10, 40):
        make_coach(f"c{i}@example.com")
    large, large_batches = queries_for_planning()
    assert (small_batches, large_batches) == (1, 4)
    per_batch = (large - small) / (large_batches - small_batches)
    assert per_batch <= 8
    assert large <= small + per_batch * 3


# Sending


def test_nobody_flagged_no_digest(coach, make_client):
    make_client()
    planning.plan_digests(NOW)
    report = delivery.send_due(clock=lambda: DUE)
    assert (report.sent, report.cancelled) == (0, 1)
    assert mail.outbox == []
    assert digest_rows(key="2026-03-04")[0][2] == "cancelled"


def test_a_client_on_hold_brings_the_digest(coach, make_client):
    hold(make_client())
    planning.plan_digests(NOW)
    report = delivery.send_due(clock=lambda: DUE)
    assert report.sent == 1
    message = mail.outbox[0]
    assert message.to == ["carla@example.com"]
    assert message.subject == "1 client needs you today"
    assert "See a clinician: 1" in message.body
    assert "Urgent" not in message.subject + message.body
    assert "http://127.0.0.1:8000/coach/" in message.body
    assert "http://127.0.0.1:8000/coach/settings/" in message.body
    assert "List-Unsubscribe" not in message.extra_headers
    assert message.alternatives[0].mimetype == "text/html"
    assert digest_rows(key="2026-03-04")[0][2] == "sent"


def test_a_client_whose_reminders_fail_brings_the_digest(coach, make_client):
    enrolment = make_client()
    Notification.objects.create(
        enrolment=enrolment,
        recipient=enrolment.user,
        kind="session",
        key="2026-03-03",
        scheduled_for=NOW - timedelta(days=1),
        due_at=NOW - timedelta(days=1),
        status="failed",
    )
    planning.plan_digests(NOW)
    delivery.send_due(clock=lambda: DUE)
    assert len(mail.outbox) == 1
    assert "Reminders failing: 1" in mail.outbox[0].body


def test_it_counts_clients_per_flag(coach, make_client):
    for name in ("a", "b", "c"):
        hold(make_client(f"{name}@example.com"))
    make_client("d@example.com")  # fine
    planning.plan_digests(NOW)
    delivery.send_due(clock=lambda: DUE)
    message = mail.outbox[0]
    assert message.subject == "3 clients need you today"
    assert "3 of your clients need a look today" in message.body


def test_urgent_holds_are_counted_apart_and_first(coach, make_client):
    for name in ("a", "b"):
        hold(make_client(f"{name}@example.com"))
    Hold.objects.create(
        enrolment=make_client("c@example.com"), tier=2, started_at=NOW - timedelta(hours=1)
    )
    planning.plan_digests(NOW)
    delivery.send_due(clock=lambda: DUE)
    message = mail.outbox[0]
    assert message.subject == "Urgent: 1 client held by an urgent sign"
    assert "3 of your clients need a look today" in message.body
    assert "URGENT, held by an urgent sign: 1." in message.body
    assert "See a clinician: 2" in message.body
    assert message.body.index("URGENT") < message.body.index("See a clinician")
    html = message.alternatives[0].content
    assert "Urgent, held by an urgent sign: 1." in html


def test_summary_counts_urgent_apart_from_the_other_flags():
    urgent, hold, idle = coaching.Flag.URGENT, coaching.Flag.HOLD, coaching.Flag.IDLE
    summary = digests.summarise([(urgent, idle), (hold,), (urgent,), ()])
    assert (summary.flagged, summary.urgent) == (3, 2)
    assert summary.lines == [("See a clinician", 1), ("No session for 3+ days", 1)]
    assert digests.summarise([(hold,)]).urgent == 0


def test_only_her_own_clients_count(coach, make_client):
    other = make_coach("dee@example.com")
    hold(make_client(coach=other))
    planning.plan_digests(NOW)
    delivery.send_due(clock=lambda: DUE)
    assert [m.to for m in mail.outbox] == [["dee@example.com"]]


def test_a_staff_coach_counts_only_her_own_clients_too(make_client):
    staff = User.objects.create_user("staff@example.com", "staff@example.com", is_staff=True)
    CoachProfile.objects.create(user=staff, timezone="Europe/London")
    hold(make_client())  # someone else's client
    planning.plan_digests(NOW)
    assert len(digest_rows(recipient=staff)) == 2
    delivery.send_due(clock=lambda: DUE)
    assert "staff@example.com" not in [m.to[0] for m in mail.outbox]


def test_a_withdrawn_client_does_not_count(coach, make_client):
    enrolment = make_client()
    hold(enrolment)
    enrolment.withdraw(NOW)
    planning.plan_digests(NOW)
    delivery.send_due(clock=lambda: DUE)
    assert mail.outbox == []


def test_turned_off_after_planning_is_not_sent(coach, make_client):
    hold(make_client())
    planning.plan_digests(NOW)
    CoachProfile.objects.filter(user=coach).update(email_digest=False)
    assert delivery.send_due(clock=lambda: DUE).cancelled == 1
    assert mail.outbox == []


def test_a_digest_hours_late_is_dropped(coach, make_client):
    hold(make_client())
    planning.plan_digests(NOW)
    late = DUE + notifications.COACH_DIGEST.fresh_for + timedelta(minutes=1)
    report = delivery.send_due(clock=lambda: late)
    assert (report.sent, report.cancelled) == (0, 1)


def test_a_digest_cancelled_when_due_is_not_planned_again(coach, make_client):
    make_client()
    planning.plan_digests(NOW)
    delivery.send_due(clock=lambda: DUE)
    planning.plan_digests(DUE + timedelta(minutes=5))
    assert digest_rows(key="2026-03-04")[0][2] == "cancelled"


def test_no_health_data_in_the_digest(coach, make_client):
    from programs import checkins

    first = make_client()
    answers = {
        "pain": 9,
        "pain_sites": ["leg"],
        "warning_signs": list(safety.WARNING_SIGNS),
        "urgent_signs": ["calf"],
        "sessions_felt": "too_hard",
        "note": "My secret note about bleeding",
    }
    checkins.record(first, 1, {**answers, "pain": 2}, NOW - timedelta(hours=3))
    checkins.record(first, 1, answers, NOW - timedelta(hours=2))
    planning.plan_digests(NOW)
    delivery.send_due(clock=lambda: DUE)
    digest = next(m for m in mail.outbox if ".coach_digest@" in m.extra_headers["Message-ID"])
    assert digest.subject == "Urgent: 1 client held by an urgent sign"
    text = digest.subject + digest.body + digest.alternatives[0].content
    forbidden = ["Amira", "amira@example.com", answers["note"], "9/10", "pain: 9", "pain 9"]
    forbidden += ["/coach/clients/"]  # no link to her own page either
    forbidden += list(safety.WARNING_SIGNS.values()) + list(safety.URGENT_SIGNS.values())
    forbidden += list(safety.PAIN_SITES.values())
    for phrase in forbidden:
        assert phrase.lower() not in text.lower(), phrase


# The pure parts


def test_summarise_counts_clients_not_flags():
    hold, idle, pain = coaching.Flag.HOLD, coaching.Flag.IDLE, coaching.Flag.PAIN_UP
    summary = digests.summarise([(hold, pain), (), (idle, hold), ()])
    assert summary.flagged == 2
    assert summary.by_flag == ((hold, 2), (idle, 1), (pain, 1))
    assert digests.summarise([]).flagged == 0


def test_digest_times_are_one_a_local_day():
    tz = ZoneInfo("Pacific/Kiritimati")  # UTC+14
    start = datetime(2026, 3, 4, 0, 0, tzinfo=UTC)
    times = list(digests.digest_times(tz, time(9, 0), start, start + timedelta(hours=48)))
    assert times == [
        ("2026-03-05", datetime(2026, 3, 4, 19, 0, tzinfo=UTC)),
        ("2026-03-06", datetime(2026, 3, 5, 19, 0, tzinfo=UTC)),
    ]


def test_it_says_what_her_dashboard_shows_brought_up_to_date(coach, make_enrolment, clock):
    # Planned and stored on her start day; by the digest, days without a session have passed
    # with no event, and the roll-over has not reached her row yet.
    clock("2026-03-02 09:00", "Europe/London")
    enrolment = make_enrolment(coach=coach)
    status = ClientStatus.objects.get(pk=enrolment.pk)
    assert not status.idle and status.rolls_over_at < DUE
    clock("2026-03-11 07:30", "UTC")
    summary = digests.summaries([coach.pk], datetime(2026, 3, 11, 7, 30, tzinfo=UTC))
    assert dict(summary[coach.pk].by_flag) == {coaching.Flag.IDLE: 1}
    assert ClientStatus.objects.get(pk=enrolment.pk).idle


def test_its_queries_do_not_grow_with_her_clients(coach, make_client):
    make_client("a@example.com")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            digests.summaries([coach.pk], timezone.now())
        return len(captured)

    few = queries()
    for name in ("b", "c", "d"):
        hold(make_client(f"{name}@example.com"))
    assert queries() == few


def test_logging_in_leaves_her_digest_planned(client, coach):
    coach.set_password("a long passphrase 2026")
    coach.save()
    planning.plan_digests(NOW)
    planned = CoachProfile.objects.get(user=coach).planned_until
    assert planned is not None
    client.post(
        "/accounts/login/", {"username": coach.username, "password": "a long passphrase 2026"}
    )
    coach.refresh_from_db()
    assert coach.last_login is not None
    assert CoachProfile.objects.get(user=coach).planned_until == planned


def test_deactivating_her_marks_her_digest_for_planning(coach):
    planning.plan_digests(NOW)
    coach.is_active = False
    coach.save()
    assert CoachProfile.objects.get(user=coach).planned_until is None
