"""Preparing scheduled emails ahead of their moment, and sending them as prepared only while
nothing they depend on has changed."""

import re
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from programs import delivery, facts, planning, preparation
from programs.models import (
    Enrolment,
    Heartbeat,
    Notification,
    Pause,
    Program,
    SessionLog,
    mark_for_planning,
)

pytestmark = pytest.mark.django_db
Status = Notification.Status
MOMENT = datetime(2026, 3, 4, 8, 0, tzinfo=UTC)  # her 08:00 reminder in London
BEFORE = MOMENT - timedelta(minutes=5)


@pytest.fixture
def enrolment(make_enrolment, program):
    """Her enrolment, planned: a session reminder falls due at MOMENT (she trained yesterday,
    so no nudge is due)."""
    enrolment = make_enrolment()
    prescription = program.stages.get(slug="breathing").prescriptions.first()
    SessionLog.objects.create(
        enrolment=enrolment, prescription=prescription, local_date=date(2026, 3, 3)
    )
    planning.plan_all(BEFORE)
    return enrolment


def due_row() -> Notification:
    return Notification.objects.get(due_at=MOMENT, kind="session")


def sweep(now) -> list[int]:
    handed: list[int] = []
    report = preparation.sweep(now, hand_out=handed.extend)
    Heartbeat.record(preparation.JOB, now, now, **vars(report))
    return handed


def prepare_due() -> Notification:
    preparation.prepare([due_row().pk], BEFORE)
    return due_row()


def sent_subjects() -> list[str]:
    return [m.subject for m in mail.outbox]


# The sweep


def test_the_sweep_hands_out_what_falls_due_within_the_window(enrolment):
    assert sweep(BEFORE) == [due_row().pk]


def test_the_sweep_leaves_what_falls_due_later(enrolment):
    assert sweep(MOMENT - timedelta(minutes=30)) == []


def test_each_row_is_handed_out_once(enrolment):
    sweep(BEFORE)
    assert sweep(BEFORE + timedelta(minutes=1)) == []


def test_the_next_day_is_handed_out_when_its_moment_comes_near(enrolment):
    sweep(BEFORE)
    tomorrow = Notification.objects.get(due_at=MOMENT + timedelta(days=1))
    assert sweep(BEFORE + timedelta(days=1)) == [tomorrow.pk]


def test_a_sweep_goes_on_where_the_last_one_stopped_among_rows_due_together(
    make_enrolment, django_user_model, settings
):
    for i in range(5):
        user = django_user_model.objects.create_user(f"m{i}@example.com", f"m{i}@example.com")
        make_enrolment(user=user)
    planning.plan_all(BEFORE)
    settings.PREPARE_BATCH, settings.PREPARE_MAX_BATCHES_PER_SWEEP = 2, 2
    first = sweep(BEFORE)
    second = sweep(BEFORE)
    assert len(first) == 4 and len(second) == 1
    assert sorted(first + second) == sorted(
        Notification.objects.filter(due_at=MOMENT).values_list("pk", flat=True)
    )


def test_only_kinds_prepared_ahead_are_handed_out(enrolment):
    Notification.objects.create(
        enrolment=enrolment,
        recipient=enrolment.user,
        kind="coach_message",
        key="message-1",
        scheduled_for=MOMENT,
        due_at=MOMENT,
    )
    assert sweep(BEFORE) == [due_row().pk]


# Preparing


def test_the_prepared_email_is_the_email_as_it_would_be_built(enrolment):
    row = prepare_due()
    parsed = message_from_bytes(bytes(row.prepared), policy=policy.default)
    built = delivery.emails.build(
        row, _recipient(enrolment), delivery.emails.Content.load(_specs(enrolment), [enrolment])
    )
    assert parsed["Subject"] == built.subject
    assert parsed["To"] == "amira@example.com"
    text = parsed.get_body(("plain",)).get_content()
    assert text.replace("\r\n", "\n").strip() == built.body.strip()
    assert row.prepared_to == "amira@example.com"
    assert row.prepared_version == Enrolment.objects.get(pk=enrolment.pk).version


def test_it_is_dated_for_its_moment_not_for_when_it_was_rendered(enrolment):
    parsed = message_from_bytes(bytes(prepare_due().prepared), policy=policy.default)
    assert parsed["Date"].datetime == MOMENT


def test_a_row_she_would_not_get_is_not_prepared(enrolment):
    Pause.objects.create(enrolment=enrolment, started_at=BEFORE - timedelta(hours=1))
    assert prepare_due().prepared is None


def test_a_row_a_sender_has_taken_is_left_alone(enrolment):
    Notification.objects.filter(pk=due_row().pk).update(status=Status.SENDING)
    report = preparation.prepare([due_row().pk], BEFORE)
    assert report.prepared == 0
    assert due_row().prepared is None


def test_a_row_that_cannot_be_built_is_left_for_the_sender(enrolment, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("template missing")

    monkeypatch.setattr(delivery.emails, "build", broken)
    report = preparation.prepare([due_row().pk], BEFORE)
    assert (report.prepared, report.skipped) == (0, 1)
    assert due_row().prepared is None


def test_her_version_is_read_before_her_schedule(enrolment, monkeypatch):
    # She pauses while her facts are being read: the email is rendered from the newer facts or
    # the older, but it is stored under the older version, so it is never used.
    real = facts.recipients

    def meanwhile(batch, specs):
        mark_for_planning([enrolment.pk])
        return real(batch, specs)

    monkeypatch.setattr(facts, "recipients", meanwhile)
    row = prepare_due()
    assert row.prepared is not None
    assert row.prepared_message() is None


# Sending


def test_a_prepared_email_goes_out_as_prepared(enrolment, clock):
    prepare_due()
    # Not a change her emails depend on, so her version stays: the prepared greeting goes.
    type(enrolment.user).objects.filter(pk=enrolment.user.pk).update(first_name="Renamed")
    delivery.send_due(lambda: MOMENT)
    assert len(mail.outbox) == 1
    assert "Amira" in mail.outbox[0].body and "Renamed" not in mail.outbox[0].body
    assert due_row().status == Status.SENT


def women_prepared(make_enrolment, django_user_model, program, count: int, prefix: str):
    """`count` more women whose session reminders fall due at MOMENT, each prepared ahead."""
    prescription = program.stages.get(slug="breathing").prescriptions.first()
    for i in range(count):
        address = f"{prefix}{i}@example.com"
        user = django_user_model.objects.create_user(address, address)
        woman = make_enrolment(user=user)
        SessionLog.objects.create(
            enrolment=woman, prescription=prescription, local_date=date(2026, 3, 3)
        )
    planning.plan_all(BEFORE)
    ids = list(
        Notification.objects.filter(
            due_at=MOMENT, kind="session", enrolment__user__email__startswith=prefix
        ).values_list("pk", flat=True)
    )
    assert preparation.prepare(ids, BEFORE).prepared == count


def queries_to_send(sent: int) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        report = delivery.send_due(lambda: MOMENT)
    assert report.sent == sent and len(mail.outbox) == sent
    mail.outbox.clear()
    return [q["sql"] for q in captured.captured_queries]


def test_prepared_emails_are_sent_without_her_facts_in_a_few_queries_and_a_receipt_each(
    make_enrolment, django_user_model, program
):
    women_prepared(make_enrolment, django_user_model, program, 2, "few")
    few = queries_to_send(2)
    women_prepared(make_enrolment, django_user_model, program, 6, "more")
    more = queries_to_send(6)
    assert len(more) - len(few) == 6 - 2
    # Only the outbox, and her enrolment's state and her address: none of what her email was
    # built from (her sessions, pauses, holds, tailorings, the program).
    read = {table for sql in more for table in re.findall(r'(?:FROM|JOIN|UPDATE) "(\w+)"', sql)}
    assert read == {Notification._meta.db_table, Enrolment._meta.db_table, "auth_user"}


def test_a_sent_row_keeps_no_prepared_bytes(enrolment):
    prepare_due()
    delivery.send_due(lambda: MOMENT)
    row = due_row()
    assert row.status == Status.SENT
    assert row.prepared is None


def test_a_pause_after_preparing_cancels_it(enrolment):
    prepare_due()
    Pause.objects.create(enrolment=enrolment, started_at=MOMENT - timedelta(minutes=1))
    delivery.send_due(lambda: MOMENT)
    assert mail.outbox == []
    assert due_row().status == Status.CANCELLED


def test_a_change_to_her_enrolment_after_preparing_builds_it_afresh(enrolment):
    prepare_due()
    enrolment.email_session = False  # she turned session reminders off
    enrolment.save()
    delivery.send_due(lambda: MOMENT)
    assert mail.outbox == []
    assert due_row().status == Status.CANCELLED


def test_a_new_address_after_preparing_gets_it_afresh(enrolment):
    prepare_due()
    user = enrolment.user
    user.email, user.first_name = "amira.new@example.com", "Amira N"
    user.save()
    delivery.send_due(lambda: MOMENT)
    assert mail.outbox[0].to == ["amira.new@example.com"]
    assert "Amira N" in mail.outbox[0].body


def test_a_prepared_email_too_late_to_be_useful_is_cancelled(enrolment):
    prepare_due()
    delivery.send_due(lambda: MOMENT + timedelta(hours=7))
    assert mail.outbox == []
    assert due_row().status == Status.CANCELLED


def test_her_version_changes_with_everything_that_marks_her_for_planning(enrolment):
    versions = {enrolment.version}
    enrolment.reminder_time = enrolment.reminder_time.replace(hour=9)
    enrolment.save(update_fields=["reminder_time"])
    versions.add(Enrolment.objects.get(pk=enrolment.pk).version)
    mark_for_planning([enrolment.pk])
    versions.add(Enrolment.objects.get(pk=enrolment.pk).version)
    assert len(versions) == 3


def _specs(enrolment):
    return Program.objects.filter(pk=enrolment.program_id).specs()


def _recipient(enrolment):
    enrolment = facts.with_facts(Enrolment.objects.filter(pk=enrolment.pk)).get()
    found, _ = facts.recipients([enrolment], _specs(enrolment))
    return found[enrolment.pk]


def test_a_row_moved_by_planning_keeps_no_email_rendered_for_its_old_moment(enrolment):
    prepare_due()
    enrolment = Enrolment.objects.get(pk=enrolment.pk)
    enrolment.reminder_time = enrolment.reminder_time.replace(hour=9)
    enrolment.save()
    planning.plan_all(BEFORE)
    moved = Notification.objects.get(kind="session", key="2026-03-04")
    assert moved.due_at == MOMENT + timedelta(hours=1)
    assert moved.prepared is None


def test_a_row_cancelled_by_planning_keeps_no_prepared_email(enrolment):
    prepare_due()
    enrolment = Enrolment.objects.get(pk=enrolment.pk)
    enrolment.email_session = False
    enrolment.save()
    planning.plan_all(BEFORE)
    row = Notification.objects.get(kind="session", key="2026-03-04")
    assert (row.status, row.prepared) == (Status.CANCELLED, None)


def test_a_withdrawn_enrolment_is_not_prepared_even_before_she_is_planned_again(enrolment):
    # Withdrawing saves her (a new version), but her rows wait for planning to cancel them.
    Enrolment.objects.filter(pk=enrolment.pk).update(status=Enrolment.Status.WITHDRAWN)
    assert prepare_due().prepared is None


def test_a_prepared_email_is_not_sent_after_she_withdrew(enrolment):
    prepare_due()
    # Her version unchanged, as if she had withdrawn just before it was prepared.
    Enrolment.objects.filter(pk=enrolment.pk).update(status=Enrolment.Status.WITHDRAWN)
    delivery.send_due(lambda: MOMENT)
    assert mail.outbox == []
    assert due_row().status == Status.CANCELLED
