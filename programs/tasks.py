"""Celery tasks: thin wrappers over the outbox, run by beat (see CELERY_BEAT_SCHEDULE).

Each is safe to run twice at once: planning only inserts rows the unique key allows, and
dispatchers claim rows atomically. A task that meets a database outage retries with backoff.
"""

import logging
import math

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError
from django.utils import timezone

from programs import digests, outbox

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
def plan_notifications() -> dict:
    """Plan every current enrolment's notifications, and every coach's digests, for the next
    48 hours."""
    now = timezone.now()
    report = outbox.plan_all(now)
    log.info(
        "planned %s enrolments in %s batches: %s created, %s moved, %s cancelled",
        report.enrolments,
        report.batches,
        report.created,
        report.moved,
        report.cancelled,
    )
    digest_report = digests.plan_digests(now)
    log.info(
        "planned digests for %s coaches in %s batches: %s created, %s moved, %s cancelled",
        digest_report.coaches,
        digest_report.batches,
        digest_report.created,
        digest_report.moved,
        digest_report.cancelled,
    )
    return {**vars(report), "digests": vars(digest_report)}


@shared_task(**RETRY)
def dispatch_notifications() -> int:
    """Start enough senders for what is due now, up to OUTBOX_SENDERS of them."""
    due = outbox.count_due(timezone.now())
    senders = min(math.ceil(due / settings.OUTBOX_SEND_BATCH), settings.OUTBOX_SENDERS)
    for _ in range(senders):
        send_due_notifications.delay()
    return senders


@shared_task(**RETRY)
def send_due_notifications() -> dict:
    """Claim and send due notifications, batch by batch, until none is due."""
    report = outbox.send_due(max_batches=settings.OUTBOX_MAX_BATCHES_PER_TASK)
    if report.claimed:
        log.info(
            "sent %s, retrying %s, failed %s, cancelled %s in %s batches",
            report.sent,
            report.retried,
            report.failed,
            report.cancelled,
            report.batches,
        )
    return {k: v for k, v in vars(report).items() if k != "errors"}


def send_soon() -> None:
    """Queue a sender now instead of waiting for the next dispatch tick. If the broker cannot
    be reached, the row is safe in the outbox and that tick sends it."""
    try:
        send_due_notifications.delay()
    except Exception:
        log.exception("could not queue a sender; the next dispatch tick will send")
