"""
A coach's daily digest: one email at her chosen local time, on the days when at least one of her
clients is flagged on the dashboard. It says how many and for what, never who.

- `programs.planning.plan_digests` keeps one outbox row (kind coach_digest, no enrolment, key
  her local date) for each of `digest_times` in the planning horizon.
- Whether a planned digest goes out is decided when it falls due: `programs.delivery` asks
  `summaries` what each coach's digest would say now, and a digest with nobody flagged is
  cancelled, not sent.

Who gets one: a user with a CoachProfile whose email_digest is on, who is active and a coach (or
staff). Members of the Coaches group without a profile get one (digest on, 07:30 UTC) the first
time planning runs after they joined, so a new coach does not miss flagged clients for want of
visiting /coach/settings/, where she changes the time and zone or turns it off. Staff who are
not coaches get a digest only once they save their settings.

Only her own clients count (enrolments whose coach she is), staff included: staff see every
client on the dashboard, but a digest of the whole service would be noise.

"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q

from programs import client_status, coaching, notifications, roles, schedule, standing
from programs.models import CoachProfile, Enrolment

# Pure parts


@dataclass(frozen=True)
class Summary:
    """What a coach's digest says: how many clients are flagged, and how many for each flag."""

    flagged: int
    by_flag: tuple[tuple[coaching.Flag, int], ...] = ()

    @property
    def urgent(self) -> int:
        """Clients held by an urgent sign: counted apart, and first, in the digest."""
        return dict(self.by_flag).get(coaching.Flag.URGENT, 0)

    @property
    def lines(self) -> list[tuple[str, int]]:
        """Every other flag, with how many clients have it."""
        return [
            (coaching.FLAG_LABELS[flag], count)
            for flag, count in self.by_flag
            if flag != coaching.Flag.URGENT
        ]

    def worth_sending(self, scheduled_for: datetime, now: datetime) -> bool:
        # One held up too long (the dispatcher was down) is dropped: tomorrow's comes.
        return self.flagged > 0 and not notifications.COACH_DIGEST.is_stale(now - scheduled_for)


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


# Who gets one


def profiles():
    membership = get_user_model().groups.through.objects.filter(
        user_id=OuterRef("user_id"), group__name=roles.COACH_GROUP
    )
    return CoachProfile.objects.select_related("user").annotate(in_group=Exists(membership))


def wants_digest(profile: CoachProfile) -> bool:
    """Uses `profiles()`'s annotation."""
    user = profile.user
    return profile.email_digest and user.is_active and (user.is_staff or profile.in_group)


# Sending


def summaries(coach_ids: Iterable[int], now: datetime) -> dict[int, Summary]:
    """What each of these coaches' digests would say now; a coach who no longer wants one
    (turned off, no longer a coach) is left out. A fixed number of queries for any number."""
    coach_ids = list(coach_ids)
    if not coach_ids:
        return {}
    wanting = [p.user_id for p in profiles().filter(user_id__in=coach_ids) if wants_digest(p)]
    own_clients = Enrolment.objects.filter(coach_id__in=wanting, status__in=Enrolment.FOLLOWED)
    # Her clients' stored dashboard rows say it, as her dashboard does. One the roll-over has
    # not reached yet, or not built, is brought up to date first.
    behind = own_clients.filter(Q(standing__isnull=True) | Q(standing__rolls_over_at__lte=now))
    if stale := list(behind.values_list("pk", flat=True)):
        client_status.refresh(stale, now)
    columns = [f"standing__{flag}" for flag in standing.STORED_FLAGS]
    flags: dict[int, list[tuple[coaching.Flag, ...]]] = defaultdict(list)
    for coach_id, failing, *stored in own_clients.annotate(
        failing=client_status.failing()
    ).values_list("coach_id", "failing", *columns):
        raised = [flag for flag, up in zip(standing.STORED_FLAGS, stored, strict=True) if up]
        flags[coach_id].append((*raised, coaching.Flag.FAILING) if failing else tuple(raised))
    return {coach_id: summarise(flags[coach_id]) for coach_id in wanting}
