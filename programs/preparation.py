"""
Preparing emails ahead: the scheduled emails falling due in the next few minutes are rendered
before their moment, by whichever workers are free, so that at 08:00 a sender only has to send.

- `sweep` finds the rows of the kinds prepared ahead (`notifications.Kind.prepared_ahead`) whose
  moment has entered the window (`settings.PREPARE_AHEAD_SECONDS`) since the last sweep, and
  hands them out in bounded batches. Each row is handed out once: the sweep remembers where it
  stopped, in its heartbeat.
- `prepare` renders a batch: for each row that would still be sent at its moment, the whole
  message as it will go out, the address it is for and her enrolment's version, read before
  anything else about her.

Delivery sends a prepared message as it is only while her version and address are unchanged
(`Notification.prepared_message`): anything her emails depend on changes her version in the same
transaction (`programs.models.mark_for_planning`). Otherwise, or for a row that was never
prepared (planned inside the window, or the sweep was down), it builds the email afresh at its
moment, as it always could. A name edited in the last few minutes (hers, or an exercise's in the
admin) may appear in its old form: that is the whole of what preparing ahead can make stale.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q, prefetch_related_objects
from django.utils.dateparse import parse_datetime

from programs import emails, facts, notifications, reminders
from programs.delivery import LIVE
from programs.models import Enrolment, Heartbeat, Notification

log = logging.getLogger(__name__)

JOB = "prepare"
KINDS = [k.key for k in notifications.KINDS.values() if k.prepared_ahead]


def ahead() -> timedelta:
    return timedelta(seconds=settings.PREPARE_AHEAD_SECONDS)


@dataclass
class SweepReport:
    handed_out: int = 0
    batches: int = 0
    until: str = ""  # where this sweep stopped: the due_at and pk of the last row handed out
    after: int = 0


def sweep(
    now: datetime,
    hand_out: Callable[[list[int]], None],
    batch_size: int | None = None,
    max_batches: int | None = None,
) -> SweepReport:
    """Hand out, batch by batch, the unprepared rows whose moment entered the window since the
    last sweep: rows due after where it stopped and by `now` + the window, in due order."""
    batch_size = batch_size or settings.PREPARE_BATCH
    max_batches = max_batches or settings.PREPARE_MAX_BATCHES_PER_SWEEP
    since, after = _last_stop(now)
    report = SweepReport(until=since.isoformat(), after=after)
    window = Notification.objects.filter(
        LIVE,
        status=Notification.Status.PENDING,
        kind__in=KINDS,
        prepared__isnull=True,
        due_at__lte=now + ahead(),
    )
    while report.batches < max_batches:
        batch = list(
            window.filter(Q(due_at__gt=since) | Q(due_at=since, pk__gt=after))
            .order_by("due_at", "pk")
            .values_list("pk", "due_at")[:batch_size]
        )
        if not batch:
            break
        hand_out([pk for pk, _ in batch])
        after, since = batch[-1]
        report.batches += 1
        report.handed_out += len(batch)
        report.until, report.after = since.isoformat(), after
    return report


def _last_stop(now: datetime) -> tuple[datetime, int]:
    """Where the last sweep stopped; now, the first time or after a long outage (rows due
    before now are the senders' to build)."""
    detail = Heartbeat.objects.filter(job=JOB).values_list("detail", flat=True).first() or {}
    until = parse_datetime(detail.get("until", ""))
    if until is None or until < now:
        return now, 0
    return until, int(detail.get("after", 0))


@dataclass
class PrepareReport:
    prepared: int = 0
    skipped: int = 0


def prepare(ids: list[int], now: datetime) -> PrepareReport:
    """Render these rows' emails ahead of their moment and store them on the rows.

    A row that would not be sent at its moment, or whose email cannot be built, is left
    unprepared: the sender decides it at its moment and records why."""
    report = PrepareReport()
    rows = list(
        Notification.objects.filter(
            pk__in=ids, status=Notification.Status.PENDING, prepared__isnull=True
        ).select_related("enrolment__program", "enrolment__user", "enrolment__coach", "recipient")
    )
    # Her version comes from the query above, before her pauses, holds and overrides are read:
    # a change in between leaves it older than what is rendered, so the email is not used.
    enrolments = list({r.enrolment_id: r.enrolment for r in rows if r.enrolment}.values())
    prefetch_related_objects(enrolments, *facts.HER_FACTS)
    specs = facts.specs_for(enrolments)
    recipients, _broken = facts.recipients(enrolments, specs)
    content = emails.Content.load(specs, enrolments)
    for row in rows:
        recipient = recipients.get(row.enrolment_id)
        try:
            wanted = (
                recipient is not None
                and row.enrolment.status != Enrolment.Status.WITHDRAWN
                and reminders.still_wanted(
                    recipient, row.spec, row.key, row.scheduled_for, row.scheduled_for
                )
            )
            message = wanted and emails.build(row, recipient, content)
            data = message and message.message().as_bytes(linesep="\r\n")
        except Exception:  # this row alone; the sender will record the error at its moment
            log.warning("notification %s could not be prepared", row.pk, exc_info=True)
            data = None
        if not data:
            report.skipped += 1
            continue
        # Only while it is still waiting: a row a sender has taken in the meantime is left be.
        report.prepared += Notification.objects.filter(
            pk=row.pk, status=Notification.Status.PENDING, prepared__isnull=True
        ).update(prepared=data, prepared_to=row.to_address, prepared_version=row.enrolment.version)
    return report
