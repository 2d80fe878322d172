"""
The outbox: notifications as rows, planned ahead, claimed atomically, sent once.

- `plan_all` walks current enrolments in batches and makes the rows match what
  `programs.reminders` plans for the next 48 hours: it creates what is missing, moves what
  changed (a new reminder time or time zone), revives what is wanted again and cancels what is
  no longer wanted (a pause, a withdrawal). Running it twice changes nothing.
- `claim` takes due rows for one dispatcher with a conditional update, so two dispatchers never
  take the same row; a row whose dispatcher died is taken again once its lease runs out.
- `deliver` re-checks each claimed row, sends it over one SMTP connection and marks it sent as
  soon as the server has accepted it. Temporary failures retry with exponential backoff, up to a
  limit; permanent ones fail at once, keeping the error.

Queries grow with the number of batches, not of people: each batch costs a fixed number of
queries, plus one primary-key update per message sent (its delivery receipt, written before the
next message goes, so a crash can repeat at most the one message in flight).
"""

from __future__ import annotations

import logging
import smtplib
import time
import uuid
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.mail import get_connection
from django.db import DatabaseError, InterfaceError, OperationalError, connections, transaction
from django.db.models import F, Max, Prefetch, Q
from django.utils import timezone

from programs import emails, reminders, schedule
from programs.models import Enrolment, Notification, Program, SessionLog, Stage

log = logging.getLogger(__name__)

PLAN_AHEAD = timedelta(hours=48)
# Rows for moments just past are still planned, so a late planning run loses nothing.
PLAN_GRACE = timedelta(minutes=15)
BACKOFF_CAP = timedelta(hours=1)

Status = Notification.Status
PLANNED_KINDS = [k.value for k in reminders.OPTIONAL]


def _batch_size(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def lease() -> timedelta:
    """How long a claim holds before another dispatcher may take the row again: longer than a
    task may run (settings.OUTBOX_LEASE_SECONDS), so only a dead sender's rows are retaken."""
    return timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)


# Planning


@dataclass
class PlanReport:
    enrolments: int = 0
    batches: int = 0
    created: int = 0
    moved: int = 0
    cancelled: int = 0


def plan_all(now: datetime, batch_size: int | None = None) -> PlanReport:
    """Plan every current enrolment's notifications for the next 48 hours, batch by batch."""
    batch_size = batch_size or _batch_size("OUTBOX_PLAN_BATCH", 500)
    specs = program_specs()
    report = PlanReport()
    last_pk = 0
    while True:
        batch = list(
            _with_facts(
                Enrolment.objects.filter(status__in=Enrolment.CURRENT, pk__gt=last_pk)
            ).order_by("pk")[:batch_size]
        )
        if not batch:
            return report
        plan_batch(batch, now, specs, report)
        last_pk = batch[-1].pk


def plan_for(enrolment: Enrolment, now: datetime) -> PlanReport:
    """Re-plan one enrolment at once, after she changed something (pause, time, preferences)."""
    fresh = _with_facts(Enrolment.objects.filter(pk=enrolment.pk)).get()
    report = PlanReport()
    plan_batch([fresh], now, program_specs([fresh.program_id]), report)
    return report


def plan_batch(
    batch: list[Enrolment],
    now: datetime,
    specs: dict[int, tuple[schedule.StageSpec, ...]],
    report: PlanReport,
) -> None:
    start, end = now - PLAN_GRACE, now + PLAN_AHEAD
    recipients = _recipients(batch, specs)
    wanted: dict[tuple[int, str, str], datetime] = {}
    for enrolment in batch:
        if not enrolment.is_current:
            continue
        for item in reminders.plan(recipients[enrolment.pk], start, end):
            wanted[(enrolment.pk, item.kind.value, item.key)] = item.due_at

    ids = [e.pk for e in batch]
    existing = {
        (n.enrolment_id, n.kind, n.key): n
        for n in Notification.objects.filter(
            enrolment_id__in=ids,
            kind__in=PLANNED_KINDS,
            scheduled_for__gte=start - timedelta(days=2),
        ).only("pk", "enrolment_id", "kind", "key", "status", "scheduled_for", "due_at")
    }
    owners = {e.pk: e.user_id for e in batch}

    def new_row(ident: tuple, due_at: datetime) -> Notification:
        pk, kind, key = ident
        return Notification(
            enrolment_id=pk,
            recipient_id=owners[pk],
            kind=kind,
            key=key,
            scheduled_for=due_at,
            due_at=due_at,
        )

    created, moved, cancelled = reconcile(wanted, existing, start, new_row)
    report.enrolments += len(batch)
    report.batches += 1
    report.created += created
    report.moved += moved
    report.cancelled += cancelled


def reconcile(
    wanted: dict[tuple, datetime],
    existing: dict[tuple, Notification],
    start: datetime,
    new_row: Callable[[tuple, datetime], Notification],
    revive: Callable[[Notification, datetime], bool] = lambda row, due_at: True,
) -> tuple[int, int, int]:
    """Make the rows match what planning wants, and return (created, moved, cancelled).

    `wanted` maps a row's identity to when it should go; `existing` holds the rows already
    there for the same people. Missing rows are created; pending rows whose time changed are
    moved; cancelled rows wanted again are revived when `revive` agrees; pending rows from
    `start` on that are no longer wanted are cancelled. Sent and failed rows are never touched.
    """
    to_create, to_move, to_cancel = [], [], []
    for ident, due_at in wanted.items():
        row = existing.get(ident)
        if row is None:
            to_create.append(new_row(ident, due_at))
        elif (row.status == Status.PENDING and row.scheduled_for != due_at) or (
            row.status == Status.CANCELLED and revive(row, due_at)
        ):
            row.scheduled_for = row.due_at = due_at
            row.status = Status.PENDING
            to_move.append(row)
    for ident, row in existing.items():
        if row.status == Status.PENDING and ident not in wanted and row.scheduled_for >= start:
            to_cancel.append(row.pk)

    with transaction.atomic():
        # A concurrent planner may have inserted the same rows: the unique key makes that a no-op.
        Notification.objects.bulk_create(to_create, ignore_conflicts=True)
        if to_move:
            Notification.objects.bulk_update(to_move, ["scheduled_for", "due_at", "status"])
        if to_cancel:
            Notification.objects.filter(pk__in=to_cancel, status=Status.PENDING).update(
                status=Status.CANCELLED
            )
    return len(to_create), len(to_move), len(to_cancel)


def cancel_pending(enrolment: Enrolment) -> int:
    """Cancel everything not yet sent to her: she withdrew or left."""
    return Notification.objects.filter(enrolment=enrolment, status=Status.PENDING).update(
        status=Status.CANCELLED
    )


def program_specs(program_ids: Iterable[int] | None = None) -> dict[int, tuple]:
    """Each program's stages as schedule values, loaded once for a whole planning run."""
    programs = Program.objects.prefetch_related(
        Prefetch("stages", queryset=Stage.objects.prefetch_related("prescriptions"))
    )
    if program_ids is not None:
        programs = programs.filter(pk__in=list(program_ids))
    return {p.pk: tuple(stage.spec() for stage in p.stages.all()) for p in programs}


def _with_facts(enrolments):
    return enrolments.select_related("program", "user").prefetch_related(
        "pauses", "holds", "overrides"
    )


def _recipients(batch: list[Enrolment], specs: dict[int, tuple]) -> dict[int, reminders.Recipient]:
    batch = [e for e in batch if e is not None]  # a coach's digest has no enrolment
    ids = [e.pk for e in batch]
    last_sessions = dict(
        SessionLog.objects.filter(enrolment_id__in=ids)
        .values("enrolment_id")
        .annotate(last=Max("local_date"))
        .values_list("enrolment_id", "last")
    )
    zones = {e.pk: e.tz for e in batch}
    nudges: dict[int, set[tuple[int, date]]] = {}
    for pk, key, scheduled_for in Notification.objects.filter(
        enrolment_id__in=ids,
        kind=reminders.Kind.NUDGE,
        status__in=[Status.SENDING, Status.SENT, Status.FAILED],
    ).values_list("enrolment_id", "key", "scheduled_for"):
        week = int(key.removeprefix("week-"))
        nudges.setdefault(pk, set()).add((week, scheduled_for.astimezone(zones[pk]).date()))
    return {
        e.pk: reminders.Recipient(
            facts=e.facts(specs[e.program_id]),
            reminder_time=e.reminder_time,
            turned_off=e.turned_off,
            last_session=last_sessions.get(e.pk),
            nudges=frozenset(nudges.get(e.pk, ())),
        )
        for e in batch
    }


# Claiming


def count_due(now: datetime) -> int:
    return Notification.objects.filter(_claimable(now)).count()


def _claimable(now: datetime) -> Q:
    return Q(status=Status.PENDING, due_at__lte=now) | Q(
        status=Status.SENDING, claimed_until__lt=now
    )


def claim(now: datetime, limit: int) -> list[Notification]:
    """Take up to `limit` due rows for this dispatcher alone, for the length of a lease.

    On PostgreSQL the candidates are locked with SKIP LOCKED, so concurrent dispatchers pass
    each other by; everywhere, the update re-checks that each row is still claimable, so a row
    taken by someone else in between is simply not ours.
    """
    token = uuid.uuid4().hex
    with transaction.atomic():
        candidates = list(
            Notification.objects.filter(_claimable(now))
            .order_by("due_at")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        if not candidates:
            return []
        Notification.objects.filter(_claimable(now), pk__in=candidates).update(
            status=Status.SENDING,
            claim=token,
            claimed_until=now + lease(),
            attempts=F("attempts") + 1,
        )
    return list(
        Notification.objects.filter(claim=token, status=Status.SENDING)
        .select_related("enrolment__program", "enrolment__user", "enrolment__coach", "recipient")
        .prefetch_related("enrolment__pauses", "enrolment__holds", "enrolment__overrides")
        .order_by("due_at")
    )


# Delivering


@dataclass
class DeliveryReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    batches: int = 0
    errors: list[str] = field(default_factory=list)
    # The mail server could not be reached: the rest waits for the next dispatch tick.
    unreachable: bool = False


class TemporaryFailure(Exception):
    """The mail server could not take the message now; try again later."""


class PermanentFailure(Exception):
    """The mail server refused the message for good."""


def send_due(
    clock: Callable[[], datetime] = timezone.now,
    batch_size: int | None = None,
    max_batches: int | None = None,
) -> DeliveryReport:
    """Claim and deliver due rows batch by batch until none is due (or `max_batches`, or the
    mail server cannot be reached)."""
    batch_size = batch_size or _batch_size("OUTBOX_SEND_BATCH", 100)
    report = DeliveryReport()
    while max_batches is None or report.batches < max_batches:
        rows = claim(clock(), batch_size)
        if not rows:
            break
        report.batches += 1
        report.claimed += len(rows)
        deliver(rows, clock, report)
        if report.unreachable:
            break  # the next batch would meet the same closed door
    return report


def deliver(rows: list[Notification], clock: Callable[[], datetime], report: DeliveryReport):
    """Send claimed rows over one connection, recording each outcome as it happens."""
    from programs import digests  # imported here: digests loads clients through this module

    specs = program_specs({row.enrolment.program_id for row in rows if row.enrolment})
    recipients = _recipients(
        list({row.enrolment_id: row.enrolment for row in rows}.values()), specs
    )
    # A coach's digest has no enrolment: whether it goes depends on all her clients, now.
    summaries = digests.summaries({r.recipient_id for r in rows if r.enrolment is None}, clock())
    content = emails.Content.load(specs)
    connection = get_connection(fail_silently=False)
    try:
        for index, row in enumerate(rows):
            now = clock()
            recipient = recipients.get(row.enrolment_id)
            summary = summaries.get(row.recipient_id)
            if not _still_wanted(row, recipient, now, summary):
                _finish(row, status=Status.CANCELLED)
                report.cancelled += 1
                continue
            try:
                if row.enrolment is None:
                    message = emails.build_digest(row, summary)
                else:
                    message = emails.build(row, recipient, content, now)
                _send(connection, message)
            except TemporaryFailure as error:
                _retry_or_fail(row, str(error), now, report)
                if _connection_lost(error):
                    # The server is gone: hand back the rest of the batch for a later try.
                    _hand_back(rows[index + 1 :], now)
                    report.unreachable = True
                    break
            except PermanentFailure as error:
                _finish(row, status=Status.FAILED, last_error=str(error))
                report.failed += 1
                log.warning("notification %s failed permanently", row.pk)
            else:
                _finish(row, status=Status.SENT, sent_at=now, last_error="")
                report.sent += 1
    finally:
        try:
            connection.close()
        except Exception:  # closing a connection that already broke
            log.debug("closing the mail connection failed", exc_info=True)


def _still_wanted(
    row: Notification, recipient: reminders.Recipient | None, now: datetime, summary=None
) -> bool:
    if row.enrolment is None:  # a coach's digest (programs.digests): only if someone is flagged
        return summary is not None and summary.worth_sending(row.scheduled_for, now)
    if not row.enrolment.is_current and row.kind != reminders.Kind.COACH_ALERT:
        return False
    return reminders.still_wanted(recipient, row.kind, row.key, row.scheduled_for, now)


def _send(connection, message) -> None:
    """Send one message, sorting what can go wrong into temporary and permanent."""
    try:
        if getattr(connection, "connection", True) is None:
            # Django closes after each call a connection it opened itself: open it here, once
            # for the whole batch.
            connection.open()
        sent = connection.send_messages([message])
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _ in error.recipients.values()]
        kind = PermanentFailure if all(code >= 500 for code in codes) else TemporaryFailure
        said = "; ".join(f"{code} {_text(text)}" for code, text in error.recipients.values())
        raise kind(f"recipient refused: {said}") from error
    except smtplib.SMTPResponseException as error:
        kind = PermanentFailure if error.smtp_code >= 500 else TemporaryFailure
        raise kind(f"SMTP {error.smtp_code}: {_text(error.smtp_error)}") from error
    except (smtplib.SMTPException, OSError) as error:
        raise TemporaryFailure(f"connection: {type(error).__name__}: {error}") from error
    if sent != 1:
        raise TemporaryFailure("the mail backend did not accept the message")


def _text(value) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _connection_lost(error: TemporaryFailure) -> bool:
    return str(error).startswith("connection:")


def backoff(attempts: int) -> timedelta:
    """The wait after the n-th failed attempt: 1, 2, 4, 8 ... minutes by default, at most an
    hour."""
    base = timedelta(seconds=settings.OUTBOX_BACKOFF_SECONDS)
    return min(base * 2 ** max(attempts - 1, 0), BACKOFF_CAP)


def _retry_or_fail(row: Notification, error: str, now: datetime, report: DeliveryReport):
    if row.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
        _finish(row, status=Status.FAILED, last_error=error)
        report.failed += 1
        log.warning("notification %s failed after %s attempts", row.pk, row.attempts)
        return
    _finish(row, status=Status.PENDING, due_at=now + backoff(row.attempts), last_error=error)
    report.retried += 1
    report.errors.append(error)


def _hand_back(rows: list[Notification], now: datetime) -> None:
    """Return untried rows to the queue without counting an attempt against them."""
    for row in rows:
        _finish(row, status=Status.PENDING, due_at=now + backoff(1), attempts=row.attempts - 1)


def _finish(row: Notification, **changes) -> None:
    """Record an outcome, if the row is still ours (its lease was not taken over).

    The message may already be out: if the database is unreachable for a moment (a restart, a
    failover), keep trying, on a new connection each time, for as long as the lease is ours,
    rather than leave the row to be claimed and sent again once the lease runs out.
    """
    pause = 0.1
    while True:
        try:
            Notification.objects.filter(pk=row.pk, claim=row.claim).update(
                claimed_until=None, **changes
            )
            return
        except (OperationalError, InterfaceError) as error:
            db = connections[Notification.objects.db]
            until = row.claimed_until
            late = until is None or timezone.now() + timedelta(seconds=pause) >= until
            if db.in_atomic_block or late:
                raise
            log.warning(
                "notification %s: recording its outcome failed, retrying: %s", row.pk, error
            )
            with suppress(DatabaseError):
                db.close()  # the next query connects afresh
            time.sleep(pause)
            pause = min(pause * 2, 1.0)
