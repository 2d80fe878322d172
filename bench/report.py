"""
The report: a table on the terminal, `results.json` and `BENCHMARKS.md`.

`python -m bench.report [RESULTS [MARKDOWN]]` writes BENCHMARKS.md again from a results.json
(by default bench/results.json and BENCHMARKS.md), without measuring anything.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

import psutil

from bench.figure import Figure


def machine() -> dict:
    model = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.partition(":")[2].strip()
                break
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "cpu": model or platform.machine(),
        "memory_gb": round(psutil.virtual_memory().total / 1024**3, 1),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
    }


def number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    if abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:,.1f}"
    elif abs(value) >= 1:
        text = f"{value:,.2f}"
    elif value == 0:
        text = "0"
    else:
        text = f"{value:.3f}"
    return f"{text} {unit}".strip()


def measured(fig: Figure) -> str:
    if fig.not_measured:
        return "not measured"
    text = f"{fig.qualifier} {number(fig.value, fig.unit)}".strip()
    if fig.anchor and fig.value is not None and fig.unit in ("msg/s", "ms", "s"):
        text += f" ({fig.value / fig.anchor:,.2f}× anchor)"
    return text


def verdict(fig: Figure) -> str:
    if fig.not_measured:
        return "—"
    if fig.ok is None:
        return "info"
    return "pass" if fig.ok else "FAIL"


def rows(figures: list[Figure]) -> list[tuple[str, str, str, str, str]]:
    return [
        (
            f.label,
            measured(f),
            number(f.anchor, "MB idle" if f.unit == "MB" else f.unit),
            f.goal or "—",
            verdict(f),
        )
        for f in figures
    ]


HEADER = ("figure", "measured", "anchor", "goal", "pass/fail")


def table(figures: list[Figure]) -> str:
    lines = [HEADER, *rows(figures)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADER))]
    out = []
    for index, line in enumerate(lines):
        out.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip())
        if index == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def markdown_table(figures: list[Figure]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    out = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    out += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows(figures)]
    return "\n".join(out)


def results(run: dict, figures: list[Figure]) -> dict:
    return {**run, "figures": [f.to_json() for f in figures]}


def write(run: dict, figures: list[Figure], results_path: Path, markdown_path: Path) -> None:
    results_path.parent.mkdir(parents=True, exist_ok=True)
    results_path.write_text(json.dumps(results(run, figures), indent=2, ensure_ascii=False) + "\n")
    markdown_path.parent.mkdir(parents=True, exist_ok=True)
    markdown_path.write_text(markdown(run, figures))


def markdown(run: dict, figures: list[Figure]) -> str:
    m = run["machine"]
    limits = "\n".join(
        f"- **{f.label}**: "
        + (f"not measured: {f.not_measured}." if f.not_measured else f"{f.limited_by}.")
        + (f" Anchor: {f.anchor_label}." if f.anchor_label and not f.not_measured else "")
        for f in figures
    )
    return f"""# Benchmarks

Measured by `make bench` (`manage.py bench`), which builds its own population in a throwaway
database, starts the real processes (a Celery worker and beat, Valkey, gunicorn, an SMTP sink on
127.0.0.1) and reports each figure beside its anchor, the same work done the plainest way in
the same run, and its goal. `bench/results.json` holds the same figures.

- Machine: {m["cores"]} cores, {m["cpu"]}, {m["memory_gb"]:g} GB memory; {m["system"]},
  Python {m["python"]}
- Database: {run["database"]}
- Date: {run["date"]}
- Command: `{run["command"]}`
- Population: N = {run["enrollees"]:,} enrollees; the whole run took {run["seconds"]:.0f} s
- Load average (1, 5, 15 min) before the run {_load(run["load_average"]["before"])}, after it
  {_load(run["load_average"]["after"])}: anything else running on the machine shares its cores

{markdown_table(figures)}

"FAIL" is a goal not met today; "info" is reported without a goal; "×" compares a figure with
its anchor.

## What limits each figure

{limits}

## How each figure is measured

**Population.** N enrollees of the default program (loaded as `load_default_program` does),
bulk-inserted: 42 real zones from UTC−12 (`Etc/GMT+12`) to UTC+14 (`Pacific/Kiritimati`),
including `America/St_Johns`, `Asia/Kolkata`, `Asia/Kathmandu`, `Australia/Lord_Howe` and
`Pacific/Chatham`; start dates from two weeks ahead to the program's last week; reminder times
through the day; three in four cleared to exercise; 2% paused, 1% withdrawn; some kinds of
email turned off. The same seed builds the same population every run.

**1. Steady-state sweep.** In steady state each enrolment was planned at some moment of the
last (horizon − lead) = 36 hours and is planned again once fewer than `PLAN_LEAD_SECONDS`
(12 hours) of her 48-hour horizon are left, so her `planned_until` lies in
(now + 12 h, now + 48 h]. The population is built with `planned_until` spread evenly over that
window, in random order, as if each had been planned at a random moment in the past. Then
`planning.sweep` runs ten times, 60 s of simulated time apart (beat's interval), the planning
tasks it asks for claiming their batches in the benchmark's process: each sweep should examine
about N × 60 ÷ 36 h enrolments (the anchor), and at most 2 × N × 60 ÷ 48 h (the goal). Its
time is shown beside a plain `COUNT(*)` of all current enrolments, and its queries are counted
once.

**2. Full re-plan.** Every current enrolment's `planned_until` is emptied, as a change to the
program does; one `sweep` task goes through Valkey to a real `celery -A recovery worker
--concurrency 2`, which asks itself for a planning task per batch, each claiming its own
batch; the time runs until every current enrolment is planned 48 hours ahead. The anchor is
one process planning a sample of 500 in-process, scaled to N.

**3. Dispatch.** An SMTP sink (aiosmtpd, a process of its own, that only records each
message's arrival and Message-ID) listens on 127.0.0.1. Three groups of M enrollees have
their reminder at an instant just past, planned by the worker, so 3 × M real session reminders
are due. The first two groups' emails are prepared ahead (`preparation.prepare`, timed in one
process), as the preparation sweep has workers do in the ten minutes before their moment. The
anchor is plain `smtplib.SMTP` sending M pre-built copies of one real session reminder
(rendered by the application) over one connection, once before and once after the application
sends, averaged. `delivery.send_due()` in one process sends the first group, then the third,
whose emails were never prepared and are built as they go; last, 4 sender processes, started
together after their start-up, send the second.

**4. The 08:00 rush.** A cohort in one zone (`Asia/Kolkata`) whose reminder falls at one
instant: the benchmark picks that instant a little ahead (after the time planning them should
take) rather than waiting for a real 08:00. They are created and handed to the worker for
planning, as new enrolments are; the application's real `celery -A recovery beat` then runs with
its own schedule file (its dispatch tick every 10 s starts the senders; its preparation sweep
runs every 10 s rather than every minute, and the instant leaves time to prepare the cohort's
emails, as a cohort planned the day before is prepared in the ten minutes before its 08:00) with
the real worker and the sink. Lateness is the sink's arrival time minus the instant the reminder
was scheduled for. At 20,000 the goal is p99 ≤ 30 s; at N (full run), p99 ≤ the time plain
smtplib needs to send N messages over one connection: measured in the same run just before the
rush when the time budget allows both, else worked out from its rate in figure 3 (the table says
which). A rush not done when the time budget runs out is cut off, and the percentiles it did not
reach are shown as lower bounds (">").

**5. The due-row query.** The claim's SELECT (`delivery.claimable`, earliest first, one
batch, `FOR UPDATE SKIP LOCKED` on PostgreSQL), the median of 15 runs, with a small sent
history and again with a large one, over the same live rows; history is bulk-inserted with
`INSERT … SELECT` and the table analysed after each insert, as autovacuum would. The plan
(`EXPLAIN` on PostgreSQL, `EXPLAIN QUERY PLAN` on SQLite) must read `notification_live_due`.

**6. django-celery-beat.** One `PeriodicTask` per enrollee, on a `CrontabSchedule` at her
reminder time in her zone, for the first 10,000 and then all N enrollees. Timed: a fresh
`DatabaseScheduler`'s load (its first read of the schedule, which any change to any entry
brings about again, and every 5 minutes regardless) and a tick once it has built its heap of
due times (the first tick after a load, which builds it, is given beside), against one sweep of
ours at N. django-celery-beat is installed only for the benchmark (`bench/settings.py`), never
in the application.

**7. Pages.** gunicorn (`recovery.wsgi`, 2 workers, `DEBUG` off, static files collected) on
127.0.0.1. Sessions are made with Django's `SessionStore`, as logging in would. Three coaches
have 25, 200 and 1,000 clients with 4 weeks of logged sessions and weekly check-ins; the Today
page is one of those clients'. Each page is requested a few times untimed, then one request
after another; the figure is the 95th percentile, beside the login page's.

**8. Memory.** The worker's resident memory (its main process and 2 pool processes, sampled
with psutil every 0.25 s, summed: pages a pool process still shares with the main process count
in both) at its peak during the rush, minus the same worker idle just before the rush's
instant, with the cohort already planned. What it grew by since it started, before any task,
is shown beside.

The whole run keeps to a time budget (18.5 minutes; 105 s with `--small`): a measurement
the budget no longer allows is reported as not measured, with that reason.

With `--small` (a smoke run: N of about 2,000, a rush of 1,000, M = 500, 50,000 rows of
history, 1,000 django-celery-beat entries) the figures show that every measurement works, not
how the application scales.
"""


def rewrite(results_path: Path, markdown_path: Path) -> None:
    """BENCHMARKS.md from a results.json written earlier."""
    data = json.loads(results_path.read_text())
    figures = [Figure(**fig) for fig in data.pop("figures")]
    markdown_path.write_text(markdown(data, figures))


def _load(values: list[float]) -> str:
    return " / ".join(f"{v:.2f}" for v in values)


def run_info(config: dict, seconds: float, database: str, load: tuple) -> dict:
    return {
        "load_average": {
            "before": [round(x, 2) for x in load],
            "after": [round(x, 2) for x in os.getloadavg()],
        },
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": config["command"],
        "database": database,
        "enrollees": config["enrollees"],
        "small": config["small"],
        "seconds": round(seconds, 1),
        "machine": machine(),
    }


if __name__ == "__main__":
    base = Path(__file__).resolve().parent
    arguments = sys.argv[1:]
    rewrite(
        Path(arguments[0]) if arguments else base / "results.json",
        Path(arguments[1]) if len(arguments) > 1 else base.parent / "BENCHMARKS.md",
    )
