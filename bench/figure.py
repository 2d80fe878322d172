"""
One measured figure, as the report shows it and `bench/results.json` stores it, and the list of
every figure the benchmark reports, in priority order.

A figure is measured beside an anchor (the same work done the plainest way, or a fixed
reference, in the same run) and judged against a goal; a figure that was not measured says why
instead of carrying a number.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class Figure:
    name: str
    label: str
    unit: str
    value: float | None = None
    anchor: float | None = None
    anchor_label: str = ""  # what the anchor is
    goal: str = ""  # in words, e.g. "≤ 0.5 × anchor"; empty: reported, not judged
    ok: bool | None = None
    limited_by: str = ""
    qualifier: str = ""  # ">" when the value is only a lower bound
    not_measured: str = ""  # why there is no value

    def set(self, value: float, **fields) -> Figure:
        self.value = value
        self.not_measured = ""
        for key, item in fields.items():
            if not hasattr(self, key):
                raise AttributeError(key)
            setattr(self, key, item)
        return self

    def skip(self, reason: str) -> None:
        self.value = None
        self.ok = None
        self.not_measured = reason

    def to_json(self) -> dict:
        data = asdict(self)
        if not self.not_measured:
            data.pop("not_measured")
        return data


# (name, label, unit) in priority order. Labels may name sizes: {n} the population, {rush} and
# {rush_large} the rushes, {history} the sent history, {beat} and {beat_large} the
# django-celery-beat sizes.
DEFINITIONS: tuple[tuple[str, str, str], ...] = (
    ("sweep_examined", "1. Steady-state sweep at N={n}: enrolments examined per sweep", ""),
    ("sweep_seconds", "1. Steady-state sweep at N={n}: time per sweep", "s"),
    ("sweep_queries", "1. Steady-state sweep at N={n}: queries per sweep", ""),
    ("replan_seconds", "2. Full re-plan of N={n}, 2 worker processes: time", "s"),
    ("replan_rows", "2. Full re-plan of N={n}: outbox rows created", ""),
    ("dispatch_1_sender", "3. Dispatch, 1 sender: messages per second", "msg/s"),
    ("dispatch_4_senders", "3. Dispatch, 4 sender processes: messages per second", "msg/s"),
    (
        "dispatch_built",
        "3. Dispatch, 1 sender, emails built as they go (not prepared): messages per second",
        "msg/s",
    ),
    ("rush_p50", "4. Rush of {rush} at one instant: lateness p50", "s"),
    ("rush_p99", "4. Rush of {rush} at one instant: lateness p99", "s"),
    ("rush_max", "4. Rush of {rush} at one instant: lateness max", "s"),
    ("rush_large_p50", "4. Rush of {rush_large} at one instant: lateness p50", "s"),
    ("rush_large_p99", "4. Rush of {rush_large} at one instant: lateness p99", "s"),
    ("rush_large_max", "4. Rush of {rush_large} at one instant: lateness max", "s"),
    ("claim_query_ms", "5. Due-row claim query with {history} rows of sent history", "ms"),
    ("beat_db_load", "6. django-celery-beat, {beat} entries: load", "s"),
    ("beat_db_tick", "6. django-celery-beat, {beat} entries: one tick", "s"),
    ("beat_db_load_large", "6. django-celery-beat, {beat_large} entries: load", "s"),
    ("beat_db_tick_large", "6. django-celery-beat, {beat_large} entries: one tick", "s"),
    ("page_login_p95", "7. Page p95: login (the trivial page)", "ms"),
    ("page_today_p95", "7. Page p95: Today, one enrollee", "ms"),
    ("page_dashboard_25_p95", "7. Page p95: coach dashboard, 25 clients", "ms"),
    ("page_dashboard_200_p95", "7. Page p95: coach dashboard, 200 clients", "ms"),
    ("page_dashboard_1000_p95", "7. Page p95: coach dashboard, 1,000 clients", "ms"),
    ("worker_rss_growth", "8. Worker peak RSS growth during the {memory_during}", "MB"),
)

NAMES = tuple(name for name, _, _ in DEFINITIONS)


def all_figures(sizes: dict[str, str]) -> dict[str, Figure]:
    """Every figure, not yet measured, with its label filled in."""
    return {
        name: Figure(name, label.format(**sizes), unit, not_measured="not reached")
        for name, label, unit in DEFINITIONS
    }
