"""
Snoozing one session reminder from its email: it comes again in an hour, this evening or
tomorrow, as a `notifications.SNOOZE` row keyed by the reminder's local date.

Whether the snooze is wanted when it falls due is `programs.reminders`' business, like any
scheduled kind: here we only decide when, check that planning would keep it, and store the
row. The outcome reports what the row says, so the page never promises more than the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from django.db import transaction

from programs import facts, notifications, reminders
from programs.models import Enrolment, Notification, mark_for_planning

Status = Notification.Status
# Her own morning emails: a snooze landing at the same instant would repeat one of them.
_USUAL = (notifications.SESSION, notifications.NUDGE, notifications.STAGE)


class Result(StrEnum):
    SNOOZED = "snoozed"  # a pending row falls due at `at`
    ALREADY_SENT = "already_sent"  # she was already reminded again (at `at`)
    TOO_LATE = "too_late"  # this evening has passed, her time
    LOGGED = "logged"  # she logged a session since: no need
    TURNED_OFF = "turned_off"  # she turned session reminders off
    NOT_RUNNING = "not_running"  # paused, on hold or finished at that time
    COVERED = "covered"  # her own reminder goes at that very time
    CANCELLED = "cancelled"  # the reminder itself was cancelled, never sent
    ENDED = "ended"  # she withdrew, or her program is over
    GONE = "gone"  # no such reminder any more


@dataclass(frozen=True)
class Outcome:
    result: Result
    at: datetime | None = None  # UTC
    tz: ZoneInfo | None = None  # her zone, to say `at` in her time

    @property
    def local(self) -> datetime | None:
        return self.at.astimezone(self.tz) if self.at and self.tz else None


def snooze(notification_pk: int, choice: str, now: datetime) -> Outcome:
    """Snooze the session reminder `notification_pk` by `choice` (links.SNOOZE_CHOICES)."""
    with transaction.atomic():
        reminder = Notification.objects.filter(
            pk=notification_pk, kind=notifications.SESSION.key, enrolment__isnull=False
        ).first()
        if reminder is None:
            return Outcome(Result.GONE)
        # Her row locked, as planning locks it: a planner running now sees the snooze after.
        enrolment = (
            facts.with_facts(Enrolment.objects.filter(pk=reminder.enrolment_id))
            .select_for_update(of=("self",))
            .first()
        )
        if enrolment is None:
            return Outcome(Result.GONE)
        tz = enrolment.tz
        if not enrolment.is_current:
            return Outcome(Result.ENDED, tz=tz)
        if reminder.status != Status.SENT:
            return Outcome(Result.CANCELLED, tz=tz)
        row = Notification.objects.filter(
            enrolment=enrolment, kind=notifications.SNOOZE.key, key=reminder.key
        ).first()
        if row is not None and row.status in (Status.SENDING, Status.SENT, Status.FAILED):
            return Outcome(Result.ALREADY_SENT, row.sent_at or row.scheduled_for, tz)

        found, broken = facts.recipients([enrolment], facts.specs_for([enrolment]))
        if enrolment.pk in broken:
            raise broken[enrolment.pk]
        recipient = found[enrolment.pk]
        at = reminders.snooze_at(recipient, choice, now)
        if at is None:
            return Outcome(Result.TOO_LATE, tz=tz)
        day = date.fromisoformat(reminder.key)
        why_not = _refused(recipient, day, at)
        if why_not == Result.COVERED:
            # Named only if its row is there to prove it.
            usual = Notification.objects.filter(
                enrolment=enrolment,
                kind__in=[k.key for k in _USUAL],
                scheduled_for=at,
                status=Status.PENDING,
            ).first()
            return Outcome(why_not, usual.scheduled_for if usual else None, tz)
        if why_not is not None:
            return Outcome(why_not, tz=tz)

        if row is None:
            Notification.objects.bulk_create(
                [
                    Notification(
                        enrolment=enrolment,
                        recipient_id=enrolment.user_id,
                        kind=notifications.SNOOZE.key,
                        key=reminder.key,
                        scheduled_for=at,
                        due_at=at,
                    )
                ],
                ignore_conflicts=True,  # a double click: the first one stands
            )
        else:
            Notification.objects.filter(
                pk=row.pk, status__in=[Status.PENDING, Status.CANCELLED]
            ).update(scheduled_for=at, due_at=at, status=Status.PENDING)
        row = Notification.objects.get(
            enrolment=enrolment, kind=notifications.SNOOZE.key, key=reminder.key
        )
        # That day's evening follow-up now gives way to the snooze: plan her again.
        mark_for_planning([enrolment.pk])
    if row.status == Status.PENDING:
        return Outcome(Result.SNOOZED, row.scheduled_for, tz)
    return Outcome(Result.ALREADY_SENT, row.sent_at or row.scheduled_for, tz)


def _refused(recipient: reminders.Recipient, day: date, at: datetime) -> Result | None:
    """Why planning would not keep a snooze of `day`'s reminder until `at`, or None."""
    if recipient.last_session is not None and recipient.last_session >= day:
        return Result.LOGGED
    if not reminders.wanted(recipient, notifications.SNOOZE):
        return Result.TURNED_OFF
    others = {(d, t) for d, t in recipient.snoozes if d != day}
    asked = replace(recipient, snoozes=frozenset({*others, (day, at)}))
    planned = reminders.plan(asked, at, at + timedelta(microseconds=1))
    if any(item.kind == notifications.SNOOZE and item.key == day.isoformat() for item in planned):
        return None
    if reminders.covered(recipient, at):
        return Result.COVERED
    return Result.NOT_RUNNING
