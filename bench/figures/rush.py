"""
4. The 08:00 rush, and 8. the worker's memory during it.

A cohort in one zone whose reminder falls at one instant (everyone's "08:00"; the benchmark
picks the instant a little ahead, after the time planning them should take, so that it need not
wait for a real 08:00). They are created and handed to the worker for planning, as new
enrolments are; then the application's real beat starts (its sweep every 60 s, its dispatch
tick every 10 s), with a real worker of 2 processes and the SMTP sink. Each message's lateness
is the time the sink received it minus the instant it was scheduled for.

Meanwhile the worker's resident memory (its main process and pool, with psutil) is sampled
every quarter second: the growth is its peak during the dispatch minus its size just before the
instant, idle, with the cohort planned.
"""

from __future__ import annotations

import math
import statistics
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import psutil
from django.conf import settings
from django.utils import timezone

from bench import population
from bench.context import Context, enrolment_range, task_times
from bench.figures import dispatch
from bench.processes import Child
from programs.models import Notification

ZONE = "Asia/Kolkata"
MB = 1024 * 1024


@dataclass
class RssSampler:
    """Samples the resident memory of a process and its children on a thread."""

    child: Child
    interval: float = 0.25
    samples: list[tuple[float, int, dict[int, int]]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> RssSampler:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.is_set():
            each = {}
            for proc in self.child.tree():
                try:
                    each[proc.pid] = proc.memory_info().rss
                except psutil.Error:
                    continue
            if each:
                self.samples.append((time.time(), sum(each.values()), each))
            self._stop.wait(self.interval)

    def at(self, moment: float) -> tuple[int, dict[int, int]] | None:
        """The last sample taken before `moment`."""
        before = [s for s in self.samples if s[0] <= moment]
        return (before[-1][1], before[-1][2]) if before else None

    def peak(self, since: float) -> tuple[int, dict[int, int]] | None:
        after = [s for s in self.samples if s[0] >= since]
        if not after:
            return None
        top = max(after, key=lambda s: s[1])
        return top[1], top[2]


def measure(ctx: Context) -> None:
    run(ctx, ctx.sizes.rush, "r", "rush", goal=30.0, memory=True)


def measure_large(ctx: Context) -> None:
    size = ctx.sizes.rush_large
    if size is None:
        for name in ("rush_large_p50", "rush_large_p99", "rush_large_max"):
            ctx.fig(name).skip("the full run only (this was --small)")
        return
    # The anchor: plain smtplib sending as many over one connection, measured when the time
    # budget allows it and the rush after it, else from its rate in figure 3.
    raw_seconds = size / ctx.facts["raw_rate"]
    sending = size / (ctx.facts.get("rush_rate") or 200.0)
    planning = size / (ctx.facts.get("plan_rate") or 500.0)
    if ctx.remaining() > raw_seconds * 1.2 + planning * 1.3 + sending * 1.1 + 180:
        ctx.say(f"plain smtplib sending {size:,} messages over one connection")
        rate = dispatch.send_raw(ctx, ctx.facts["message"], size)
        ctx.facts["rush_anchor"] = (size / rate, "measured now")
    else:
        ctx.facts["rush_anchor"] = (raw_seconds, "at its rate in figure 3")
    run(ctx, size, "R", "rush_large", goal=None, memory=True)


def run(ctx: Context, size: int, prefix: str, names: str, goal: float | None, memory: bool):
    worker = ctx.worker()
    ctx.drain()
    rate = ctx.facts.get("plan_rate", 500.0)
    # Time to plan the cohort, then for a preparation sweep (every 10 s here) and the worker's
    # 2 processes to render its emails ahead, as they would before a real 08:00.
    preparing = size * ctx.facts.get("prepare_ms", 5.0) / 1000 / 2
    lead = (size / rate + preparing) * 1.3 + 10 + (10 if ctx.small else 20)
    at = (timezone.now() + timedelta(seconds=lead)).replace(microsecond=0)
    cohort = population.build_one_instant(ctx.program, size, ZONE, at, prefix=prefix)
    ctx.say(f"rush: {size:,} reminders at {at:%H:%M:%S} in {ZONE}")
    sampler = RssSampler(worker).start() if memory else None
    try:
        _run(ctx, cohort, size, at, names, goal, sampler)
    finally:
        if sampler is not None:
            sampler.stop()
        ctx.stop_beat()


def _run(ctx, cohort, size, at: datetime, names: str, goal, sampler: RssSampler | None):
    asked = ctx.plan_on_worker([cohort])
    ctx.beat()
    unplanned = ctx.unplanned(cohort, asked)
    while unplanned.exists() and timezone.now() < at:
        time.sleep(0.25)
    planned_at = timezone.now()
    rows = Notification.objects.filter(enrolment_range(cohort.enrolment_ids), scheduled_for=at)
    ids = set(rows.values_list("pk", flat=True))
    late_plan = (planned_at - at).total_seconds()

    if goal is None:
        anchor, how = ctx.facts["rush_anchor"]
        anchor_label = f"plain smtplib sending {size:,} over one connection ({how})"
        # As long as the time budget allows, so that the percentiles are measured, not bounded.
        cap = max(anchor * 1.1 + 30, ctx.remaining() - 90)
    else:
        anchor, anchor_label = None, ""
        cap = 60.0 if ctx.small else 300.0
    cap = min(cap, max(ctx.remaining() - 60, 30.0))
    worker = ctx.worker()
    mark = len(worker.output().splitlines())

    sink = ctx.sink()
    sink.refresh()
    seen = len(sink.arrivals)
    wait = (at - timezone.now()).total_seconds()
    if wait > 0:
        time.sleep(wait)
    live = rows.filter(status__in=[Notification.Status.PENDING, Notification.Status.SENDING])
    end = at.timestamp() + cap
    lateness: dict[int, float] = {}
    while True:
        sink.refresh()
        for arrival in sink.arrivals[seen:]:
            pk = arrival.notification
            if pk in ids and pk not in lateness:
                lateness[pk] = arrival.at - at.timestamp()
        seen = len(sink.arrivals)
        if len(lateness) >= len(ids) or (not live.exists() and _settled(sink, seen)):
            break
        if time.time() > end:
            break
        time.sleep(0.5)
    cut_off = len(lateness) < len(ids) and live.exists()
    unsent = rows.exclude(status=Notification.Status.SENT).count() if not cut_off else 0
    expected = len(ids) - unsent
    waited = time.time() - at.timestamp()

    prepared = Notification.objects.filter(pk__in=ids, prepared_version__isnull=False).count()
    values = sorted(lateness.values())
    first = values[0] if values else None
    spent = (values[-1] - first) if len(values) > 1 else 0.0
    throughput = len(values) / spent if spent else 0.0

    def rank(q: float) -> tuple[float, str]:
        index = max(math.ceil(q * expected), 1) - 1
        if index < len(values):
            return values[index], ""
        return waited, ">"

    ctx.facts["rush_rate"] = throughput
    sends = task_times(worker, mark).get("send_due_notifications", [])
    per_task = settings.OUTBOX_MAX_BATCHES_PER_TASK * settings.OUTBOX_SEND_BATCH
    raw = ctx.facts.get("raw_rate")
    # What one dispatch tick can start: beyond this rate, senders would wait for the next tick.
    tick_cap = settings.OUTBOX_SENDERS * per_task / settings.DISPATCH_SECONDS
    tasks = (
        f" in {len(sends)} sender tasks of up to {per_task:,} messages"
        f" ({statistics.mean(sends):.1f} s each on average; a dispatch tick starts senders for"
        f" at most {tick_cap:,.0f} msg/s)"
        if sends
        else ""
    )
    cut = (
        f"; cut off {waited:.0f} s after the instant, with {len(values):,} of {len(ids):,} sent"
        if cut_off
        else ""
    )
    late = (
        f"; planning the cohort ended {late_plan:.0f} s after the instant" if late_plan > 0 else ""
    )
    notes = {
        "p50": (
            "throughput, not waiting for a tick: the first message arrived "
            + (f"{first:.1f} s" if first is not None else "—")
            + " after the instant (the tick before it starts senders that wait for it); then the "
            f"2 worker processes sent {throughput:.0f} msg/s together{tasks}"
            + (f", against {raw:,.0f} msg/s for plain smtplib" if raw else "")
        ),
        "p99": (
            f"99% of {size:,} messages at {throughput:.0f} msg/s ({prepared:,} of them prepared "
            "ahead): the per-message cost of figure 3 (a receipt per message, and templates and "
            "MIME for any not prepared) on 2 worker processes sharing 2 cores with the database "
            "and the SMTP sink"
        ),
        "max": f"the last of {size:,} messages at {throughput:.0f} msg/s",
    }
    for q, suffix in ((0.5, "p50"), (0.99, "p99"), (1.0, "max")):
        value, qualifier = rank(q)
        fig = ctx.fig(f"{names}_{suffix}")
        fig.set(value, qualifier=qualifier, limited_by=notes[suffix] + cut + late)
        if suffix == "p99":
            limit = goal if goal is not None else anchor
            fig.anchor, fig.anchor_label = anchor, anchor_label
            fig.goal = f"≤ {goal:.0f} s" if goal is not None else "≤ anchor"
            fig.ok = qualifier == "" and value <= limit
    if sampler is not None:
        memory(ctx, sampler, at, size)


def _settled(sink, seen: int) -> bool:
    """The sink has caught up: nothing new arrived in the last half second."""
    time.sleep(0.5)
    return sink.refresh() == seen


def memory(ctx: Context, sampler: RssSampler, at: datetime, size: int) -> None:
    idle = sampler.at(at.timestamp())
    peak = sampler.peak(at.timestamp())
    if idle is None or peak is None:
        ctx.fig("worker_rss_growth").skip("no memory samples around the rush")
        return
    growth = (peak[0] - idle[0]) / MB
    per_process = ", ".join(
        f"{(rss - idle[1].get(pid, rss)) / MB:+.1f}" for pid, rss in sorted(peak[1].items())
    )
    fresh = ctx.facts.get("worker_started_rss")
    since_start = (
        f"; {(peak[0] - fresh[1]) / MB:+.0f} MB since it started, idle, before it planned "
        "or sent anything"
        if fresh and fresh[0] == sampler.child.pid
        else ""
    )
    ctx.fig("worker_rss_growth").set(
        growth,
        label=f"8. Worker peak RSS growth during the rush of {size:,}",
        anchor=idle[0] / MB,
        anchor_label="the same worker (main process and 2 pool processes) idle, just before",
        goal="≤ 50 MB",
        ok=growth <= 50,
        limited_by=(
            f"bounded batches: each sender holds at most {settings.OUTBOX_SEND_BATCH} rows and "
            f"one SMTP connection, whatever is due; growth per process {per_process} MB "
            f"(peak {peak[0] / MB:.0f} MB for {size:,} due at once){since_start}"
        ),
    )
