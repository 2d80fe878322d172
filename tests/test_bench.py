"""
The benchmark runs end to end: `manage.py bench --small --sqlite` reports every figure, each
with a number or the reason it has none. Timings are the benchmark's business, not the tests':
nothing here judges a figure.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.figure import NAMES

BASE_DIR = Path(__file__).resolve().parent.parent

# It builds its own database: once per `make test` is enough (the Makefile runs it in the
# SQLite pass).
pytestmark = [pytest.mark.slow, pytest.mark.bench]


def test_small_run_reports_every_figure(tmp_path):
    out = tmp_path / "out"
    env = {
        **os.environ,
        "VAR_DIR": str(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": "recovery.settings",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DATABASE_URL", None)
    env.pop("BENCH_STEPS", None)
    env.pop("BENCH_ENROLLEES", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "bench", "--small", "--sqlite", "--output", str(out)],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout[-4000:] + result.stderr[-4000:]
    assert (out / "results.json").is_file(), output
    assert (out / "BENCHMARKS.md").is_file(), output

    results = json.loads((out / "results.json").read_text())
    figures = {f["name"]: f for f in results["figures"]}
    assert set(figures) == set(NAMES), output
    for name, fig in figures.items():
        assert set(fig) >= {"name", "value", "unit", "anchor", "goal", "ok", "limited_by"}, name
        if fig["value"] is None:
            assert isinstance(fig.get("not_measured"), str) and fig["not_measured"], (name, fig)
        else:
            assert isinstance(fig["value"], int | float), (name, fig)
            assert fig["limited_by"], name

    # No measurement failed (one the time budget left out would say so instead); the large
    # rush is the full run's alone.
    failed = {
        name: fig["not_measured"]
        for name, fig in figures.items()
        if "failed" in fig.get("not_measured", "")
    }
    assert not failed, (failed, output)
    for name in ("rush_large_p50", "rush_large_p99", "rush_large_max"):
        assert "full run" in figures[name]["not_measured"], figures[name]
    markdown = (out / "BENCHMARKS.md").read_text()
    for fig in figures.values():
        assert fig["label"] in markdown
    assert result.returncode == 0, output

    # Nothing it started outlives it.
    leftovers = subprocess.run(
        ["pgrep", "-f", str(tmp_path)], capture_output=True, text=True
    ).stdout.split()
    assert not leftovers, leftovers
