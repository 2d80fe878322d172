"""Celery tasks: thin wrappers over planning and delivery, run by beat (CELERY_BEAT_SCHEDULE)
or asked for by `programs.wakeups`.

Each is safe to run twice at once: planning claims enrolments and only inserts rows the unique
key allows, and senders claim rows atomically. A task that meets a database outage retries
with backoff. Each periodic job records a heartbeat for the status page.
"""

import logging
import math
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError
from django.utils import timezone

from programs import client_status, delivery, planning, preparation
from programs.models import Heartbeat

log = logging.getLogger(__name__)

DB_ERRORS = (OperationalError, InterfaceError, DatabaseError)
RETRY = {
    "autoretry_for": DB_ERRORS,
    "retry_backoff": 2,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 8,
}


@shared_task(**RETRY)
def sweep() -> dict:
    """Ask for a planning task for each batch of enrolments whose planned horizon runs short
    or that changed; plan the coaches' digests that are due."""
    started = timezone.now()
    report = planning.sweep(started, ask=_ask_for_planning)
    Heartbeat.record("sweep", started, timezone.now(), **vars(report))
    if report.examined:
        log.info(
            "sweep found %s enrolments due; asked for %s planning tasks",
            report.examined,
            report.batches,
        )
    return vars(report)


def _ask_for_planning() -> None:
    # A task still queued when its batch's lease would have run out is superseded by what later
    # sweeps asked for: while workers are down, the queue holds a few sweeps' worth, not all.
    plan_due_enrolments.apply_async(expires=settings.PLAN_CLAIM_SECONDS)


@shared_task(**RETRY)
def roll_over_client_status() -> dict:
    """Recompute the dashboard rows whose day has turned (her local midnight), in batches."""
    started = timezone.now()
    rows, batches = client_status.roll_over(
        started, settings.STATUS_ROLL_BATCH, settings.STATUS_ROLL_MAX_BATCHES
    )
    Heartbeat.record("roll_over", started, timezone.now(), rows=rows, batches=batches)
    return {"rows": rows, "batches": batches}


@shared_task(**RETRY)
def plan_enrolments(ids: list[int]) -> dict:
    """Plan these enrolments' emails for the planning horizon."""
    started = timezone.now()
    report = planning.plan_enrolments(ids, started)
    Heartbeat.record("plan", started, timezone.now(), enrolments=report.enrolments)
    return {**vars(report), "broken": len(report.broken)}


@shared_task(**RETRY)
def plan_due_enrolments() -> dict:
    """Claim a batch of the enrolments due for planning and plan their emails (the sweep asks
    for one of these per batch)."""
    started = timezone.now()
    report = planning.plan_due(started)
    if report.enrolments:  # one that found nothing left to claim planned nothing
        Heartbeat.record("plan", started, timezone.now(), enrolments=report.enrolments)
    return {**vars(report), "broken": len(report.broken)}


@shared_task(**RETRY)
def plan_coach_digests(coach_ids: list[int]) -> dict:
    """Plan these coaches' digests, after they changed their settings."""
    return vars(planning.plan_digests_for(coach_ids, timezone.now()))


@shared_task(**RETRY)
def prepare_sweep() -> dict:
    """Hand out, in batches, the scheduled emails falling due within the preparation window."""
    started = timezone.now()
    report = preparation.sweep(started, hand_out=lambda ids: prepare_notifications.delay(ids))
    # The heartbeat also holds where this sweep stopped, for the next one to go on from there.
    Heartbeat.record(preparation.JOB, started, timezone.now(), **vars(report))
    return vars(report)


@shared_task(**RETRY)
def prepare_notifications(ids: list[int]) -> dict:
    """Render these rows' emails ahead of their moment."""
    return vars(preparation.prepare(ids, timezone.now()))


def tick() -> timedelta:
    """The dispatch interval: senders wait for rows falling due before the next tick."""
    return timedelta(seconds=settings.DISPATCH_SECONDS)


@shared_task(**RETRY)
def dispatch_notifications() -> int:
    """Start enough senders for what is due now or before the next tick, up to
    OUTBOX_SENDERS of them."""
    started = timezone.now()
    due = delivery.count_due(started, within=tick())
    senders = min(math.ceil(due / settings.OUTBOX_SEND_BATCH), settings.OUTBOX_SENDERS)
    for _ in range(senders):
        send_due_notifications.delay()
    Heartbeat.record("dispatch", started, timezone.now(), due=due, senders=senders)
    return senders


@shared_task(**RETRY)
def send_due_notifications() -> dict:
    """Claim and send due notifications, batch by batch, until none is due."""
    started = timezone.now()
    report = delivery.send_due(max_batches=settings.OUTBOX_MAX_BATCHES_PER_TASK, wait=tick())
    if report.claimed:
        log.info(
            "sent %s, retrying %s, failed %s, cancelled %s in %s batches",
            report.sent,
            report.retried,
            report.failed,
            report.cancelled,
            report.batches,
        )
    if report.sent:
        Heartbeat.record("send", started, timezone.now(), sent=report.sent, failed=report.failed)
    return {k: v for k, v in vars(report).items() if k != "errors"}
