"""
Who is told when a check-in raises a red-flag hold, and the record that proves it.

Every alert is an outbox row (`programs.notifications`), so a page may say someone was told
only when such a row exists.

- She has a coach: the coach is alerted at once (coach_alert). If the clinic has an address
  (settings.CLINIC_ALERT_EMAIL), an escalation to it (clinic_alert) is queued for the hold's
  start plus ALERT_ESCALATE_AFTER_TIER1 or ALERT_ESCALATE_AFTER_URGENT; delivery cancels it if
  by then someone acknowledged the alert or cleared the hold (`Recheck.UNACKNOWLEDGED`).
- She has no coach: the clinic address is alerted at once, once per hold and tier.
- No clinic address: no clinic rows; the triage page says so to staff.

Rows are unique per (enrolment, kind, key), so raising the same hold again adds nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from programs import notifications, safety, wakeups
from programs.models import CheckIn, CoachAction, Enrolment, Hold, Notification

Status = Notification.Status
ESCALATE = "escalate"


def escalate_after(tier: int) -> timedelta:
    """How long a coach has to acknowledge an alert before the clinic is told."""
    seconds = (
        settings.ALERT_ESCALATE_AFTER_URGENT
        if tier == safety.Tier.URGENT
        else settings.ALERT_ESCALATE_AFTER_TIER1
    )
    return timedelta(seconds=seconds)


def clinic_key(hold_pk: int, tier: int) -> str:
    prefix = "urgent" if tier == safety.Tier.URGENT else "flag"
    return f"{prefix}-hold-{hold_pk}"


def escalation_key(hold_pk: int) -> str:
    return f"{ESCALATE}-hold-{hold_pk}"


def hold_of(key: str) -> int | None:
    """The hold a clinic alert's key names."""
    _, _, pk = key.rpartition("-hold-")
    return int(pk) if pk.isdigit() else None


def is_escalation(key: str) -> bool:
    return key.startswith(f"{ESCALATE}-")


def raise_for(hold: Hold, checkin: CheckIn | None, tier: int, now: datetime) -> list[Notification]:
    """Queue the alerts a hold calls for, inside the caller's transaction, and return them
    (existing ones included, so a caller may say who was told). `checkin` is None for signs
    reported outside a check-in."""
    enrolment = hold.enrolment
    tier = max(tier, hold.tier)
    address = settings.CLINIC_ALERT_EMAIL
    rows = []
    if enrolment.coach_id:
        prefix = "urgent" if tier == safety.Tier.URGENT else "flag"
        # One per check-in and hold, so each new red flag reaches her coach, also when the
        # same week's answers raise a new hold after the last was cleared; a report outside a
        # check-in once per hold and tier.
        key = f"{prefix}-{checkin.pk}-hold-{hold.pk}" if checkin else clinic_key(hold.pk, tier)
        alert, _ = Notification.objects.get_or_create(
            enrolment=enrolment,
            kind=notifications.COACH_ALERT.key,
            key=key,
            defaults={"recipient_id": enrolment.coach_id, "scheduled_for": now, "due_at": now},
        )
        rows.append(alert)
        if address:
            rows.append(_escalation(hold, tier, address, now))
    elif address:
        alert, _ = Notification.objects.get_or_create(
            enrolment=enrolment,
            kind=notifications.CLINIC_ALERT.key,
            key=clinic_key(hold.pk, tier),
            defaults={"address": address, "scheduled_for": now, "due_at": now},
        )
        rows.append(alert)
    if rows:
        wakeups.send_on_commit()  # the alert goes now, not at the next dispatch tick
    return rows


def _escalation(hold: Hold, tier: int, address: str, now: datetime) -> Notification:
    """The clinic's copy if the coach does not acknowledge in time. A hold raised to urgent
    brings a pending one forward (never later), giving the coach the urgent delay from now."""
    due = hold.started_at + escalate_after(tier)
    row, created = Notification.objects.get_or_create(
        enrolment=hold.enrolment,
        kind=notifications.CLINIC_ALERT.key,
        key=escalation_key(hold.pk),
        defaults={"address": address, "scheduled_for": due, "due_at": due},
    )
    sooner = max(due, now + escalate_after(tier))
    if not created and row.status == Status.PENDING and row.due_at > sooner:
        moved = Notification.objects.filter(pk=row.pk, status=Status.PENDING, due_at__gt=sooner)
        moved.update(scheduled_for=sooner, due_at=sooner)
        row.refresh_from_db()
    return row


def acknowledge(enrolment: Enrolment, by, now: datetime) -> tuple[Hold, bool]:
    """Someone who can act has seen her alert: recorded on the hold and in her coach actions.
    Returns the hold and whether this call acknowledged it (False: it already was)."""
    with transaction.atomic():
        hold = enrolment.holds.select_for_update().filter(cleared_at__isnull=True).first()
        if hold is None:
            raise ValidationError("There is no open alert to acknowledge.")
        if hold.acknowledged_at is not None:
            return hold, False
        hold.acknowledged_at, hold.acknowledged_by = now, by
        hold.save(update_fields=["acknowledged_at", "acknowledged_by"])
        CoachAction.record(enrolment, by, CoachAction.Kind.ACKNOWLEDGED, now)
    return hold, True


def unacknowledged(hold_ids) -> set[int]:
    """Of these holds, those still open and not acknowledged: one query for a whole batch."""
    hold_ids = list(hold_ids)
    if not hold_ids:
        return set()
    return set(
        Hold.objects.filter(
            pk__in=hold_ids, cleared_at__isnull=True, acknowledged_at__isnull=True
        ).values_list("pk", flat=True)
    )
