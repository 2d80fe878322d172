"""
A coach's daily digest: one email at her chosen local time, on the days when at least one of her
clients is flagged on the dashboard. It says how many and for what, never who.

- `plan_digests` walks coach profiles in batches and keeps one outbox row (kind coach_digest, no
  enrolment, key her local date) for each digest time in the next 48 hours. Like
  `outbox.plan_all` it creates what is missing, moves what changed (a new time or time zone),
  cancels what is no longer wanted (she turned it off, or is no longer a coach), and running it
  twice changes nothing.
- Whether a planned digest goes out is decided when it falls due: `outbox.deliver` asks
  `summaries` what each coach's digest would say now, and a digest with nobody flagged is
  cancelled, not sent.

Who gets one: a user with a CoachProfile whose email_digest is on, who is active and a coach (or
staff). Members of the Coaches group without a profile get one (digest on, 07:30 UTC) the first
time planning runs after they joined, so a new coach does not miss flagged clients for want of
visiting /coach/settings/, where she changes the time and zone or turns it off. Staff who are
not coaches get a digest only once they save their settings.

Only her own clients count (enrolments whose coach she is), staff included: staff see every
client on the dashboard, but a digest of the whole service would be noise.

Queries grow with the number of batches, not of coaches.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef

from programs import clients, coaching, outbox, reminders, roles, schedule
from programs.models import CoachProfile, Enrolment, Notification

KIND = reminders.Kind.COACH_DIGEST
# A digest held up for longer than this (the dispatcher was down) is dropped: tomorrow's comes.
STALE_AFTER = timedelta(hours=6)
Status = Notification.Status


# Pure parts


@dataclass(frozen=True)
class Summary:
    """What a coach's digest says: how many clients are flagged, and how many for each flag."""

    flagged: int
    by_flag: tuple[tuple[coaching.Flag, int], ...] = ()

    @property
    def lines(self) -> list[tuple[str, int]]:
        return [(coaching.FLAG_LABELS[flag], count) for flag, count in self.by_flag]

    def worth_sending(self, scheduled_for: datetime, now: datetime) -> bool:
        return self.flagged > 0 and now - scheduled_for <= STALE_AFTER


def summarise(client_flags: Iterable[tuple[coaching.Flag, ...]]) -> Summary:
    """Count flagged clients, and clients per flag (in the dashboard's order of urgency)."""
    per_flag: Counter[coaching.Flag] = Counter()
    flagged = 0
    for flags in client_flags:
        if flags:
            flagged += 1
            per_flag.update(set(flags))
    return Summary(
        flagged, tuple((flag, per_flag[flag]) for flag in coaching.Flag if per_flag[flag])
    )


def digest_times(
    tz: ZoneInfo, at: time, start: datetime, end: datetime
) -> Iterator[tuple[str, datetime]]:
    """(her local date, UTC instant) of each digest in [start, end). A time skipped by a DST
    change moves to the first minute after the gap (see `schedule.local_instant`)."""
    day = start.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date() + timedelta(days=1)
    while day <= last:
        instant = schedule.local_instant(day, at, tz)
        if start <= instant < end:
            yield day.isoformat(), instant
        day += timedelta(days=1)


# Planning


@dataclass
class DigestReport:
    coaches: int = 0
    batches: int = 0
    created: int = 0
    moved: int = 0
    cancelled: int = 0


def plan_digests(now: datetime, batch_size: int | None = None) -> DigestReport:
    """Plan every coach's digests for the next 48 hours, batch by batch."""
    batch_size = batch_size or int(getattr(settings, "OUTBOX_PLAN_BATCH", 500))
    _create_missing_profiles(batch_size)
    report = DigestReport()
    last_pk = 0
    while True:
        batch = list(_profiles().filter(pk__gt=last_pk).order_by("pk")[:batch_size])
        if not batch:
            return report
        plan_batch(batch, now, report)
        last_pk = batch[-1].pk


def plan_for(coach, now: datetime) -> DigestReport:
    """Re-plan one coach's digests at once, after she changed her settings."""
    report = DigestReport()
    plan_batch(list(_profiles().filter(user=coach)), now, report)
    return report


def plan_batch(profiles: list[CoachProfile], now: datetime, report: DigestReport) -> None:
    start, end = now - outbox.PLAN_GRACE, now + outbox.PLAN_AHEAD
    wanted: dict[tuple[int, str], datetime] = {}
    for profile in profiles:
        if _wants_digest(profile):
            for key, at in digest_times(profile.tz, profile.digest_time, start, end):
                wanted[(profile.user_id, key)] = at

    existing = {
        (n.recipient_id, n.key): n
        for n in Notification.objects.filter(
            enrolment__isnull=True,
            kind=KIND,
            recipient_id__in=[p.user_id for p in profiles],
            scheduled_for__gte=start - timedelta(days=2),
        ).only("pk", "recipient_id", "key", "status", "scheduled_for", "due_at")
    }

    def new_row(ident: tuple, due_at: datetime) -> Notification:
        coach_id, key = ident
        return Notification(
            enrolment=None,
            recipient_id=coach_id,
            kind=KIND,
            key=key,
            scheduled_for=due_at,
            due_at=due_at,
        )

    # Turned off, then on again: revived. A digest cancelled when it fell due (nobody was
    # flagged) stays cancelled: its moment has passed.
    created, moved, cancelled = outbox.reconcile(
        wanted, existing, start, new_row, revive=lambda row, due_at: due_at > now
    )
    report.coaches += len(profiles)
    report.batches += 1
    report.created += created
    report.moved += moved
    report.cancelled += cancelled


def _create_missing_profiles(batch_size: int) -> None:
    """Give each member of the Coaches group a profile with the defaults (digest on)."""
    users = get_user_model().objects.filter(
        groups__name=roles.COACH_GROUP, coach_profile__isnull=True
    )
    while missing := list(users.values_list("pk", flat=True)[:batch_size]):
        CoachProfile.objects.bulk_create(
            [CoachProfile(user_id=pk) for pk in missing], ignore_conflicts=True
        )


def _profiles():
    membership = get_user_model().groups.through.objects.filter(
        user_id=OuterRef("user_id"), group__name=roles.COACH_GROUP
    )
    return CoachProfile.objects.select_related("user").annotate(in_group=Exists(membership))


def _wants_digest(profile: CoachProfile) -> bool:
    """Uses `_profiles()`'s annotation."""
    user = profile.user
    return profile.email_digest and user.is_active and (user.is_staff or profile.in_group)


# Sending


def summaries(coach_ids: Iterable[int], now: datetime) -> dict[int, Summary]:
    """What each of these coaches' digests would say now; a coach who no longer wants one
    (turned off, no longer a coach) is left out. A fixed number of queries for any number."""
    coach_ids = list(coach_ids)
    if not coach_ids:
        return {}
    wanting = [p.user_id for p in _profiles().filter(user_id__in=coach_ids) if _wants_digest(p)]
    own_clients = Enrolment.objects.filter(coach_id__in=wanting, status__in=Enrolment.CURRENT)
    flags: dict[int, list[tuple[coaching.Flag, ...]]] = defaultdict(list)
    for row in clients.load(own_clients, now):
        flags[row.enrolment.coach_id].append(row.client.flags)
    return {coach_id: summarise(flags[coach_id]) for coach_id in wanting}
