"""Recording a weekly check-in, and what its answers set in motion.

A warning sign puts her program on hold (no new stages, no reminders to train) and tells her
coach; an urgent sign does the same, urgently. A coach or staff member clears the hold.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from programs import alerts, safety
from programs.models import CheckIn, Enrolment, Hold


def record(enrolment: Enrolment, week: int, answers: dict, now: datetime) -> CheckIn:
    """Save one check-in atomically, with any hold and coach alert it calls for."""
    with transaction.atomic():
        # Lock her row so two check-ins at once cannot both open a hold.
        enrolment = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
        previous = enrolment.checkins.order_by("-submitted_at").values_list("pain", flat=True)
        assessment = safety.assess(
            answers["pain"],
            answers["warning_signs"],
            answers["urgent_signs"],
            previous_pain=previous.first(),
        )
        checkin = CheckIn.objects.create(
            enrolment=enrolment,
            week=week,
            submitted_at=now,
            pain=answers["pain"],
            pain_sites=list(answers["pain_sites"]),
            warning_signs=list(answers["warning_signs"]),
            urgent_signs=list(answers["urgent_signs"]),
            sessions_felt=answers["sessions_felt"],
            note=answers["note"],
            tier=assessment.tier,
        )
        if assessment.holds_program:
            _hold(enrolment, checkin, assessment.tier, now)
    checkin.assessment = assessment
    return checkin


def _hold(enrolment: Enrolment, checkin: CheckIn, tier: int, now: datetime) -> None:
    hold = enrolment.holds.filter(cleared_at__isnull=True).first()
    if hold is None:
        hold = Hold.objects.create(enrolment=enrolment, tier=tier, checkin=checkin, started_at=now)
    elif tier > hold.tier:
        hold.tier, hold.checkin = tier, checkin
        hold.save(update_fields=["tier", "checkin"])
    alerts.raise_for(hold, checkin, tier, now)


def clear_hold(enrolment: Enrolment, by, now: datetime) -> Hold:
    """A coach or staff member lifts her hold; her program clock moves again."""
    with transaction.atomic():
        hold = enrolment.holds.select_for_update().filter(cleared_at__isnull=True).first()
        if hold is None:
            raise ValidationError("There is no hold to clear.")
        hold.cleared_at, hold.cleared_by = now, by
        hold.save(update_fields=["cleared_at", "cleared_by"])
    return hold
