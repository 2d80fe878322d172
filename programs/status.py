"""
Whether planning and sending are keeping up: the figures behind the staff status page
(/status/) and its JSON twin for monitoring (/status.json).

`report` reads them in five queries, however many rows there are: the heartbeats the periodic
jobs record (`programs.tasks`), what is due in the outbox, what failed lately, and the
enrolments whose planning fails. `judge` decides from those plain values what is wrong, in
words a person on call can act on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db.models import Count, Min, Q

from programs import delivery, planning
from programs.models import ClientStatus, Enrolment, Heartbeat, Notification

JOBS = ("sweep", "plan", "dispatch", "send", "roll_over")
LIVE = (Notification.Status.PENDING, Notification.Status.SENDING)
LATE = timedelta(minutes=5)  # the oldest due email waiting longer than this is a problem
SWEEPS_MISSED = 3  # planning has stopped once this many sweep intervals passed without one
RECENT = timedelta(hours=24)
# A dashboard row this long past its roll-over (her midnight) means the roll-over has stopped.
ROLL_OVER_LATE = timedelta(minutes=10)
LISTED = 20  # enrolments whose planning fails, shown by the page


@dataclass(frozen=True)
class Beat:
    """One periodic job's last run: when it finished, how long it took and what it did."""

    job: str
    finished_at: datetime
    seconds: float
    age: float  # seconds since it finished
    detail: dict = field(default_factory=dict)

    @property
    def ago(self) -> str:
        return span(self.age)


@dataclass(frozen=True)
class PlanFailure:
    enrolment: int
    failed_at: datetime | None
    error: str


@dataclass(frozen=True)
class Status:
    """Everything the page and the JSON show, read at `now`."""

    now: datetime
    sweep: Beat | None
    plan: Beat | None
    dispatch: Beat | None
    send: Beat | None
    due: int  # outbox rows a sender may take now
    oldest_due_at: datetime | None
    failed_recently: int  # rows that failed for good, due in the last 24 hours
    failing: int  # current enrolments whose planning fails
    failures: tuple[PlanFailure, ...]  # the most recent of them, for the page only
    problems: tuple[str, ...]
    roll_over: Beat | None = None
    rows_behind: int = 0  # dashboard rows more than ROLL_OVER_LATE past their roll-over

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def late(self) -> float | None:
        """How long the oldest due row has waited, in seconds."""
        if self.oldest_due_at is None:
            return None
        return max((self.now - self.oldest_due_at).total_seconds(), 0.0)


def report(now: datetime) -> Status:
    """The figures at `now`, and the problems they show."""
    beats = {
        beat.job: Beat(
            job=beat.job,
            finished_at=beat.finished_at,
            seconds=beat.seconds,
            age=(now - beat.finished_at).total_seconds(),
            detail=beat.detail,
        )
        for beat in Heartbeat.objects.filter(job__in=JOBS)
    }
    # Every claimable row is due (a claimed one was due when it was claimed): saying so lets
    # the database read only the overdue end of the live rows' index.
    outbox = (
        Notification.objects.filter(status__in=LIVE, due_at__lte=now)
        .filter(delivery.claimable(now))
        .aggregate(due=Count("pk"), oldest=Min("due_at"))
    )
    # The live rows' index leaves failed rows out, and no other index finds them by time: this
    # count reads every failed row kept (a partial index on due_at for them would not).
    failed_recently = Notification.objects.filter(
        status=Notification.Status.FAILED, due_at__gte=now - RECENT
    ).count()
    failing_rows = _failing(now)
    failing = failing_rows.count()
    failures = tuple(
        PlanFailure(pk, failed_at, error)
        for pk, failed_at, error in failing_rows.order_by("-plan_failed_at", "-pk").values_list(
            "pk", "plan_failed_at", "plan_error"
        )[:LISTED]
    )
    # Through the roll-over's own index: only the overdue end is read.
    rows_behind = ClientStatus.objects.filter(rolls_over_at__lte=now - ROLL_OVER_LATE).count()
    sweep, dispatch = beats.get("sweep"), beats.get("dispatch")
    return Status(
        now=now,
        sweep=sweep,
        plan=beats.get("plan"),
        dispatch=dispatch,
        send=beats.get("send"),
        due=outbox["due"],
        oldest_due_at=outbox["oldest"],
        failed_recently=failed_recently,
        failing=failing,
        failures=failures,
        roll_over=beats.get("roll_over"),
        rows_behind=rows_behind,
        problems=tuple(
            judge(
                now,
                dispatched_at=dispatch.finished_at if dispatch else None,
                swept_at=sweep.finished_at if sweep else None,
                oldest_due_at=outbox["oldest"],
                due=outbox["due"],
                failing=failing,
                stale_after=timedelta(seconds=settings.STATUS_STALE_SECONDS),
                sweep_every=timedelta(seconds=settings.CELERY_BEAT_SCHEDULE["sweep"]["schedule"]),
                rows_behind=rows_behind,
            )
        ),
    )


def _failing(now: datetime):
    """Current enrolments whose last planning failed.

    Found through the sweep's index on `planned_until` rather than by reading every enrolment:
    a failure sets her horizon at most RETRY_BROKEN ahead, a planning task that claims her again
    sets it at most lead + lease ahead, and an edit empties it; a successful planning run clears
    the error.
    """
    bound = now + max(planning.RETRY_BROKEN, planning.lead() + planning.claim_lease())
    return Enrolment.objects.filter(
        Q(planned_until__isnull=True) | Q(planned_until__lte=bound),
        status__in=Enrolment.CURRENT,
    ).exclude(plan_error="")


def judge(
    now: datetime,
    *,
    dispatched_at: datetime | None,
    swept_at: datetime | None,
    oldest_due_at: datetime | None,
    due: int,
    failing: int,
    stale_after: timedelta,
    sweep_every: timedelta,
    rows_behind: int = 0,
) -> list[str]:
    """What is wrong, in plain English: an empty list when all is well."""
    problems = []
    if dispatched_at is None:
        problems.append("Beat or every worker has stopped: nothing has ever been dispatched.")
    elif now - dispatched_at > stale_after:
        problems.append(
            "Beat or every worker has stopped: nothing has been dispatched since "
            f"{moment(dispatched_at)} ({span(now - dispatched_at)} ago)."
        )
    if swept_at is None:
        problems.append("Planning has stopped: no sweep has ever run.")
    elif now - swept_at > SWEEPS_MISSED * sweep_every:
        problems.append(
            f"Planning has stopped: the last sweep finished at {moment(swept_at)} "
            f"({span(now - swept_at)} ago)."
        )
    if oldest_due_at is not None and now - oldest_due_at > LATE:
        emails = "1 email is" if due == 1 else f"{due} emails are"
        problems.append(
            f"Emails are late: {emails} due, the oldest for {span(now - oldest_due_at)}."
        )
    if failing:
        enrolments = "1 enrolment" if failing == 1 else f"{failing} enrolments"
        problems.append(f"Planning fails for {enrolments}: their emails are not being planned.")
    if rows_behind:
        rows = "1 client's row is" if rows_behind == 1 else f"{rows_behind} clients' rows are"
        problems.append(
            f"The dashboards are out of date: {rows} more than {span(ROLL_OVER_LATE)} past "
            "their local midnight and not rolled over."
        )
    return problems


def moment(instant: datetime) -> str:
    """An instant as staff read it: "2026-03-10 09:00:05 UTC"."""
    return f"{instant.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


def span(length: timedelta | float) -> str:
    """A duration in the largest whole unit: "61 seconds", "7 minutes", "3 hours", "2 days"."""
    seconds = int(length.total_seconds() if isinstance(length, timedelta) else length)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= 2 * size:
            return f"{seconds // size} {unit}s"
    return f"{seconds} second{'' if seconds == 1 else 's'}"
