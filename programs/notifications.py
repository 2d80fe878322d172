"""
Every kind of email the product sends, declared once.

A declaration says who gets it, whether she can turn it off (and under which preference), how
long it stays worth sending, how it comes to be planned and what must still hold when it falls
due. Its subject, text and HTML bodies are the templates emails/<key>_subject.txt,
emails/<key>.txt and emails/<key>.html. Planning (`programs.planning`), delivery
(`programs.delivery`), the emails (`programs.emails`), the preferences page and the unsubscribe
links all look kinds up here.

Plain data: no ORM, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum


class Planner(StrEnum):
    """How a row for a kind comes to exist."""

    SCHEDULE = "schedule"  # `programs.reminders.plan` over her schedule, ahead of time
    DIGEST = "digest"  # one a day at a coach's digest time (`programs.digests`)
    EVENT = "event"  # created when something happens: a red flag, a new message


class Recheck(StrEnum):
    """What must still hold when a row falls due, or it is cancelled rather than sent."""

    SCHEDULE = "schedule"  # planning would still ask for it now (not paused, held, moved...)
    DIGEST = "digest"  # at least one of the coach's clients is flagged
    ENROLLED = "enrolled"  # her program has not been withdrawn
    NONE = "none"  # always: a red-flag alert goes even after she withdrew
    UNACKNOWLEDGED = "unacknowledged"  # nobody has acknowledged the hold's alert yet


@dataclass(frozen=True)
class Preference:
    """A switch on her preferences page; `field` is the Enrolment field that holds it."""

    key: str
    field: str
    label: str


SESSION_PREFERENCE = Preference("session", "email_session", "Daily session reminders")
NUDGE_PREFERENCE = Preference("nudge", "email_nudge", "A nudge after a few days without a session")
STAGE_PREFERENCE = Preference("stage", "email_stage", "New stages and the end of the program")
CHECKIN_PREFERENCE = Preference("checkin", "email_checkin", "Weekly check-ins")
EVENING_PREFERENCE = Preference(
    "evening", "email_evening", "An evening follow-up when a training day has no session logged"
)

PREFERENCES: dict[str, Preference] = {
    p.key: p
    for p in (
        SESSION_PREFERENCE, NUDGE_PREFERENCE, EVENING_PREFERENCE, STAGE_PREFERENCE,
        CHECKIN_PREFERENCE,
    )
}  # fmt: skip


@dataclass(frozen=True)
class Kind:
    key: str  # stored in Notification.kind
    label: str
    planner: Planner
    recheck: Recheck
    to_coach: bool = False
    preference: Preference | None = None  # None: she cannot turn it off
    fresh_for: timedelta | None = None  # past this, dropped rather than sent late

    def __str__(self) -> str:
        return self.key

    @property
    def template(self) -> str:
        return f"emails/{self.key}"

    @property
    def prepared_ahead(self) -> bool:
        """Rendered a few minutes before it falls due (`programs.preparation`): the kinds sent
        in bulk at her reminder time, whose content changes only when her schedule does."""
        return self.planner == Planner.SCHEDULE

    def is_stale(self, late_by: timedelta) -> bool:
        return self.fresh_for is not None and late_by > self.fresh_for


# A reminder to train today is no use in the evening, nor a digest of yesterday's flags.
SAME_DAY = timedelta(hours=6)

SESSION = Kind(
    "session", "Session reminder", Planner.SCHEDULE, Recheck.SCHEDULE,
    preference=SESSION_PREFERENCE, fresh_for=SAME_DAY,
)  # fmt: skip
NUDGE = Kind(
    "nudge", "Nudge", Planner.SCHEDULE, Recheck.SCHEDULE,
    preference=NUDGE_PREFERENCE, fresh_for=SAME_DAY,
)  # fmt: skip
EVENING = Kind(
    "evening", "Evening follow-up", Planner.SCHEDULE, Recheck.SCHEDULE,
    preference=EVENING_PREFERENCE, fresh_for=timedelta(hours=3),
)  # fmt: skip
# A session reminder she asked to have again later: planned from her snooze, keyed by the
# reminder's local date, so snoozing again moves the one row.
SNOOZE = Kind(
    "snooze", "Snoozed session reminder", Planner.SCHEDULE, Recheck.SCHEDULE,
    preference=SESSION_PREFERENCE, fresh_for=SAME_DAY,
)  # fmt: skip
STAGE = Kind("stage", "New stage", Planner.SCHEDULE, Recheck.SCHEDULE, preference=STAGE_PREFERENCE)
CHECKIN = Kind(
    "checkin", "Weekly check-in", Planner.SCHEDULE, Recheck.SCHEDULE,
    preference=CHECKIN_PREFERENCE,
)  # fmt: skip
COMPLETE = Kind(
    "complete", "Program complete", Planner.SCHEDULE, Recheck.SCHEDULE,
    preference=STAGE_PREFERENCE,
)  # fmt: skip
COACH_ALERT = Kind(
    "coach_alert", "Red-flag alert to coach", Planner.EVENT, Recheck.NONE, to_coach=True
)
CLINIC_ALERT = Kind(
    "clinic_alert", "Red-flag alert to the clinic", Planner.EVENT, Recheck.UNACKNOWLEDGED
)
# To her or to her coach (the row's recipient): that a message waits in their thread, never
# what it says. One per unread stretch (`programs.conversation`).
NEW_MESSAGE = Kind("new_message", "New message email", Planner.EVENT, Recheck.ENROLLED)
COACH_DIGEST = Kind(
    "coach_digest", "Daily digest to coach", Planner.DIGEST, Recheck.DIGEST,
    to_coach=True, fresh_for=SAME_DAY,
)  # fmt: skip

KINDS: dict[str, Kind] = {
    k.key: k
    for k in (
        SESSION, NUDGE, EVENING, SNOOZE, STAGE, CHECKIN, COMPLETE,
        COACH_ALERT, CLINIC_ALERT, NEW_MESSAGE, COACH_DIGEST,
    )
}  # fmt: skip
SCHEDULED = tuple(k for k in KINDS.values() if k.planner == Planner.SCHEDULE)


def kind(key: str) -> Kind:
    """The declaration for a stored kind; KeyError for one that was never declared."""
    return KINDS[key]


def choices() -> list[tuple[str, str]]:
    return [(k.key, k.label) for k in KINDS.values()]
