"""
2. A full re-plan of everyone: every current enrolment marked for planning (as a change to the
program does), then one run of the real `sweep` task on a real worker with 2 processes: it asks
for a planning task per batch, each of which claims its own batch and plans it; timed until
every one of them has been planned.

The anchor is the same work in one process: a sample planned in-process, scaled to N.
"""

from __future__ import annotations

import statistics
import time
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from bench.context import Context, enrolment_range, task_times
from bench.processes import Timeout
from programs import planning, tasks
from programs.models import Enrolment, Notification

POLL = 0.5


def measure(ctx: Context) -> None:
    n = ctx.current(ctx.main).count()
    goal = 60.0 * ctx.sizes.enrollees / 100_000

    # The anchor: one process, one batch, then its rows removed again so all start equal.
    sample = list(ctx.current(ctx.main).order_by("pk").values_list("pk", flat=True)[:500])
    sample = sample[: max(50, min(500, n // 20))]
    started = time.perf_counter()
    planning.plan_enrolments(sample, timezone.now())
    per_enrolment = (time.perf_counter() - started) / len(sample)
    Notification.objects.filter(enrolment_id__in=sample).delete()

    Enrolment.objects.filter(status__in=Enrolment.CURRENT).update(planned_until=None)
    rows_before = Notification.objects.filter(enrolment_range(ctx.main.enrolment_ids)).count()
    worker = ctx.worker()
    mark = len(worker.output().splitlines())

    start = timezone.now()
    # Planned by this run: a horizon reaching (almost) 48 hours past its start. A claimed but
    # not yet planned enrolment has one of lead + claim lease only.
    done = Q(planned_until__gte=start + planning.HORIZON - timedelta(minutes=1))
    broken = Q(plan_failed_at__gte=start)
    waiting = ctx.current(ctx.main).exclude(done | broken)
    timeout = min(max(20 * goal, 120.0), max(ctx.remaining() - 600, 60.0))
    ctx.say(f"re-planning {n:,} enrolments with the sweep task on the worker")
    t = time.perf_counter()
    tasks.sweep.delay()
    deadline = t + timeout
    left = n
    while left:
        time.sleep(POLL)
        left = waiting.count()
        if time.perf_counter() > deadline:
            raise Timeout(f"{left:,} of {n:,} still unplanned after {timeout:.0f} s")
    seconds = time.perf_counter() - t
    rows = Notification.objects.filter(enrolment_range(ctx.main.enrolment_ids)).count()
    failed = ctx.current(ctx.main).filter(broken).count()
    ctx.facts["plan_rate"] = n / seconds
    times = task_times(worker, mark)
    batches = times.get("plan_due_enrolments", [])
    sweeps = times.get("sweep", [])
    per_batch = statistics.mean(batches) if batches else 0.0

    one_process = per_enrolment * n
    ctx.fig("replan_seconds").set(
        seconds,
        anchor=one_process,
        anchor_label=f"one process, in-process ({len(sample)} planned, scaled to N)",
        goal=("≤ 60 s" if ctx.sizes.enrollees == 100_000 else f"≤ {goal:,.1f} s (60 s at 100,000)"),
        ok=seconds <= goal,
        limited_by=(
            f"CPU: each enrolment's 48 hours worked out in Python (reminders.plan over "
            f"schedule.snapshot), {per_enrolment * 1000:.2f} ms each in one process alone; on "
            f"the worker a batch of {settings.PLAN_BATCH}, claimed by its own task, took "
            f"{per_batch:.2f} s ({per_batch / settings.PLAN_BATCH * 1000:.2f} ms each), its 2 "
            "processes sharing 2 cores with the database"
            + (
                f"; the sweep task took {sweeps[0]:.2f} s to count them and ask for "
                f"{len(batches)} such tasks"
                if sweeps
                else ""
            )
            + f"; {one_process / seconds:.1f}× one process"
            + (f"; {failed} could not be planned" if failed else "")
        ),
    )
    ctx.fig("replan_rows").set(
        rows - rows_before,
        limited_by=(
            "what the next 48 hours hold for each: a session reminder or nudge a day, plus "
            "the week's check-in or a new stage on their days, none while paused"
        ),
    )
