"""
Processes the benchmark starts: each in a session of its own (so stopping its process group
stops its children too: Celery's pool, gunicorn's workers), its output in a log file, and all of
them stopped, in reverse order, when the `Children` that started them is closed.

Every process group started is also listed in a file, so that the outer command can stop what
an interrupted run left behind (`stop_listed`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil

BASE_DIR = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
STOP_TIMEOUT = 10.0


class Timeout(Exception):
    """Something did not happen in time; the message says what."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((HOST, port)) == 0


def wait_for(check: Callable[[], object], timeout: float, what: str, interval: float = 0.1):
    """Poll `check` until it returns something truthy, and return that."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise Timeout(f"{what} (after {timeout:.0f} s)")
        time.sleep(interval)


@dataclass
class Child:
    name: str
    proc: subprocess.Popen
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def output(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.output().splitlines()[-lines:])

    def wait_for_output(self, text: str, timeout: float) -> None:
        def seen() -> bool:
            if not self.alive:
                raise RuntimeError(f"{self.name} exited early:\n{self.tail()}")
            return text in self.output()

        try:
            wait_for(seen, timeout, f"{self.name} never printed {text!r}", interval=0.2)
        except Timeout as error:
            raise Timeout(f"{error}\n{self.tail()}") from None

    def wait_for_port(self, port: int, timeout: float) -> None:
        def listening() -> bool:
            if not self.alive:
                raise RuntimeError(f"{self.name} exited early:\n{self.tail()}")
            return port_open(port)

        wait_for(listening, timeout, f"{self.name} never listened on port {port}", interval=0.2)

    def tree(self) -> list[psutil.Process]:
        """The process and its descendants (a worker's pool, gunicorn's workers)."""
        try:
            root = psutil.Process(self.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []


class Children:
    """What one part of the benchmark started; `close` stops all of it, last started first."""

    def __init__(self, log_dir: Path, registry: Path) -> None:
        self.log_dir = log_dir
        self.registry = registry
        self.children: list[Child] = []
        log_dir.mkdir(parents=True, exist_ok=True)

    def spawn(self, name: str, args: list[str], env: dict[str, str]) -> Child:
        log = self.log_dir / f"{name}.log"
        number = 1
        while log.exists():  # a second worker keeps the first one's log
            number += 1
            log = self.log_dir / f"{name}-{number}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                args,
                cwd=BASE_DIR,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        child = Child(name, proc, log)
        self.children.append(child)
        self._write_registry()
        return child

    def stop(self, child: Child, timeout: float = STOP_TIMEOUT) -> None:
        """SIGTERM (a warm shutdown for Celery, a graceful one for gunicorn), then SIGKILL for
        whatever of its process group is still there."""
        if child.alive:
            with contextlib.suppress(ProcessLookupError):
                child.proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.proc.wait(timeout=timeout)
        kill_group(child.pid)
        if child.alive:
            child.proc.wait(timeout=timeout)
        if child in self.children:
            self.children.remove(child)
            self._write_registry()

    def close(self) -> None:
        errors = []
        for child in reversed(list(self.children)):
            try:
                self.stop(child)
            except Exception as error:  # stop the others all the same
                errors.append(error)
        if errors:
            raise errors[0]

    def _write_registry(self) -> None:
        self.registry.write_text("".join(f"{c.pid} {c.name}\n" for c in self.children))


def kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def stop_listed(registry: Path) -> list[str]:
    """Kill the process groups an interrupted run listed and never stopped; their names."""
    if not registry.is_file():
        return []
    stopped = []
    for line in registry.read_text().splitlines():
        pid, _, name = line.partition(" ")
        with contextlib.suppress(ValueError, psutil.Error):
            # Only a group whose leader is still one of ours (not a recycled pid).
            if psutil.Process(int(pid)).cwd() == str(BASE_DIR):
                kill_group(int(pid))
                stopped.append(name)
    registry.unlink(missing_ok=True)
    return stopped
