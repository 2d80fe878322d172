"""
A coach's clients, loaded for the dashboard, the digest and the CSV export in a fixed number
of queries however many clients she has, then summed up by the pure `programs.coaching`.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q, QuerySet

from programs import coaching, facts, safety
from programs.models import (
    CheckIn,
    Enrolment,
    GuidedExercise,
    GuidedSession,
    Hold,
    Notification,
    SessionLog,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Row:
    enrolment: Enrolment
    client: coaching.Client

    @property
    def flagged(self) -> bool:
        return bool(self.client.flags)


def enrolments_of(coach) -> QuerySet[Enrolment]:
    """The enrolments a user looks after: her own clients, or everyone's for staff."""
    enrolments = Enrolment.objects.all()
    if not coach.is_staff:
        enrolments = enrolments.filter(coach=coach)
    return enrolments


def load(enrolments: QuerySet[Enrolment], now: datetime) -> list[Row]:
    """One row per enrolment, with flags and adherence, in a fixed number of queries."""
    batch = list(enrolments.select_related("user", "program").prefetch_related(*facts.HER_FACTS))
    if not batch:
        return []
    ids = [e.pk for e in batch]
    specs = facts.specs_for(batch)
    logs, pains, guided = histories(ids)
    failing = dict(
        Notification.objects.filter(enrolment_id__in=ids, status=Notification.Status.FAILED)
        .values("enrolment_id")
        .annotate(n=Count("pk"))
        .values_list("enrolment_id", "n")
    )
    return [Row(e, _client(e, specs, now, logs, pains, failing, guided)) for e in batch]


def histories(ids) -> tuple[dict, dict, dict]:
    """For each enrolment: her (prescription, local date) logs, her check-in pain scores
    oldest first, and her guided sessions oldest first; three queries."""
    logs: dict[int, list] = defaultdict(list)
    for enrolment_id, prescription_id, day in SessionLog.objects.filter(
        enrolment_id__in=ids
    ).values_list("enrolment_id", "prescription_id", "local_date"):
        logs[enrolment_id].append((prescription_id, day))
    pains: dict[int, list[int]] = defaultdict(list)
    for enrolment_id, pain in (
        CheckIn.objects.filter(enrolment_id__in=ids)
        .order_by("submitted_at", "pk")
        .values_list("enrolment_id", "pain")
    ):
        pains[enrolment_id].append(pain)
    return logs, pains, guided_results(ids)


def guided_results(ids) -> dict[int, list[coaching.GuidedResult]]:
    """Each enrolment's guided sessions, oldest first, as the coach's flags read them."""
    results: dict[int, list[coaching.GuidedResult]] = defaultdict(list)
    sessions = (
        GuidedSession.objects.filter(enrolment_id__in=ids)
        .annotate(hard=Count("exercises", filter=Q(exercises__felt=GuidedExercise.Felt.TOO_HARD)))
        .order_by("local_date", "created_at")
        .values_list("enrolment_id", "local_date", "hard", "pain_after")
    )
    for enrolment_id, day, hard, pain_after in sessions:
        results[enrolment_id].append(coaching.GuidedResult(day, hard > 0, pain_after))
    return results


def urgent_hold(holds: Iterable[Hold]) -> bool:
    """Her open hold among `holds`, if any, is urgent (tier 2)."""
    return any(h.is_open and h.tier == safety.Tier.URGENT for h in holds)


def _client(e: Enrolment, specs, now, logs, pains, failing, guided) -> coaching.Client:
    try:
        return coaching.client(
            e.facts(specs),
            now,
            logs[e.pk],
            pains[e.pk],
            failing.get(e.pk, 0),
            urgent=urgent_hold(e.holds.all()),
            guided=guided[e.pk],
        )
    except Exception:  # her row alone shows the problem; the rest of the page is unaffected
        log.warning("enrolment %s cannot be read by the schedule", e.pk, exc_info=True)
        return coaching.unreadable(e.program.weeks, now.date(), pains[e.pk])
