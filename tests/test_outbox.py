"""The outbox in the database: planning rows, claiming them, sending each once."""

import smtplib
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.core import mail
from django.core.mail.message import sanitize_address
from django.db import connection
from django.test.utils import CaptureQueriesContext

from programs import delivery, emails, planning, safety
from programs.models import Enrolment, Notification, SessionLog

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 4, 7, 0, tzinfo=UTC)  # 07:00 in London, an hour before reminders


@pytest.fixture
def make_enrolment(make_enrolment):
    """Her enrolment, with a session logged the day before NOW so that no nudge is due, and
    without the evening follow-up (tests/test_evening.py covers it), so that a day has one row."""

    def make(**overrides):
        overrides.setdefault("email_evening", False)
        enrolment = make_enrolment(**overrides)
        prescription = enrolment.program.stages.get(slug="breathing").prescriptions.first()
        SessionLog.objects.create(
            enrolment=enrolment, prescription=prescription, local_date=date(2026, 3, 3)
        )
        return enrolment

    return make


def rows(**filters):
    return list(Notification.objects.filter(**filters).values_list("kind", "key", "status"))


def make_many(make_enrolment, django_user_model, n, start=0):
    made = []
    for i in range(start, start + n):
        user = django_user_model.objects.create_user(f"m{i}@example.com", f"m{i}@example.com")
        made.append(make_enrolment(user=user))
    return made


# Planning


def test_plan_creates_the_next_two_days(make_enrolment):
    make_enrolment()
    report = planning.plan_all(NOW)
    assert report.created == 2
    assert rows() == [("session", "2026-03-04", "pending"), ("session", "2026-03-05", "pending")]
    assert Notification.objects.first().due_at == datetime(2026, 3, 4, 8, 0, tzinfo=UTC)


def test_planning_again_changes_nothing(make_enrolment):
    make_enrolment()
    planning.plan_all(NOW)
    before = list(Notification.objects.values())
    report = planning.plan_all(NOW + timedelta(minutes=5))
    assert (report.created, report.moved, report.cancelled) == (0, 0, 0)
    assert list(Notification.objects.values()) == before


def test_planning_queries_grow_with_batches_not_people(make_enrolment, django_user_model):
    def queries_for_planning():
        Notification.objects.all().delete()
        with CaptureQueriesContext(connection) as captured:
            report = planning.plan_all(NOW, batch_size=10)
        return len(captured), report.batches

    make_many(make_enrolment, django_user_model, 10)
    small, small_batches = queries_for_planning()
    make_many(make_enrolment, django_user_model, 30, start=10)
    large, large_batches = queries_for_planning()
    assert (small_batches, large_batches) == (1, 4)
    per_batch = (large - small) / (large_batches - small_batches)
    # Lock, enrolments and their 5 relations, program stages (3), last sessions, nudges,
    # existing rows, insert, horizon update, and the transaction: 17 or 18, for any batch size.
    assert per_batch <= 18
    assert large <= small + per_batch * 3


def test_a_new_reminder_time_moves_the_pending_rows(make_enrolment):
    enrolment = make_enrolment()
    planning.plan_all(NOW)
    enrolment.reminder_time = time(9, 30)
    enrolment.save()
    report = planning.plan_for(enrolment, NOW)
    assert report.moved == 2
    due = Notification.objects.get(key="2026-03-04").due_at
    assert due == datetime(2026, 3, 4, 9, 30, tzinfo=UTC)
    assert Notification.objects.count() == 2


def test_a_new_time_zone_moves_the_pending_rows(make_enrolment):
    enrolment = make_enrolment()
    planning.plan_all(NOW)
    enrolment.timezone = "Asia/Kolkata"  # 08:00 there is 02:30 UTC: today's has passed
    enrolment.save()
    planning.plan_for(enrolment, NOW)
    assert Notification.objects.get(key="2026-03-05").due_at == datetime(
        2026, 3, 5, 2, 30, tzinfo=UTC
    )


def test_pause_cancels_and_resume_brings_back(make_enrolment):
    enrolment = make_enrolment()
    planning.plan_all(NOW)
    enrolment.pause(NOW)
    planning.plan_for(enrolment, NOW)
    assert {status for *_, status in rows()} == {"cancelled"}
    enrolment.resume(NOW + timedelta(minutes=10))
    planning.plan_for(enrolment, NOW + timedelta(minutes=10))
    assert {status for *_, status in rows()} == {"pending"}


def test_withdrawal_cancels_everything_pending(make_enrolment):
    enrolment = make_enrolment()
    planning.plan_all(NOW)
    enrolment.withdraw(NOW)
    planning.plan_for(enrolment, NOW)
    assert {status for *_, status in rows()} == {"cancelled"}
    assert planning.plan_all(NOW).created == 0


def test_a_logged_session_cancels_a_planned_nudge(make_enrolment):
    enrolment = make_enrolment()
    planning.plan_all(datetime(2026, 3, 5, 12, 0, tzinfo=UTC))
    assert ("nudge", "week-1", "pending") in rows()
    prescription = enrolment.program.stages.get(slug="breathing").prescriptions.first()
    SessionLog.objects.create(
        enrolment=enrolment, prescription=prescription, local_date=date(2026, 3, 5)
    )
    planning.plan_all(datetime(2026, 3, 5, 13, 0, tzinfo=UTC))
    assert ("nudge", "week-1", "cancelled") in rows()
    assert ("session", "2026-03-06", "pending") in rows()


def test_sent_rows_are_never_planned_again(make_enrolment):
    make_enrolment()
    planning.plan_all(NOW)
    Notification.objects.update(status="sent")
    enrolment = Enrolment.objects.get()
    enrolment.reminder_time = time(10, 0)
    enrolment.save()
    report = planning.plan_for(enrolment, NOW)
    assert (report.created, report.moved) == (0, 0)
    assert {status for *_, status in rows()} == {"sent"}


# Claiming


def due_rows(make_enrolment, count=3):
    enrolment = make_enrolment()
    for n in range(count):
        Notification.objects.create(
            enrolment=enrolment,
            recipient=enrolment.user,
            kind="checkin",
            key=f"week-{n + 1}",
            scheduled_for=NOW - timedelta(minutes=n),
            due_at=NOW - timedelta(minutes=n),
        )
    return enrolment


def test_two_claims_never_take_the_same_row(make_enrolment):
    due_rows(make_enrolment, 5)
    first = delivery.claim(NOW, limit=3)
    second = delivery.claim(NOW, limit=3)
    assert len(first) == 3
    assert len(second) == 2
    assert not {r.pk for r in first} & {r.pk for r in second}
    assert delivery.claim(NOW, limit=3) == []


def test_a_claim_costs_the_same_queries_however_many_rows_it_takes(make_enrolment):
    due_rows(make_enrolment, 12)

    def claimed(limit):
        with CaptureQueriesContext(connection) as captured:
            rows = delivery.claim(NOW, limit=limit)
        return rows, len(captured)

    (few, few_queries), (many, many_queries) = claimed(2), claimed(10)
    assert (len(few), len(many)) == (2, 10)
    assert few_queries == many_queries
    # Not prepared: each comes with everything her email is built from.
    with CaptureQueriesContext(connection) as captured:
        read = [
            (r.enrolment.program.slug, r.enrolment.user.email, r.enrolment.coach, r.recipient.email)
            for r in many
        ]
    assert len(read) == 10 and len(captured) == 0


def test_claim_takes_only_what_is_due(make_enrolment):
    due_rows(make_enrolment, 1)
    Notification.objects.update(due_at=NOW + timedelta(seconds=1))
    assert delivery.claim(NOW, limit=10) == []


def test_a_dead_dispatchers_rows_are_taken_again_after_the_lease(make_enrolment):
    due_rows(make_enrolment, 2)
    taken = delivery.claim(NOW, limit=10)
    assert delivery.claim(NOW + delivery.lease() - timedelta(seconds=1), limit=10) == []
    again = delivery.claim(NOW + delivery.lease() + timedelta(seconds=1), limit=10)
    assert {r.pk for r in again} == {r.pk for r in taken}
    assert {r.attempts for r in again} == {2}


# Sending (Django's in-memory mail backend; the real SMTP path is in test_delivery.py)


def planned_and_due(make_enrolment):
    enrolment = make_enrolment(coach=None)
    planning.plan_all(NOW)
    return enrolment, datetime(2026, 3, 4, 8, 0, 30, tzinfo=UTC)


def test_send_due_sends_each_row_once(make_enrolment):
    _, due = planned_and_due(make_enrolment)
    report = delivery.send_due(clock=lambda: due)
    assert (report.sent, report.batches) == (1, 1)
    assert len(mail.outbox) == 1
    row = Notification.objects.get(key="2026-03-04")
    assert (row.status, row.sent_at, row.claimed_until) == ("sent", due, None)
    assert delivery.send_due(clock=lambda: due).sent == 0
    assert len(mail.outbox) == 1


def test_an_email_has_text_html_a_stable_id_and_one_click_unsubscribe(make_enrolment):
    _, due = planned_and_due(make_enrolment)
    delivery.send_due(clock=lambda: due)
    message = mail.outbox[0]
    row = Notification.objects.get(status="sent")
    assert message.to == ["amira@example.com"]
    assert message.subject == "Today's exercises"
    assert message.extra_headers["Message-ID"] == emails.message_id(row)
    assert message.extra_headers["List-Unsubscribe"].startswith("<http")
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.alternatives[0].mimetype == "text/html"
    assert "Breathing 1" in message.body
    assert "/email/unsubscribe/" in message.body


def test_a_row_she_no_longer_wants_is_cancelled_not_sent(make_enrolment):
    enrolment, due = planned_and_due(make_enrolment)
    enrolment.pause(due - timedelta(seconds=5))
    report = delivery.send_due(clock=lambda: due)
    assert (report.sent, report.cancelled) == (0, 1)
    assert mail.outbox == []


class FlakyConnection:
    """A mail connection whose server answers with the given errors, then accepts."""

    def __init__(self, errors):
        self.errors = list(errors)
        self.sent = []

    def send_messages(self, messages):
        if self.errors:
            raise self.errors.pop(0)
        self.sent.extend(messages)
        return len(messages)

    def close(self):
        pass


@pytest.fixture
def connection_with(monkeypatch):
    def install(*errors):
        flaky = FlakyConnection(errors)
        monkeypatch.setattr(delivery, "get_connection", lambda **kwargs: flaky)
        return flaky

    return install


def test_a_temporary_refusal_is_retried_with_backoff(make_enrolment, connection_with, settings):
    settings.OUTBOX_BACKOFF_SECONDS = 60
    _, due = planned_and_due(make_enrolment)
    flaky = connection_with(smtplib.SMTPDataError(451, b"try later"))
    report = delivery.send_due(clock=lambda: due)
    row = Notification.objects.get(key="2026-03-04")
    assert (report.retried, row.status, row.attempts) == (1, "pending", 1)
    assert row.due_at == due + timedelta(seconds=60)
    assert "451" in row.last_error
    assert delivery.send_due(clock=lambda: due + timedelta(seconds=59)).claimed == 0
    report = delivery.send_due(clock=lambda: due + timedelta(seconds=61))
    row.refresh_from_db()
    assert (report.sent, row.status, row.attempts, len(flaky.sent)) == (1, "sent", 2, 1)


def test_backoff_doubles_up_to_an_hour(settings):
    settings.OUTBOX_BACKOFF_SECONDS = 60
    assert [delivery.backoff(n).total_seconds() for n in (1, 2, 3, 7, 12)] == [
        60,
        120,
        240,
        3600,
        3600,
    ]


@pytest.mark.parametrize(
    "address",
    [
        "amira@example.com",
        "a.b-c+tag@mail.example.co.uk",
        "o'neil@example.com",
        "X_Y=z@A-B.EXAMPLE",
        # Not plain: a name, non-ASCII, quoting, an empty atom, a domain literal.
        "Amira <amira@example.com>",
        "josé@example.com",
        "amira@exämple.com",
        '"a b"@example.com',
        "a..b@example.com",
        "amira@[127.0.0.1]",
    ],
)
def test_the_envelope_has_the_address_djangos_mail_backend_would_give(address):
    assert delivery.smtp_address(address) == sanitize_address(address, "utf-8")


def test_an_address_django_would_refuse_is_refused():
    with pytest.raises(ValueError):
        delivery.smtp_address("amira@" + "x" * 64 + ".example.com")


def test_a_permanent_refusal_fails_at_once_with_its_error(make_enrolment, connection_with):
    _, due = planned_and_due(make_enrolment)
    connection_with(smtplib.SMTPRecipientsRefused({"amira@example.com": (550, b"no such user")}))
    report = delivery.send_due(clock=lambda: due)
    row = Notification.objects.get(key="2026-03-04")
    assert (report.failed, row.status) == (1, "failed")
    assert "550" in row.last_error
    assert delivery.send_due(clock=lambda: due + timedelta(hours=2)).claimed == 0


def test_giving_up_after_the_last_attempt(make_enrolment, connection_with, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 2
    settings.OUTBOX_BACKOFF_SECONDS = 1
    _, due = planned_and_due(make_enrolment)
    connection_with(*[smtplib.SMTPDataError(421, b"busy")] * 5)
    delivery.send_due(clock=lambda: due)
    delivery.send_due(clock=lambda: due + timedelta(seconds=5))
    row = Notification.objects.get(key="2026-03-04")
    assert (row.status, row.attempts) == ("failed", 2)


def test_a_lost_connection_hands_back_the_rest_of_the_batch(
    make_enrolment, connection_with, django_user_model
):
    for i in range(3):
        user = django_user_model.objects.create_user(f"x{i}@example.com", f"x{i}@example.com")
        make_enrolment(user=user)
    planning.plan_all(NOW)
    due = datetime(2026, 3, 4, 8, 0, 30, tzinfo=UTC)
    connection_with(smtplib.SMTPServerDisconnected("gone"))
    report = delivery.send_due(clock=lambda: due, max_batches=1)
    today = Notification.objects.filter(key="2026-03-04")
    assert report.retried == 1
    assert sorted(today.values_list("attempts", flat=True)) == [0, 0, 1]
    assert set(today.values_list("status", flat=True)) == {"pending"}


def test_no_health_data_in_any_email(make_enrolment, django_user_model):
    from programs import checkins

    coach = django_user_model.objects.create_user("coach@example.com", "coach@example.com")
    enrolment = make_enrolment(coach=coach)
    answers = {
        "pain": 9,
        "pain_sites": ["leg"],
        "warning_signs": list(safety.WARNING_SIGNS),
        "urgent_signs": ["calf"],
        "sessions_felt": "too_hard",
        "note": "My secret note about bleeding",
    }
    checkins.record(enrolment, 1, answers, NOW)
    planning.plan_all(NOW + timedelta(days=5))
    delivery.send_due(clock=lambda: NOW + timedelta(days=6))
    assert mail.outbox, "the coach's alert should have gone"
    forbidden = [answers["note"], "9/10", "pain: 9"]
    forbidden += list(safety.WARNING_SIGNS.values()) + list(safety.URGENT_SIGNS.values())
    for message in mail.outbox:
        text = message.subject + message.body + message.alternatives[0].content
        for phrase in forbidden:
            assert phrase.lower() not in text.lower()


def test_the_commands_plan_and_send(make_enrolment, clock):
    from io import StringIO

    from django.core.management import call_command

    make_enrolment()
    clock("2026-03-04 07:00", "UTC")
    out = StringIO()
    call_command("plan_notifications", stdout=out)
    assert "1 enrolments in 1 batches: 2 created" in out.getvalue()
    clock("2026-03-04 08:01", "UTC")
    call_command("send_notifications", stdout=out)
    assert "Sent 1," in out.getvalue()
    assert len(mail.outbox) == 1


def test_a_due_nudge_is_sent_not_mistaken_for_one_already_sent(make_enrolment):
    enrolment = make_enrolment()
    SessionLog.objects.all().delete()  # no session since she started on 2 March
    planning.plan_all(datetime(2026, 3, 5, 7, 0, tzinfo=UTC))
    assert ("nudge", "week-1", "pending") in rows()
    report = delivery.send_due(clock=lambda: datetime(2026, 3, 5, 8, 1, tzinfo=UTC))
    assert (report.sent, report.cancelled) == (1, 0)
    assert mail.outbox[0].subject == "Five minutes for you today?"
    assert enrolment.notifications.get(kind="nudge").status == "sent"


def test_planning_after_a_nudge_went_out_adds_no_session_reminder_that_day(make_enrolment):
    make_enrolment()
    SessionLog.objects.all().delete()
    planning.plan_all(datetime(2026, 3, 5, 7, 0, tzinfo=UTC))
    delivery.send_due(clock=lambda: datetime(2026, 3, 5, 8, 1, tzinfo=UTC))
    planning.plan_all(datetime(2026, 3, 5, 8, 5, tzinfo=UTC))  # 08:00 is within the grace
    assert not Notification.objects.filter(kind="session", key="2026-03-05").exists()
    assert len(mail.outbox) == 1


# One bad row stops no one


def test_a_broken_enrolment_fails_alone_and_another_womans_alert_still_goes(
    make_enrolment, django_user_model, coach
):
    broken, other = make_many(make_enrolment, django_user_model, 2)
    other.coach = coach
    other.save()
    planning.plan_all(NOW)
    Enrolment.objects.filter(pk=broken.pk).update(timezone="Europe/Londn")
    due = datetime(2026, 3, 4, 8, 0, 30, tzinfo=UTC)
    alert = Notification.objects.create(
        enrolment=other,
        recipient=coach,
        kind="coach_alert",
        key="flag-1",
        scheduled_for=due,
        due_at=due,
    )
    report = delivery.send_due(clock=lambda: due)
    assert (report.sent, report.failed) == (2, 1)  # the alert and the other's reminder
    alert.refresh_from_db()
    assert alert.status == "sent"
    failed = Notification.objects.get(enrolment=broken, status="failed")
    assert failed.last_error.startswith("not built: ZoneInfoNotFoundError")
    assert not Notification.objects.filter(status="sending").exists()
    assert {m.to[0] for m in mail.outbox} == {coach.email, other.user.email}


def test_a_template_that_fails_for_one_row_fails_that_row_alone(
    make_enrolment, django_user_model, monkeypatch
):
    first, second = make_many(make_enrolment, django_user_model, 2)
    planning.plan_all(NOW)
    real = emails.render

    def render(kind, context, to, headers):
        if to == first.user.email:
            raise ValueError("template broke")
        return real(kind, context, to, headers)

    monkeypatch.setattr(emails, "render", render)
    report = delivery.send_due(clock=lambda: datetime(2026, 3, 4, 8, 0, 30, tzinfo=UTC))
    assert (report.sent, report.failed) == (1, 1)
    row = Notification.objects.get(enrolment=first, key="2026-03-04")
    assert (row.status, row.last_error) == ("failed", "not built: ValueError: template broke")
    assert [m.to for m in mail.outbox] == [[second.user.email]]


def test_a_completed_programs_last_email_still_goes(make_enrolment):
    enrolment = make_enrolment(coach=None)
    end = datetime(2026, 4, 13, 7, 0, tzinfo=UTC)
    planning.plan_enrolments([enrolment.pk], end)
    Enrolment.objects.filter(pk=enrolment.pk).update(status="completed")
    report = delivery.send_due(clock=lambda: end + timedelta(hours=1))
    assert report.sent == 1
    assert mail.outbox[0].subject == "You've finished Test program"


def test_a_sender_waits_for_a_row_due_before_the_next_tick(make_enrolment):
    planned_and_due(make_enrolment)
    due = Notification.objects.get(key="2026-03-04").due_at
    now = [due - timedelta(seconds=3)]
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += timedelta(seconds=seconds)

    report = delivery.send_due(clock=lambda: now[0], wait=timedelta(seconds=10), sleep=sleep)
    assert slept == [3.0]
    assert report.sent == 1
    assert Notification.objects.get(status="sent").sent_at == due


def test_a_sender_does_not_wait_for_a_row_due_after_the_next_tick(make_enrolment):
    planned_and_due(make_enrolment)
    due = Notification.objects.get(key="2026-03-04").due_at
    slept = []
    report = delivery.send_due(
        clock=lambda: due - timedelta(seconds=11), wait=timedelta(seconds=10), sleep=slept.append
    )
    assert (report.sent, slept) == (0, [])
