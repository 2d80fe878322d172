"""Recording a weekly check-in, and what its answers set in motion.

A warning sign puts her program on hold (no new stages, no reminders to train) and tells her
coach; an urgent sign does the same, urgently, whether it comes in a check-in or from the "Get
help now" page. A coach or staff member clears the hold.

One check-in per program week: answering again changes that week's answers, and alerts again
only for a sign the earlier answers did not have, or a more serious one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from programs import alerts, notifications, safety
from programs.models import CheckIn, Enrolment, Hold, Notification


@dataclass(frozen=True)
class Report:
    """What an urgent report raised: the assessment and the alert rows queued for it."""

    assessment: safety.Assessment
    alerts: list[Notification] = field(default_factory=list)


def for_week(enrolment: Enrolment, week: int) -> CheckIn | None:
    """Her check-in for that program week, if she has sent one."""
    return enrolment.checkins.filter(week=week).order_by("-submitted_at").first()


def record(enrolment: Enrolment, week: int, answers: dict, now: datetime) -> CheckIn:
    """Save, or change, her check-in for `week` atomically, with any hold and alerts it calls
    for. The returned check-in carries `assessment` and `alerts` (the rows that prove who was
    told by this submission)."""
    with transaction.atomic():
        # Lock her row so two check-ins at once cannot both open a hold or both add a week.
        enrolment = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
        checkin = for_week(enrolment, week)
        earlier = enrolment.checkins.filter(week__lt=week).order_by("-week", "-submitted_at")
        previous_pain = earlier.values_list("pain", flat=True).first()
        assessment = safety.assess(
            answers["pain"],
            answers["warning_signs"],
            answers["urgent_signs"],
            previous_pain=previous_pain,
        )
        before = None
        if checkin is None:
            checkin = CheckIn(enrolment=enrolment, week=week, submitted_at=now)
        else:
            before = safety.assess(
                checkin.pain, checkin.warning_signs, checkin.urgent_signs, previous_pain
            )
            checkin.updated_at = now
        checkin.pain = answers["pain"]
        checkin.pain_sites = list(answers["pain_sites"])
        checkin.warning_signs = list(answers["warning_signs"])
        checkin.urgent_signs = list(answers["urgent_signs"])
        checkin.sessions_felt = answers["sessions_felt"]
        checkin.note = answers["note"]
        checkin.tier = assessment.tier
        checkin.save()
        rows = []
        if assessment.holds_program and (before is None or assessment.escalates(before)):
            rows = _hold(enrolment, checkin, assessment.hold_tier, now)
        elif assessment.holds_program:
            rows = _alerts_already_raised(enrolment, checkin, now)
    checkin.assessment = assessment
    checkin.alerts = rows
    return checkin


def report_urgent(enrolment: Enrolment, signs, now: datetime) -> Report:
    """Urgent signs she reports from the "Get help now" page, outside a check-in: the same
    urgent hold and alerts a check-in would raise."""
    assessment = safety.assess_urgent(signs)
    if not assessment.urgent:
        raise ValidationError("Tick at least one sign to report it.")
    with transaction.atomic():
        enrolment = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
        rows = _hold(enrolment, None, safety.Tier.URGENT, now)
    return Report(assessment, rows)


def _hold(
    enrolment: Enrolment, checkin: CheckIn | None, tier: int, now: datetime
) -> list[Notification]:
    hold = enrolment.holds.filter(cleared_at__isnull=True).first()
    if hold is None:
        hold = Hold.objects.create(enrolment=enrolment, tier=tier, checkin=checkin, started_at=now)
    elif tier > hold.tier:
        hold.tier = tier
        hold.checkin = checkin or hold.checkin
        hold.save(update_fields=["tier", "checkin"])
    return alerts.raise_for(hold, checkin, tier, now)


def _alerts_already_raised(enrolment: Enrolment, checkin: CheckIn, now: datetime) -> list:
    """The same answers again: nothing new is raised, but her page may still say who was
    told, from the rows her first answers queued (raising is idempotent per hold and tier)."""
    hold = enrolment.holds.filter(cleared_at__isnull=True, checkin=checkin).first()
    return alerts.raise_for(hold, checkin, hold.tier, now) if hold else []


def told(rows: list[Notification], now: datetime) -> dict:
    """Who her page may say was alerted: only what a queued row proves, and not an escalation
    that waits to see whether her coach answers in time."""
    coach = next((r for r in rows if r.kind == notifications.COACH_ALERT.key), None)
    return {
        "coach_alerted": coach is not None,
        "coach_name": coach.recipient.first_name if coach else "",
        "clinic_alerted": any(
            r.kind == notifications.CLINIC_ALERT.key and r.due_at <= now for r in rows
        ),
    }


def clear_hold(enrolment: Enrolment, by, now: datetime) -> Hold:
    """A coach or staff member lifts her hold; her program clock moves again."""
    with transaction.atomic():
        hold = enrolment.holds.select_for_update().filter(cleared_at__isnull=True).first()
        if hold is None:
            raise ValidationError("There is no hold to clear.")
        hold.cleared_at, hold.cleared_by = now, by
        hold.save(update_fields=["cleared_at", "cleared_by"])
    return hold
