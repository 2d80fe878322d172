"""
An SMTP server that only counts: `python -m bench.sink PORT LOG`.

It accepts every message on 127.0.0.1:PORT and appends one line per message to LOG: the
arrival time (Unix seconds) and the message's Message-ID (or "-"). Nothing is parsed beyond
that header, so the sink costs as little as an SMTP server can. It runs until SIGTERM or SIGINT.
"""

from __future__ import annotations

import re
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from aiosmtpd.controller import Controller

MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*<([^>\r\n]*)>", re.IGNORECASE | re.MULTILINE)
NOTIFICATION = re.compile(r"^notification-(\d+)\.")


class CountingHandler:
    def __init__(self, out) -> None:
        self.out = out

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        arrived = time.time()
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode()
        end = content.find(b"\r\n\r\n")
        found = MESSAGE_ID.search(content, 0, end if end >= 0 else len(content))
        ident = found.group(1).decode(errors="replace") if found else "-"
        self.out.write(f"{arrived:.6f} {ident}\n")
        self.out.flush()
        return "250 OK"


def main(port: int, log: Path) -> None:
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    with open(log, "a", buffering=1 << 16) as out:
        controller = Controller(CountingHandler(out), hostname="127.0.0.1", port=port)
        controller.start()
        print(f"sink listening on 127.0.0.1:{port}", flush=True)
        try:
            stop.wait()
        finally:
            controller.stop()


@dataclass(frozen=True)
class Arrival:
    at: float
    message_id: str

    @property
    def notification(self) -> int | None:
        """The outbox row this message was (its Message-ID), or None for anything else."""
        found = NOTIFICATION.match(self.message_id)
        return int(found.group(1)) if found else None


class SinkLog:
    """Reads the sink's log as it grows."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.arrivals: list[Arrival] = []
        self._offset = 0
        self._partial = b""

    def refresh(self) -> int:
        """Read what arrived since the last call; the total count so far."""
        try:
            with open(self.path, "rb") as f:
                f.seek(self._offset)
                data = f.read()
        except FileNotFoundError:
            return 0
        self._offset += len(data)
        data = self._partial + data
        lines = data.split(b"\n")
        self._partial = lines.pop()
        for line in lines:
            at, _, ident = line.decode(errors="replace").partition(" ")
            self.arrivals.append(Arrival(float(at), ident))
        return len(self.arrivals)

    @property
    def count(self) -> int:
        return self.refresh()


if __name__ == "__main__":
    main(int(sys.argv[1]), Path(sys.argv[2]))
