"""
One sender process for the dispatch figure: `python -m bench.sender GO_FILE`.

It starts Django on the application's settings, connects to the database, says "ready", waits
until GO_FILE exists (so that all senders start together, after their start-up), then sends
everything due with `programs.delivery.send_due` and prints one line of JSON: what it sent,
and when it started and finished (Unix seconds).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


def main(go: Path) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recovery.settings")
    import django

    django.setup()
    from django.db import connection

    from programs import delivery

    connection.ensure_connection()
    print("ready", flush=True)
    while not go.exists():
        time.sleep(0.005)
    started = time.time()
    report = delivery.send_due()
    finished = time.time()
    result = {
        "sent": report.sent,
        "claimed": report.claimed,
        "cancelled": report.cancelled,
        "failed": report.failed,
        "started": started,
        "finished": finished,
    }
    print("result " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
