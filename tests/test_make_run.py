"""
`make run` end to end: `python -m recovery.devstack` brings up the embedded Redis, the web
server, a Celery worker and beat, serves the catalogue, and leaves nothing behind on Ctrl-C.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import suppress
from pathlib import Path

import pytest

from tests.processes import Output, free_port

BASE_DIR = Path(__file__).resolve().parent.parent
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)"),
]


def stat_fields(pid: int) -> list[str] | None:
    """/proc/<pid>/stat after the command name: state, ppid, pgrp, session, ...; None if gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return stat.rsplit(")", 1)[1].split()


def alive(pid: int) -> bool:
    fields = stat_fields(pid)
    return (
        fields is not None and fields[0] != "Z"
    )  # a zombie has stopped; only its parent's wait is due


def session_members(session_ids: set[int]) -> set[int]:
    """Every process in these sessions: devstack starts each child as a session leader, so this
    finds their own children too (valkey-server, Celery's pool, runserver's reloaded child)."""
    members = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = stat_fields(int(entry.name))
            if fields is not None and int(fields[3]) in session_ids:
                members.add(int(entry.name))
    return members


def get_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def test_devstack_serves_the_catalogue_and_stops_everything_on_ctrl_c(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    port = free_port()
    # As on a developer's machine: its own SQLite and Redis, whichever database the tests use.
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(VAR_DIR=str(var_dir), PORT=str(port), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "recovery.devstack"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = Output(proc)
    children: dict[str, int] = {}
    family: set[int] = set()
    try:
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + START_TIMEOUT
        status = None
        while time.monotonic() < deadline:
            assert proc.poll() is None, f"devstack exited early:\n{output.tail()}"
            text = output.text
            status = get_status(url)
            if status == 200 and " ready." in text and "beat: Starting..." in text:
                break
            time.sleep(0.5)
        text = output.text
        assert status == 200, f"GET / answered {status}:\n{output.tail()}"
        assert " ready." in text, f"the Celery worker never became ready:\n{output.tail()}"
        assert "beat: Starting..." in text, f"Celery beat never started:\n{output.tail()}"
        assert "coach@example.com" in text and "demo-mother-2026" in text, "no demo logins shown"
        assert "embedded valkey" in text

        children = {m[1]: int(m[2]) for m in re.finditer(r"started (\w+) \(pid (\d+)\)", text)}
        assert {"redis", "worker", "beat", "web"} <= children.keys(), children
        family = session_members(set(children.values()))
        # More than the four: the valkey server, the worker's pool, runserver's serving child.
        assert len(family) > 4, family

        # Everything it writes went to VAR_DIR.
        assert (var_dir / "db.sqlite3").exists()
        assert (var_dir / "redis" / "valkey.conf").exists()
        assert list(var_dir.glob("celerybeat-schedule*"))

        proc.send_signal(signal.SIGINT)
        stopped_by = time.monotonic() + STOP_TIMEOUT
        assert proc.wait(timeout=STOP_TIMEOUT) == 0, output.tail()
        while {pid for pid in family if alive(pid)} and time.monotonic() < stopped_by:
            time.sleep(0.2)
        leftovers = {pid for pid in family if alive(pid)}
        assert not leftovers, f"still running after Ctrl-C: {leftovers}\n{output.tail()}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        # Whatever a failed run left behind: every process still in the sessions it started.
        for pid in session_members(set(children.values())) | {p for p in family if alive(p)}:
            with suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
