"""
Whose clients a user looks after, and their histories (sessions, pains, guided sessions) for a
batch of enrolments in a fixed number of queries, for `programs.client_status` to work out
their dashboard rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Count, Q, QuerySet

from programs import coaching, safety
from programs.models import (
    CheckIn,
    Enrolment,
    GuidedExercise,
    GuidedSession,
    Hold,
    SessionLog,
)


def enrolments_of(coach) -> QuerySet[Enrolment]:
    """The enrolments a user looks after: her own clients, or everyone's for staff."""
    enrolments = Enrolment.objects.all()
    if not coach.is_staff:
        enrolments = enrolments.filter(coach=coach)
    return enrolments


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
