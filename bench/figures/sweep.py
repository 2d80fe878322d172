"""
1. The steady-state sweep at N.

In steady state every enrolment was planned at some moment of the last (horizon − lead) and is
planned again once fewer than `PLAN_LEAD_SECONDS` of her horizon are left; so her
`planned_until` lies anywhere in (now + lead, now + horizon]. The population is built that way
(evenly spread over that window, in random order), then the sweep runs as beat runs it, once
per interval of simulated time; the planning tasks it asks for claim their batches here instead
of on the workers, and the claimed enrolments are then given the 48-hour horizon the workers'
planning would give them.
"""

from __future__ import annotations

import statistics
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench.context import Context
from programs import planning
from programs.models import Enrolment

SWEEPS = 10


def interval() -> timedelta:
    return timedelta(seconds=float(settings.CELERY_BEAT_SCHEDULE["sweep"]["schedule"]))


def steady_planned_until(count: int, now: datetime, rng) -> list[datetime]:
    """`count` instants evenly spread over (now + lead, now + horizon], in random order."""
    lead = planning.lead()
    window = planning.HORIZON - lead
    spots = [now + lead + window * ((i + 1) / count) for i in range(count)]
    rng.shuffle(spots)
    return spots


def measure(ctx: Context) -> None:
    n = ctx.current(ctx.main).count()
    step = interval()
    examined, seconds = [], []
    for k in range(1, SWEEPS + 1):
        now = ctx.t0 + k * step
        started = time.perf_counter()
        report = planning.sweep(now, ask=lambda: None)
        seconds.append(time.perf_counter() - started)
        examined.append(report.examined)
        # What the tasks it asked for then do, each claiming a batch.
        collected = [
            pk for _ in range(report.batches) for pk in planning.claim_due(now, settings.PLAN_BATCH)
        ]
        # What the workers' planning would then do to them: a horizon 48 hours ahead.
        for offset in range(0, len(collected), 500):
            Enrolment.objects.filter(pk__in=collected[offset : offset + 500]).update(
                planned_until=now + planning.HORIZON
            )
    # Queries: once with nothing due (at t0 every horizon reaches past the lead), once at the
    # next interval.
    with CaptureQueriesContext(connection) as idle:
        planning.sweep(ctx.t0, ask=lambda: None)
    with CaptureQueriesContext(connection) as queries:
        report = planning.sweep(ctx.t0 + (SWEEPS + 1) * step, ask=lambda: None)
    per_batch = (len(queries) - len(idle)) / report.batches if report.batches else 0

    # The anchor for its time: reading every enrolment once, as a sweep without the index would.
    scans = []
    for _ in range(3):
        started = time.perf_counter()
        Enrolment.objects.filter(status__in=Enrolment.CURRENT).count()
        scans.append(time.perf_counter() - started)

    per_sweep = statistics.mean(examined)
    s = step.total_seconds()
    expected = n * s / (planning.HORIZON - planning.lead()).total_seconds()
    goal = 2 * n * s / planning.HORIZON.total_seconds()
    ctx.fig("sweep_examined").set(
        per_sweep,
        anchor=expected,
        anchor_label="N × interval ÷ (horizon − lead)",
        goal=f"≤ 2 × N × interval ÷ horizon = {goal:,.1f}",
        ok=per_sweep <= goal,
        limited_by=(
            f"what falls due, not N: mean of {SWEEPS} sweeps {s:.0f} s apart "
            f"(most {max(examined)}, fewest {min(examined)}); only enrolments whose horizon "
            "runs short are read, through the enrolment_plan_due partial index"
        ),
    )
    ctx.fig("sweep_seconds").set(
        statistics.median(seconds),
        anchor=statistics.median(scans),
        anchor_label="COUNT(*) over all current enrolments",
        limited_by=(
            "round trips: a fixed number of indexed queries per sweep (the coaches' digests, "
            "then a count of what is due, bounded by what one sweep may ask for), whatever N "
            "is; each planning task it asks for claims its own batch"
        ),
    )
    ctx.fig("sweep_queries").set(
        len(queries),
        anchor=len(idle),
        anchor_label="a sweep with nothing due",
        limited_by=(
            f"{len(idle)} queries with nothing due (the coaches' digests, the count of what "
            f"is due) plus {per_batch:g} per planning task asked for ({report.batches} here): "
            "the tasks claim their own batches; none grows with N"
        ),
    )
    ctx.facts["sweep_seconds"] = statistics.median(seconds)
