"""
Asking the workers to act now rather than at the next beat tick: plan her emails again, or send
what has fallen due.

Tasks are named, not imported, so the model layer can ask without depending on the planner.
Each request is a hint: if the broker cannot take it, the row in the database still says what
is owed, and the periodic sweep or dispatch tick does it a moment later.
"""

from __future__ import annotations

import logging

from celery import current_app
from django.db import transaction

log = logging.getLogger(__name__)

PLAN_ENROLMENTS = "programs.tasks.plan_enrolments"
PLAN_DIGESTS = "programs.tasks.plan_coach_digests"
SEND_DUE = "programs.tasks.send_due_notifications"


def publish(task: str, *args) -> None:
    """Queue `task`; a broker that is down is logged, never raised: the sweep covers it."""
    try:
        current_app.send_task(task, args=args)
    except Exception:
        log.warning("could not queue %s; the periodic sweep will do it", task, exc_info=True)


def replan_on_commit(enrolment_id: int) -> None:
    transaction.on_commit(lambda: publish(PLAN_ENROLMENTS, [enrolment_id]))


def replan_digests_on_commit(coach_id: int) -> None:
    transaction.on_commit(lambda: publish(PLAN_DIGESTS, [coach_id]))


def send_soon() -> None:
    """Queue a sender now instead of waiting for the next dispatch tick."""
    publish(SEND_DUE)


def send_on_commit() -> None:
    transaction.on_commit(send_soon)
