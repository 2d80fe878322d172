"""
What every measurement shares: the run's configuration and sizes, its time budget, the
population, and the application's processes (a Celery worker, beat, gunicorn), started on the
benchmark's database, broker and SMTP sink when a measurement first needs them.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import psutil
from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from bench import figure
from bench.population import Cohort
from bench.processes import Child, Children, free_port, wait_for
from bench.sink import SinkLog
from programs import delivery, planning, tasks
from programs.models import Enrolment, Program
from recovery import celery_app


@dataclass(frozen=True)
class Sizes:
    enrollees: int
    rush: int
    rush_large: int | None  # None: not in this run
    dispatch: int
    history: int
    history_anchor: int
    beat: int
    beat_large: int
    dashboards: tuple[int, ...] = (25, 200, 1000)
    page_requests: int = 50

    @classmethod
    def for_run(cls, enrollees: int, small: bool) -> Sizes:
        if small:
            return cls(
                enrollees=enrollees,
                rush=1_000,
                rush_large=None,
                dispatch=500,
                history=50_000,
                history_anchor=10_000,
                beat=1_000,
                beat_large=enrollees,
                page_requests=10,
            )
        return cls(
            enrollees=enrollees,
            rush=20_000,
            rush_large=enrollees,
            dispatch=5_000,
            history=1_000_000,
            history_anchor=10_000,
            beat=10_000,
            beat_large=enrollees,
        )

    def labels(self) -> dict[str, str]:
        return {
            "n": f"{self.enrollees:,}",
            "rush": f"{self.rush:,}",
            "rush_large": f"{self.rush_large:,}" if self.rush_large else "N (full run)",
            "history": f"{self.history:,}",
            "beat": f"{self.beat:,}",
            "beat_large": f"{self.beat_large:,}",
            "memory_during": (
                f"rush of {self.rush_large:,}" if self.rush_large else f"rush of {self.rush:,}"
            ),
        }


@dataclass
class Context:
    config: dict
    sizes: Sizes
    figures: dict[str, figure.Figure]
    var: Path
    deadline: float  # time.monotonic() by which the run should be done
    started: float = field(default_factory=time.monotonic)
    program: Program | None = None
    main: Cohort | None = None
    t0: datetime | None = None  # the instant the population was built for
    # What one measurement learns that a later one uses.
    facts: dict = field(default_factory=dict)
    children: Children | None = None
    _worker: Child | None = None
    _beat: Child | None = None
    _sink: SinkLog | None = None

    @property
    def small(self) -> bool:
        return bool(self.config["small"])

    @property
    def vendor(self) -> str:
        return connection.vendor

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def fig(self, name: str) -> figure.Figure:
        return self.figures[name]

    def say(self, message: str) -> None:
        elapsed = time.monotonic() - self.started
        print(f"bench [{elapsed:6.0f} s] {message}", flush=True)

    def sink(self) -> SinkLog:
        """The SMTP sink's log, read incrementally (one reader for the whole run)."""
        if self._sink is None:
            self._sink = SinkLog(Path(self.config["sink_log"]))
        return self._sink

    def current(self, cohort: Cohort | None = None):
        """Current enrolments, of one cohort (whose ids are consecutive) or of everyone."""
        enrolments = Enrolment.objects.filter(status__in=Enrolment.CURRENT)
        if cohort is not None:
            enrolments = enrolments.filter(id_range(cohort.enrolment_ids))
        return enrolments

    def plan_on_worker(self, cohorts: list[Cohort]) -> datetime:
        """Ask the worker to plan these new enrolments, in batches, as the application asks
        for each new or changed enrolment once it is saved (`programs.wakeups`); when asked."""
        asked = timezone.now()
        for cohort in cohorts:
            ids = cohort.enrolment_ids
            for offset in range(0, len(ids), settings.PLAN_BATCH):
                tasks.plan_enrolments.delay(ids[offset : offset + settings.PLAN_BATCH])
        return asked

    def unplanned(self, cohort: Cohort, since: datetime):
        """Its current enrolments not yet planned by a planning run begun after `since`."""
        horizon = since + planning.HORIZON - timedelta(minutes=1)
        return self.current(cohort).exclude(planned_until__gte=horizon)

    def wait_planned(self, cohorts: list[Cohort], timeout: float, since: datetime) -> None:
        for cohort in cohorts:
            waiting = self.unplanned(cohort, since)
            wait_for(lambda q=waiting: not q.exists(), timeout, "the worker planned them", 0.25)

    def drain(self) -> None:
        """Send what fell due while no beat ran, untimed, so that a measurement starts with no
        backlog of the population's ordinary reminders."""
        delivery.send_due()

    # The application's processes

    def app_env(self, **extra: str) -> dict[str, str]:
        """The environment of the application's own processes: its settings (without
        django-celery-beat), on the benchmark's database, broker and SMTP sink, production-like
        (DEBUG off) but served over plain HTTP on 127.0.0.1."""
        env = dict(os.environ)
        env.update(
            DJANGO_SETTINGS_MODULE="recovery.settings",
            DEBUG="0",
            ALLOWED_HOSTS="127.0.0.1,localhost",
            SECURE_SSL_REDIRECT="0",
            SESSION_COOKIE_SECURE="0",
            CSRF_COOKIE_SECURE="0",
            SECURE_HSTS_SECONDS="0",
            PYTHONUNBUFFERED="1",
            LOG_LEVEL="INFO",
        )
        env.update(extra)
        return env

    def worker(self) -> Child:
        """A `celery -A recovery worker --concurrency 2` (started if none runs), ready."""
        if self._worker is not None and self._worker.alive:
            return self._worker
        self.purge()
        self.say("starting a Celery worker (2 processes)")
        worker = self.children.spawn(
            "worker",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "recovery",
                "worker",
                "--loglevel=INFO",
                "--concurrency=2",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                f"--hostname=bench-{os.getpid()}@%h",
            ],
            self.app_env(),
        )
        worker.wait_for_output(" ready.", timeout=60)
        self._worker = worker
        time.sleep(1)  # its pool processes finish starting
        rss = 0
        for proc in worker.tree():
            with contextlib.suppress(psutil.Error):
                rss += proc.memory_info().rss
        self.facts["worker_started_rss"] = (worker.pid, rss)
        return worker

    def stop_worker(self) -> None:
        if self._worker is not None:
            self.children.stop(self._worker, timeout=30)
            self._worker = None
        self.purge()

    def beat(self) -> Child:
        """The application's real `celery -A recovery beat`, with its own schedule file."""
        if self._beat is not None and self._beat.alive:
            return self._beat
        schedule = self.var / "celerybeat-schedule"
        for leftover in self.var.glob("celerybeat-schedule*"):
            leftover.unlink()
        self.say("starting Celery beat")
        beat = self.children.spawn(
            "beat",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "recovery",
                "beat",
                "--loglevel=INFO",
                "--schedule",
                str(schedule),
            ],
            # The preparation sweep every 10 s rather than every minute: a cohort planned
            # moments before its instant is then prepared ahead, as one planned the day before
            # would be in the ten minutes before its moment.
            self.app_env(PREPARE_SWEEP_SECONDS="10"),
        )
        beat.wait_for_output("beat: Starting...", timeout=60)
        self._beat = beat
        return beat

    def stop_beat(self) -> None:
        if self._beat is not None:
            self.children.stop(self._beat)
            self._beat = None

    def gunicorn(self, workers: int = 2) -> tuple[Child, int]:
        port = free_port()
        child = self.children.spawn(
            "gunicorn",
            [
                sys.executable,
                "-m",
                "gunicorn",
                "recovery.wsgi:application",
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{port}",
                "--timeout",
                "120",
            ],
            self.app_env(LOG_LEVEL="WARNING"),
        )
        child.wait_for_port(port, timeout=60)
        return child, port

    def purge(self) -> None:
        """Empty the broker's queue: nothing a measurement left there reaches the next one."""
        with celery_app.connection_for_write() as conn:
            celery_app.control.purge(connection=conn)


TASK_DONE = re.compile(r"Task programs\.tasks\.(\w+)\[[^\]]+\] succeeded in ([0-9.]+)s")


def task_times(worker: Child, since: int = 0) -> dict[str, list[float]]:
    """How long each task the worker finished took, by task name, from its log (from line
    `since` on)."""
    times: dict[str, list[float]] = {}
    for line in worker.output().splitlines()[since:]:
        found = TASK_DONE.search(line)
        if found:
            times.setdefault(found.group(1), []).append(float(found.group(2)))
    return times


def id_range(ids: list[int]) -> Q:
    """The rows whose id lies in the cohort's range. A cohort is inserted in one go, so its ids
    are consecutive; a range keeps queries short where a list of 100,000 ids would not."""
    return Q(pk__gte=min(ids), pk__lte=max(ids))


def enrolment_range(ids: list[int]) -> Q:
    return Q(enrolment_id__gte=min(ids), enrolment_id__lte=max(ids))
