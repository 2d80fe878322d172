"""
Who is told when a check-in raises a red-flag hold, and the record that proves it.

Every alert is an outbox row (`programs.notifications`), so a page may say someone was told
only when such a row exists.
"""

from __future__ import annotations

from datetime import datetime

from programs import notifications, safety, wakeups
from programs.models import CheckIn, Hold, Notification


def raise_for(hold: Hold, checkin: CheckIn, tier: int, now: datetime) -> list[Notification]:
    """Queue the alerts a hold calls for, inside the caller's transaction."""
    enrolment = hold.enrolment
    if not enrolment.coach_id:
        return []
    prefix = "urgent" if tier == safety.Tier.URGENT else "flag"
    alert, _ = Notification.objects.get_or_create(
        enrolment=enrolment,
        kind=notifications.COACH_ALERT.key,
        key=f"{prefix}-{checkin.pk}",
        defaults={"recipient_id": enrolment.coach_id, "scheduled_for": now, "due_at": now},
    )
    wakeups.send_on_commit()  # the alert goes now, not at the next dispatch tick
    return [alert]
