"""
Planning: turning what `programs.reminders` and `programs.digests` say is due into outbox rows.

Each enrolment records how far ahead her emails are planned (`planned_until`). Planning her
makes her rows match the plan for the next `HORIZON`: it creates what is missing, moves what
changed (a new reminder time or zone), revives what is wanted again and cancels what is no
longer wanted (a pause, a hold, a withdrawal). Running it twice changes nothing.

She is planned again when:
- something her emails depend on changed: the model layer empties `planned_until` in the same
  transaction and asks a worker to plan her once it commits (`programs.wakeups`);
- her horizon runs short: the periodic `sweep` finds her with an indexed query once fewer than
  `settings.PLAN_LEAD_SECONDS` are left, so in steady state it examines about
  N × sweep interval ÷ (horizon − lead) enrolments, not N.
The sweep only counts those it finds (no further than it may ask for) and asks for one planning
task per batch, so it holds a worker for a moment, not for the whole hand-out. Each task claims
its own bounded batch (moving `planned_until` past the lead for a short lease, so other tasks
and the next sweep pass them by), then plans it; a task with nothing left to claim does nothing.
A batch whose worker died is found again when its lease runs out.

Once her last email is planned and its moment has passed, her enrolment is `completed` and
leaves the sweep for good. An enrolment that cannot be planned (a broken time zone, a date out
of range, any error) is recorded with its error and retried an hour later; the rest of her
batch goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections, router, transaction
from django.db.models import NOT_PROVIDED, Field, Q
from django.db.models.constants import OnConflict
from django.utils import timezone

from programs import digests, facts, notifications, reminders, roles
from programs.models import CoachProfile, Enrolment, Notification

log = logging.getLogger(__name__)

HORIZON = timedelta(hours=48)
# Rows for moments just past are still planned, so a late planning run loses nothing.
GRACE = timedelta(minutes=15)
# A broken enrolment is tried again this much later, not on every sweep.
RETRY_BROKEN = timedelta(hours=1)

Status = Notification.Status
SCHEDULED_KEYS = [k.key for k in notifications.SCHEDULED]


def lead() -> timedelta:
    """How long before her horizon runs out the sweep plans her again."""
    return timedelta(seconds=settings.PLAN_LEAD_SECONDS)


def claim_lease() -> timedelta:
    """How long a batch handed to a worker is left alone by later sweeps."""
    return timedelta(seconds=settings.PLAN_CLAIM_SECONDS)


@dataclass
class PlanReport:
    enrolments: int = 0
    batches: int = 0
    created: int = 0
    moved: int = 0
    cancelled: int = 0
    completed: int = 0
    broken: list[int] = field(default_factory=list)

    def add(self, other: PlanReport) -> None:
        for name in ("enrolments", "batches", "created", "moved", "cancelled", "completed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.broken.extend(other.broken)


@dataclass
class SweepReport:
    examined: int = 0  # enrolments found due, counted no further than `batches` can take
    batches: int = 0  # planning tasks asked for, one a batch
    coaches: int = 0


# The sweep


def _due(now: datetime) -> Q:
    return Q(status__in=Enrolment.CURRENT) & (
        Q(planned_until__isnull=True) | Q(planned_until__lte=now + lead())
    )


def count_due(now: datetime, limit: int) -> int:
    """How many enrolments are due for planning, counting no further than `limit`."""
    return Enrolment.objects.filter(_due(now))[:limit].count()


def claim_due(now: datetime, limit: int) -> list[int]:
    """Take up to `limit` enrolments due for planning, for one worker, for a lease."""
    with transaction.atomic():
        ids = list(
            Enrolment.objects.filter(_due(now))
            .order_by("planned_until")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            Enrolment.objects.filter(_due(now), pk__in=ids).update(
                planned_until=now + lead() + claim_lease()
            )
    return ids


def sweep(
    now: datetime,
    ask: Callable[[], None],
    batch_size: int | None = None,
    max_batches: int | None = None,
) -> SweepReport:
    """Plan the coaches' digests that are due, and `ask` once for each batch of enrolments due
    for planning, up to `max_batches`: each time for a task that runs `plan_due`. Memory and
    queries do not grow with N, nor with what is due."""
    batch_size = batch_size or settings.PLAN_BATCH
    max_batches = max_batches or settings.PLAN_MAX_BATCHES_PER_SWEEP
    report = SweepReport()
    report.coaches = plan_digests(now).coaches
    report.examined = count_due(now, batch_size * max_batches)
    report.batches = -(-report.examined // batch_size)
    for _ in range(report.batches):
        ask()
    return report


def plan_due(now: datetime, batch_size: int | None = None) -> PlanReport:
    """Claim a batch of the enrolments due for planning and plan them: the task the sweep asks
    for. Nothing left to claim (others took it first): nothing to do."""
    ids = claim_due(now, batch_size or settings.PLAN_BATCH)
    return plan_enrolments(ids, now) if ids else PlanReport()


def plan_all(now: datetime, batch_size: int | None = None) -> PlanReport:
    """Plan every current enrolment now, in this process, batch by batch (the
    plan_notifications command; the sweep is what runs periodically)."""
    batch_size = batch_size or settings.PLAN_BATCH
    report = PlanReport()
    last_pk = 0
    while True:
        ids = list(
            Enrolment.objects.filter(status__in=Enrolment.CURRENT, pk__gt=last_pk)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            break
        report.add(plan_enrolments(ids, now))
        last_pk = ids[-1]
    plan_digests(now, everyone=True)
    return report


def plan_for(enrolment: Enrolment, now: datetime) -> PlanReport:
    """Plan one enrolment at once."""
    return plan_enrolments([enrolment.pk], now)


# Planning a batch of enrolments


def plan_enrolments(ids: Iterable[int], now: datetime) -> PlanReport:
    """Make these enrolments' rows match their plan for the next HORIZON, in one transaction
    that holds their rows, so a change made meanwhile waits and then marks them again."""
    report = PlanReport()
    with transaction.atomic():
        # Waits for a change or a claim in flight on any of them (both are short); in pk
        # order, so two planners of overlapping batches never deadlock.
        locked = list(
            Enrolment.objects.filter(pk__in=list(ids))
            .order_by("pk")
            .select_for_update()
            .values_list("pk", flat=True)
        )
        batch = list(
            Enrolment.objects.filter(pk__in=locked).select_related("program").order_by("pk")
        )
        if batch:
            _plan_batch(batch, now, report)
    for pk in report.broken:
        log.warning("enrolment %s could not be planned; recorded on the enrolment", pk)
    return report


def _plan_batch(batch: list[Enrolment], now: datetime, report: PlanReport) -> None:
    start, end = now - GRACE, now + HORIZON
    related = facts.related_for(e.pk for e in batch)
    specs = facts.specs_for(batch, related)
    recipients, broken = facts.recipients(batch, specs, related)
    wanted: dict[tuple[int, str, str], datetime] = {}
    finished = []
    for enrolment in batch:
        recipient = recipients.get(enrolment.pk)
        if recipient is None or not enrolment.is_current:
            continue
        try:
            planned = reminders.plan(recipient, start, end)
            if enrolment.status == Enrolment.Status.ACTIVE and reminders.finished(
                recipient, now, GRACE
            ):
                finished.append(enrolment.pk)
        except Exception as error:  # her data alone is at fault
            broken[enrolment.pk] = error
            continue
        for item in planned:
            wanted[(enrolment.pk, item.kind.key, item.key)] = item.due_at

    ids = [e.pk for e in batch if e.pk not in broken]
    existing = {
        (n.enrolment_id, n.kind, n.key): n
        for n in Notification.objects.filter(
            enrolment_id__in=ids,
            kind__in=SCHEDULED_KEYS,
            scheduled_for__gte=start - timedelta(days=2),
        ).only("pk", "enrolment_id", "kind", "key", "status", "scheduled_for", "due_at")
    }
    owners = {e.pk: e.user_id for e in batch}

    def new_row(ident: tuple) -> NewRow:
        pk, kind, key = ident
        return pk, owners[pk], kind, key

    created, moved, cancelled = reconcile(wanted, existing, start, new_row)
    Enrolment.objects.filter(pk__in=ids).update(
        planned_until=end, plan_error="", plan_failed_at=None
    )
    completed = finished and Enrolment.objects.filter(
        pk__in=finished, status=Enrolment.Status.ACTIVE
    ).update(status=Enrolment.Status.COMPLETED)
    for pk, error in broken.items():
        Enrolment.objects.filter(pk=pk).update(
            planned_until=now + lead() + RETRY_BROKEN,  # the sweep comes back an hour from now
            plan_error=facts.describe(error),
            plan_failed_at=now,
        )
    report.enrolments += len(batch)
    report.batches += 1
    report.created += created
    report.moved += moved
    report.cancelled += cancelled
    report.completed += completed or 0
    report.broken.extend(broken)


# A row to create: (enrolment id or None, recipient id, kind, key).
NewRow = tuple[int | None, int, str, str]


def reconcile(
    wanted: dict[tuple, datetime],
    existing: dict[tuple, Notification],
    start: datetime,
    new_row: Callable[[tuple], NewRow],
    revive: Callable[[Notification, datetime], bool] = lambda row, due_at: True,
) -> tuple[int, int, int]:
    """Make the rows match what planning wants, and return (created, moved, cancelled).

    `wanted` maps a row's identity to when it should go; `existing` holds the rows already
    there for the same people. Missing rows are created (`new_row` says whose they are);
    pending rows whose time changed are moved; cancelled rows wanted again are revived when
    `revive` agrees; pending rows from `start` on that are no longer wanted are cancelled. Sent
    and failed rows are never touched.
    """
    to_create, to_move, to_cancel = [], [], []
    for ident, due_at in wanted.items():
        row = existing.get(ident)
        if row is None:
            to_create.append((*new_row(ident), due_at))
        elif (row.status == Status.PENDING and row.scheduled_for != due_at) or (
            row.status == Status.CANCELLED and revive(row, due_at)
        ):
            row.scheduled_for = row.due_at = due_at
            row.status = Status.PENDING
            row.prepared = None  # rendered for its old moment
            to_move.append(row)
    for ident, row in existing.items():
        if row.status == Status.PENDING and ident not in wanted and row.scheduled_for >= start:
            to_cancel.append(row.pk)

    with transaction.atomic(savepoint=False):
        # A concurrent planner may have inserted the same rows: the unique key makes that a no-op.
        if to_create:
            _create(to_create)
        if to_move:
            Notification.objects.bulk_update(
                to_move, ["scheduled_for", "due_at", "status", "prepared"]
            )
        if to_cancel:
            Notification.objects.filter(pk__in=to_cancel, status=Status.PENDING).update(
                status=Status.CANCELLED, prepared=None
            )
    return len(to_create), len(to_move), len(to_cancel)


def _create(rows: list[tuple[int | None, int, str, str, datetime]]) -> None:
    """Insert outbox rows (a NewRow and when it goes), every other column at its default,
    skipping any that exist already. What `bulk_create(ignore_conflicts=True)` does, without
    an instance per row nor preparing each of its values through its field: planning inserts
    about 2.5 rows an enrolment, the largest part of its database work."""
    connection = connections[router.db_for_write(Notification)]
    ops = connection.ops
    given = ["enrolment", "recipient", "kind", "key", "scheduled_for", "due_at"]
    # Columns whose default is NULL are left out of the statement: the driver binds every
    # parameter of every row, and for a batch's thousand rows that is most of inserting them.
    rest = [
        f
        for f in Notification._meta.concrete_fields
        if not f.primary_key and f.name not in given and not _null_by_default(f)
    ]
    fields = [Notification._meta.get_field(n) for n in given] + rest
    now = timezone.now()
    defaults = [
        f.get_db_prep_save(
            now if getattr(f, "auto_now_add", False) else f.get_default(),
            connection,
        )
        for f in rest
    ]
    columns = ", ".join(ops.quote_name(f.column) for f in fields)
    table = ops.quote_name(Notification._meta.db_table)
    insert = ops.insert_statement(on_conflict=OnConflict.IGNORE)
    suffix = ops.on_conflict_suffix_sql(fields, OnConflict.IGNORE, None, None)
    placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
    size = max(ops.bulk_batch_size(fields, rows), 1)
    with connection.cursor() as cursor:
        for offset in range(0, len(rows), size):
            part = rows[offset : offset + size]
            params = []
            for enrolment_id, recipient_id, kind, key, due_at in part:
                at = ops.adapt_datetimefield_value(due_at)
                params.extend((enrolment_id, recipient_id, kind, key, at, at, *defaults))
            values = ", ".join([placeholder] * len(part))
            cursor.execute(f"{insert} {table} ({columns}) VALUES {values} {suffix}", params)


def _null_by_default(f: Field) -> bool:
    """The column is NULL unless given: nullable, with no default of its own in Python or in
    the database."""
    return (
        f.null
        and f.get_default() is None
        and not getattr(f, "auto_now_add", False)
        and f.db_default is NOT_PROVIDED
    )


# Coaches' digests


@dataclass
class DigestReport:
    coaches: int = 0
    batches: int = 0
    created: int = 0
    moved: int = 0
    cancelled: int = 0


def plan_digests(
    now: datetime, everyone: bool = False, batch_size: int | None = None
) -> DigestReport:
    """Plan the digests of every coach whose horizon runs short or whose settings changed
    (`everyone`: of every coach), batch by batch."""
    batch_size = batch_size or settings.PLAN_BATCH
    _create_missing_profiles(batch_size)
    due = Q() if everyone else Q(planned_until__isnull=True) | Q(planned_until__lte=now + lead())
    report = DigestReport()
    last_pk = 0
    while True:
        batch = list(digests.profiles().filter(due, pk__gt=last_pk).order_by("pk")[:batch_size])
        if not batch:
            return report
        _plan_digest_batch(batch, now, report)
        last_pk = batch[-1].pk


def plan_digests_for(coach_ids: Iterable[int], now: datetime) -> DigestReport:
    """Plan these coaches' digests at once, after they changed their settings."""
    report = DigestReport()
    batch = list(digests.profiles().filter(user_id__in=list(coach_ids)))
    if batch:
        _plan_digest_batch(batch, now, report)
    return report


def _plan_digest_batch(profiles: list[CoachProfile], now: datetime, report: DigestReport):
    start, end = now - GRACE, now + HORIZON
    wanted: dict[tuple[int, str], datetime] = {}
    for profile in profiles:
        if not digests.wants_digest(profile):
            continue
        try:
            for key, at in digests.digest_times(profile.tz, profile.digest_time, start, end):
                wanted[(profile.user_id, key)] = at
        except Exception:  # a broken zone: her digest waits, the other coaches' do not
            log.warning("coach profile %s could not be planned", profile.pk, exc_info=True)

    kind = notifications.COACH_DIGEST.key
    existing = {
        (n.recipient_id, n.key): n
        for n in Notification.objects.filter(
            enrolment__isnull=True,
            kind=kind,
            recipient_id__in=[p.user_id for p in profiles],
            scheduled_for__gte=start - timedelta(days=2),
        ).only("pk", "recipient_id", "key", "status", "scheduled_for", "due_at")
    }

    def new_row(ident: tuple) -> NewRow:
        coach_id, key = ident
        return None, coach_id, kind, key

    # Turned off, then on again: revived. A digest cancelled when it fell due (nobody was
    # flagged) stays cancelled: its moment has passed.
    created, moved, cancelled = reconcile(
        wanted, existing, start, new_row, revive=lambda row, due_at: due_at > now
    )
    CoachProfile.objects.filter(pk__in=[p.pk for p in profiles]).update(planned_until=end)
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
