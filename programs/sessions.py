"""
A guided session she went through, saved whole: the session, how each exercise went, and a
SessionLog for each one she did, which adherence counts.
"""

from __future__ import annotations

from datetime import date

from django.db import transaction

from programs.effects import refresh_standing
from programs.models import GuidedExercise, GuidedSession, SessionLog, mark_for_planning


@transaction.atomic
def record(enrolment, day: date, pain_after: int | None, results) -> GuidedSession:
    """The session and a row per (prescription, done, felt) in `results`, all or nothing."""
    # Inserted without signals, like its rows below: what follows is done once, at the end.
    [session] = GuidedSession.objects.bulk_create(
        [GuidedSession(enrolment=enrolment, local_date=day, pain_after=pain_after)]
    )
    GuidedExercise.objects.bulk_create(
        GuidedExercise(session=session, prescription=p, done=done, felt=felt)
        for p, done, felt in results
    )
    # One insert for all she did; one logged earlier today (on Today) stays as it is.
    logs = [
        SessionLog(enrolment=enrolment, prescription=p, local_date=day)
        for p, done, _ in results
        if done
    ]
    SessionLog.objects.bulk_create(logs, ignore_conflicts=True)
    # What the session changes (her nudges, her flags, an exercise found too hard), once.
    if logs:
        mark_for_planning([enrolment.pk])
    refresh_standing([enrolment.pk])
    return session
