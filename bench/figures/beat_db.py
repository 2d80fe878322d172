"""
6. The common alternative: one django-celery-beat PeriodicTask per enrollee, on a crontab at her
reminder time in her zone, read by its DatabaseScheduler.

Timed: the scheduler's load (its first read of the schedule, which every change to any entry
brings about again) and one tick after it (beat ticks every few seconds), beside the time of
one sweep of ours at N (figure 1), which is what this application's beat costs per tick.
"""

from __future__ import annotations

import json
import time

from django.db import reset_queries
from django_celery_beat.models import CrontabSchedule, PeriodicTask, PeriodicTasks
from django_celery_beat.schedulers import DatabaseScheduler

from bench.context import Context
from programs.models import Enrolment
from recovery import celery_app

BATCH = 5000
TASK = "programs.tasks.send_session_reminder"


def add_entries(ctx: Context, upto: int, crontabs: dict) -> None:
    """One PeriodicTask for each of the first `upto` enrollees of the population (those that
    have none yet), each on the crontab of her reminder time in her zone."""
    have = PeriodicTask.objects.filter(name__startswith="reminder-").count()
    ids = ctx.main.enrolment_ids[have:upto]
    if not ids:
        return
    people = list(
        Enrolment.objects.filter(pk__gte=ids[0], pk__lte=ids[-1]).values_list(
            "pk", "timezone", "reminder_time"
        )
    )
    wanted = {(t.minute, t.hour, zone) for _, zone, t in people} - set(crontabs)
    for minute, hour, zone in wanted:
        crontabs[(minute, hour, zone)] = CrontabSchedule.objects.create(
            minute=str(minute), hour=str(hour), timezone=zone
        ).pk
    entries = [
        PeriodicTask(
            name=f"reminder-{pk}",
            task=TASK,
            crontab_id=crontabs[(t.minute, t.hour, zone)],
            args=json.dumps([pk]),
            enabled=True,
        )
        for pk, zone, t in people
    ]
    PeriodicTask.objects.bulk_create(entries, batch_size=BATCH)
    PeriodicTasks.update_changed()


def time_scheduler() -> tuple[float, float, float, int]:
    """(load, first tick, next tick, entries loaded) of a fresh DatabaseScheduler, in seconds."""
    reset_queries()
    scheduler = DatabaseScheduler(app=celery_app, lazy=True)
    started = time.perf_counter()
    loaded = len(scheduler.schedule)
    load = time.perf_counter() - started
    started = time.perf_counter()
    scheduler.tick()  # builds its heap of entries
    first = time.perf_counter() - started
    started = time.perf_counter()
    scheduler.tick()
    tick = time.perf_counter() - started
    return load, first, tick, loaded


def measure(ctx: Context) -> None:
    ctx.purge()
    crontabs: dict = {}
    sweep = ctx.facts.get("sweep_seconds")
    for size, suffix in ((ctx.sizes.beat, ""), (ctx.sizes.beat_large, "_large")):
        ctx.say(f"django-celery-beat: {size:,} entries")
        add_entries(ctx, size, crontabs)
        load, first, tick, loaded = time_scheduler()
        common = {
            "anchor": sweep,
            "anchor_label": f"one sweep of ours at N={ctx.sizes.enrollees:,} (figure 1)",
        }
        ctx.fig(f"beat_db_load{suffix}").set(
            load,
            **common,
            limited_by=(
                f"reads and builds an entry for every task whose crontab hour is within 2 hours "
                f"of now ({loaded:,} of {size:,}, with {len(crontabs):,} crontabs); again after "
                "any change to any entry, and every 5 minutes regardless"
                + (f"; {load / sweep:,.0f}× our sweep" if sweep else "")
            ),
        )
        ctx.fig(f"beat_db_tick{suffix}").set(
            tick,
            **common,
            limited_by=(
                f"compares the {loaded:,} loaded entries with the last read on every tick; the "
                f"first tick after a load, which builds the heap of due times, took {first:.3f} s"
                + (f"; {tick / sweep:,.1f}× our sweep" if sweep else "")
            ),
        )
    ctx.purge()
