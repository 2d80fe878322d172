"""
The Celery path with real processes: rows planned here are committed to the test database, a
Celery worker (a subprocess, on an embedded Valkey) claims and sends them to a real SMTP server
running on a thread of this process, and we look at what arrived and at the rows.
"""

from __future__ import annotations

import html
import re
import time
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from processes import (  # noqa: F401 (the fixtures register by being imported)
    RecordingHandler,
    Worker,
    broker_fixture,
    celery_worker_fixture,
    smtp_fixture,
    smtp_server_fixture,
    valkey_fixture,
    wait_until,
    worker_fixture,
)

from programs import checkins, emails, planning, safety, tasks
from programs.models import Enrolment, Notification, Program

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

User = get_user_model()
Status = Notification.Status
ZONES = ["Europe/London", "America/New_York", "Asia/Kolkata", "Australia/Sydney"]
WAIT = 30.0


def enrol(program: Program, count: int, now, prefix: str = "mother") -> list[Enrolment]:
    """`count` women, cleared, across a few time zones, whose reminder time is this very local
    minute: half started today (a "new stage" email is due), half yesterday (a session
    reminder is due)."""
    users = User.objects.bulk_create(
        User(
            username=f"{prefix}{i}@example.com",
            email=f"{prefix}{i}@example.com",
            first_name=f"Mother{i}",
            password="!",
        )
        for i in range(count)
    )
    enrolments = []
    for i, user in enumerate(users):
        zone = ZONES[i % len(ZONES)]
        local = now.astimezone(ZoneInfo(zone))
        enrolments.append(
            Enrolment(
                user=user,
                program=program,
                start_date=local.date() - timedelta(days=i // len(ZONES) % 2),
                timezone=zone,
                reminder_time=local.time().replace(second=0, microsecond=0),
                weeks_postpartum=10,
                caesarean=False,
                cleared_at=now - timedelta(days=1),
            )
        )
    return Enrolment.objects.bulk_create(enrolments)


def plan_due(
    program: Program, count: int, prefix: str = "mother"
) -> tuple[list[Notification], planning.PlanReport]:
    """Enrol `count` women and plan their next 48 hours: exactly one row falls due now for each
    (the others are for the next two days)."""
    now = timezone.now()
    enrol(program, count, now, prefix)
    report = planning.plan_all(now)
    due = list(Notification.objects.filter(due_at__lte=now).select_related("recipient"))
    assert report.enrolments == count
    assert report.created == Notification.objects.count()
    assert len(due) == count, f"{len(due)} rows due for {count} women"
    assert {n.enrolment_id for n in due} == set(Enrolment.objects.values_list("pk", flat=True))
    assert all(n.status == Status.PENDING for n in due)
    return due, report


def statuses(rows: list[Notification]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for status in Notification.objects.filter(pk__in=[r.pk for r in rows]).values_list(
        "status", flat=True
    ):
        counts[status] = counts.get(status, 0) + 1
    return counts


def wait_for_statuses(
    rows: list[Notification], expected: dict[str, int], worker: Worker, smtp: RecordingHandler
) -> None:
    wait_until(
        lambda: statuses(rows) == expected,
        WAIT,
        lambda: (
            f"rows {statuses(rows)}, wanted {expected}; smtp received {smtp.count}. "
            + worker.describe()
        ),
    )


def dispatch(worker: Worker) -> None:
    """What beat does every 10 s: one dispatch tick, run to the end."""
    worker.wait_for_task(tasks.dispatch_notifications.delay().id)


def test_two_hundred_planned_reminders_each_arrive_once(
    program: Program, worker: Worker, smtp: RecordingHandler
) -> None:
    started = time.monotonic()
    mark = worker.mark()
    due, report = plan_due(program, 200)
    kinds = {kind: sum(1 for n in due if n.kind == kind) for kind in ("stage", "session")}
    assert kinds == {"stage": 100, "session": 100}, kinds

    dispatch(worker)
    wait_for_statuses(due, {Status.SENT: 200}, worker, smtp)
    worker.wait_idle()
    received = smtp.received
    seconds = time.monotonic() - started
    events = worker.events(mark)
    senders = sum(
        1 for name, _, e in events if name.endswith("send_due_notifications") and e == "succeeded"
    )
    retries = sum(1 for _, _, e in events if e == "retry")
    print(
        f"\nplanned enrolments={report.enrolments} created={report.created} due={len(due)} "
        f"(stage={kinds['stage']} session={kinds['session']}) "
        f"sent={statuses(due).get(Status.SENT)} arrived={len(received)} "
        f"smtp_connections={smtp.connections} senders={senders} task_retries={retries} "
        f"in {seconds:.1f} s"
    )

    # Every row sent once, with its receipt; nothing stuck mid-send, anywhere in the table.
    rows = {n.recipient.email: n for n in Notification.objects.filter(pk__in=[n.pk for n in due])}
    assert all(
        n.sent_at is not None and n.attempts == 1 and not n.last_error for n in rows.values()
    )
    assert not Notification.objects.filter(status=Status.SENDING).exists()

    # One message per woman, each with her row's own Message-ID, over one connection a batch.
    assert len(received) == 200
    assert smtp.connections <= senders + retries
    recipients = [r.rcpt_tos for r in received]
    assert all(len(to) == 1 for to in recipients)
    assert {to[0] for to in recipients} == set(rows)
    message_ids = [r.message["Message-ID"] for r in received]
    assert len(set(message_ids)) == 200
    for r in received:
        row = rows[r.rcpt_tos[0]]
        message = r.message
        assert message["Message-ID"] == emails.message_id(row)
        assert message["To"] == row.recipient.email
        unsubscribe = message["List-Unsubscribe"].strip()  # a folded header keeps its space
        assert unsubscribe.startswith("<http://testserver/") and unsubscribe.endswith(">")
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        parts = r.parts
        assert set(parts) == {"text/plain", "text/html"}, parts.keys()
        assert row.recipient.first_name in parts["text/plain"]
    assert sum(1 for r in received if r.message["Subject"] == "Today's exercises") == 100
    assert sum(1 for r in received if r.message["Subject"].startswith("A new stage")) == 100
    assert not worker.errors(mark), worker.errors(mark)


def test_a_temporary_refusal_is_retried_after_the_backoff_and_sent_once(
    program: Program, worker: Worker, smtp: RecordingHandler
) -> None:
    due, _ = plan_due(program, 5)
    smtp.fail_next(3)

    dispatch(worker)
    wait_for_statuses(due, {Status.SENT: 2, Status.PENDING: 3}, worker, smtp)
    worker.wait_idle()
    retrying = list(Notification.objects.filter(pk__in=[n.pk for n in due], status=Status.PENDING))
    original = {n.pk: n for n in due}
    for row in retrying:
        assert row.attempts == 1
        assert "451" in row.last_error and "try later" in row.last_error, row.last_error
        assert row.due_at > original[row.pk].due_at, "a retry waits for its backoff"
        assert row.scheduled_for == original[row.pk].scheduled_for, "its planned time stays"
        assert row.claimed_until is None
    assert smtp.count == 2 and smtp.temporary_failures == 3
    print(f"\nafter the first tick: sent=2 retrying={len(retrying)} arrived={smtp.count}")

    # Beat keeps ticking: once the backoff (1 s here) is over, the three go out.
    deadline = time.monotonic() + WAIT
    ticks = 1
    while statuses(due) != {Status.SENT: 5}:
        assert time.monotonic() < deadline, f"rows {statuses(due)}. " + worker.describe()
        dispatch(worker)
        ticks += 1
        time.sleep(0.2)
    worker.wait_idle()

    rows = list(Notification.objects.filter(pk__in=[n.pk for n in due]))
    received = smtp.received
    attempts = sum(n.attempts for n in rows)
    print(
        f"sent={len(rows)} arrived={len(received)} attempts={attempts} "
        f"temporary_failures={smtp.temporary_failures} ticks={ticks}"
    )
    assert len(received) == 5
    assert sorted(r.rcpt_tos[0] for r in received) == sorted(n.recipient.email for n in due)
    assert len({r.message["Message-ID"] for r in received}) == 5
    assert sorted(n.attempts for n in rows) == [1, 1, 2, 2, 2]
    assert attempts == 8
    assert all(n.sent_at is not None and n.last_error == "" for n in rows)
    assert {n.pk for n in rows if n.attempts == 2} == {n.pk for n in retrying}


def test_a_permanent_refusal_fails_at_once_and_is_never_retried(
    program: Program, worker: Worker, smtp: RecordingHandler
) -> None:
    due, _ = plan_due(program, 5)
    gone = due[2].recipient.email
    smtp.refuse(gone)

    dispatch(worker)
    wait_for_statuses(due, {Status.SENT: 4, Status.FAILED: 1}, worker, smtp)
    worker.wait_idle()
    failed = Notification.objects.get(pk__in=[n.pk for n in due], status=Status.FAILED)
    assert failed.recipient.email == gone
    assert "550" in failed.last_error, failed.last_error
    assert failed.attempts == 1 and failed.sent_at is None

    # Later ticks, and a sender started by hand, leave it alone.
    dispatch(worker)
    worker.wait_for_task(tasks.send_due_notifications.delay().id)
    worker.wait_idle()
    failed.refresh_from_db()
    received = smtp.received
    print(
        f"\nsent={statuses(due).get(Status.SENT)} failed=1 arrived={len(received)} "
        f"refusals={smtp.refusals} attempts_on_failed={failed.attempts} "
        f"last_error={failed.last_error!r}"
    )
    assert failed.status == Status.FAILED and failed.attempts == 1
    assert smtp.refusals == 1
    assert len(received) == 4
    assert gone not in {to for r in received for to in r.rcpt_tos}
    assert statuses(due) == {Status.SENT: 4, Status.FAILED: 1}


def test_a_batch_goes_out_over_one_smtp_connection(
    program: Program, worker: Worker, smtp: RecordingHandler
) -> None:
    due, _ = plan_due(program, 20)  # one batch, one sender
    dispatch(worker)
    wait_for_statuses(due, {Status.SENT: 20}, worker, smtp)
    worker.wait_idle()
    print(f"\nsent=20 arrived={smtp.count} smtp_connections={smtp.connections}")
    assert smtp.count == 20
    assert smtp.connections == 1


def test_a_red_flag_alerts_the_coach_at_once_without_health_data(
    make_enrolment, worker: Worker, smtp: RecordingHandler
) -> None:
    coach = User.objects.create_user(
        "coach@example.com", "coach@example.com", "a-long-enough-passphrase-42", first_name="Cleo"
    )
    now = timezone.now()
    enrolment = make_enrolment(
        coach=coach, start_date=now.date() - timedelta(days=9), cleared_at=now
    )
    note = "My scar pulls when I lift the car seat, and I cried twice."
    answers = {
        "pain": 9,
        "pain_sites": ["pelvis", "low_back"],
        "warning_signs": ["leaking", "heaviness", "bleeding"],
        "urgent_signs": ["calf"],
        "sessions_felt": "too_hard",
        "note": note,
    }
    mark = worker.mark()
    started = time.monotonic()

    # Committed at once (a transactional test): the on-commit hook enqueues a sender.
    checkin = checkins.record(enrolment, 1, answers, now)
    assert checkin.tier == safety.Tier.URGENT

    arrived = wait_until(
        lambda: smtp.to(coach.email),
        WAIT,
        lambda: f"no alert for the coach; smtp received {smtp.count}. " + worker.describe(),
    )
    alert = Notification.objects.get(kind="coach_alert")
    wait_until(lambda: Notification.objects.get(pk=alert.pk).status == Status.SENT, 5, "not sent")
    worker.wait_idle()
    seconds = time.monotonic() - started
    alert.refresh_from_db()
    events = worker.events(mark)
    print(
        f"\ncoach alert key={alert.key} arrived={len(arrived)} in {seconds:.1f} s "
        f"tasks={sorted({name.rsplit('.', 1)[1] for name, _, _ in events})}"
    )

    assert len(arrived) == 1 and smtp.count == 1
    assert alert.recipient == coach and alert.key.startswith(f"urgent-{checkin.pk}-hold-")
    assert alert.attempts == 1 and alert.sent_at is not None
    # Nobody dispatched: the check-in's own hooks started the only sender, and re-planned her.
    assert {name for name, _, _ in events} == {
        "programs.tasks.send_due_notifications",
        "programs.tasks.plan_enrolments",
    }

    message = arrived[0].message
    assert message["Subject"] == "Urgent: A client needs your attention"
    assert message["Message-ID"] == emails.message_id(alert)
    assert message["List-Unsubscribe"] is None  # a coach can't opt out of safety alerts
    parts = arrived[0].parts
    assert set(parts) == {"text/plain", "text/html"}
    for kind, body in parts.items():
        text = html.unescape(body) if kind == "text/html" else body
        lowered = text.lower()
        assert "Cleo" in text
        assert not re.search(r"\b9\b", text), f"the pain score is in the {kind} part"
        assert "pain" not in lowered, f"pain is mentioned in the {kind} part"
        for words in [
            *safety.WARNING_SIGNS.values(),
            *safety.URGENT_SIGNS.values(),
            *safety.PAIN_SITES.values(),
        ]:
            assert words.lower() not in lowered, f"{words!r} is in the {kind} part"
        assert note.lower() not in lowered and "car seat" not in lowered
        assert "amira" not in lowered, "the client is named"


def test_a_reminder_due_seconds_after_a_resume_goes_out_on_time(
    program: Program, worker: Worker, smtp: RecordingHandler
) -> None:
    """Nobody calls the planner: resuming asks a worker to plan her, on commit."""
    now = timezone.now()
    (enrolment,) = enrol(program, 1, now, prefix="resumed")
    due = now + timedelta(seconds=8)
    Enrolment.objects.filter(pk=enrolment.pk).update(
        start_date=now.date() - timedelta(days=3),
        timezone="UTC",
        reminder_time=due.time().replace(microsecond=0),
    )
    enrolment = Enrolment.objects.get(pk=enrolment.pk)
    enrolment.pause(now - timedelta(days=1))
    Enrolment.objects.get(pk=enrolment.pk).resume(timezone.now())

    row = wait_until(
        lambda: Notification.objects.filter(enrolment=enrolment, due_at__gt=now).first(),
        WAIT,
        lambda: "nothing planned after the resume. " + worker.describe(),
    )
    assert row.due_at == due.replace(microsecond=0)
    time.sleep(max((row.due_at - timezone.now()).total_seconds(), 0))
    dispatch(worker)  # beat's tick, due now
    wait_for_statuses([row], {Status.SENT: 1}, worker, smtp)
    late = Notification.objects.get(pk=row.pk).sent_at - row.due_at
    assert late < timedelta(seconds=5), late


def test_the_sweep_asks_the_worker_to_plan_batches_and_everyone_is_planned(
    program: Program, worker: Worker, smtp: RecordingHandler
) -> None:
    now = timezone.now()
    enrol(program, 60, now, prefix="swept")
    assert Enrolment.objects.filter(planned_until__isnull=True).count() == 60
    mark = worker.mark()
    worker.wait_for_task(tasks.sweep.delay().id)
    wait_until(
        lambda: not Enrolment.objects.filter(planned_until__isnull=True).exists(),
        WAIT,
        lambda: "some enrolments were never planned. " + worker.describe(),
    )
    worker.wait_idle()
    batches = worker.count("plan_due_enrolments", "succeeded", since=mark)
    planned = Notification.objects.filter(enrolment__user__email__startswith="swept").count()
    print(f"\nswept 60 enrolments: {batches} planning tasks, {planned} rows")
    assert planned >= 60
    assert batches >= 1
    assert not worker.errors(mark), worker.errors(mark)


def test_emails_prepared_by_the_worker_go_out_as_prepared(
    program: Program, worker: Worker, smtp: RecordingHandler
) -> None:
    now = timezone.now()
    moment = (now + timedelta(seconds=8)).replace(microsecond=0)
    enrol(program, 40, moment, prefix="prepared")  # her reminder is at `moment`
    Enrolment.objects.filter(user__email__startswith="prepared").update(
        reminder_time=moment.time(), timezone="UTC", start_date=moment.date() - timedelta(days=1)
    )
    planning.plan_all(now)
    due = list(Notification.objects.filter(due_at=moment))
    assert len(due) == 40
    mark = worker.mark()
    worker.wait_for_task(tasks.prepare_sweep.delay().id)
    wait_until(
        lambda: Notification.objects.filter(due_at=moment, prepared__isnull=False).count() == 40,
        WAIT,
        lambda: "some emails were never prepared. " + worker.describe(),
    )
    # Not a change her emails depend on: the prepared greeting is what arrives.
    User.objects.filter(email__startswith="prepared").update(first_name="Renamed")
    time.sleep(max((moment - timezone.now()).total_seconds(), 0))
    dispatch(worker)
    wait_for_statuses(due, {Status.SENT: 40}, worker, smtp)
    received = smtp.received
    assert len(received) == 40
    assert all("Renamed" not in r.parts["text/plain"] for r in received)
    assert {r.message["Message-ID"] for r in received} == {emails.message_id(n) for n in due}
    assert not Notification.objects.filter(prepared__isnull=False, status=Status.SENT).exists()
    assert not worker.errors(mark), worker.errors(mark)
