"""`manage.py bench [--sqlite] [--small] [--enrollees N] [--output DIR]`: the benchmark (see
BENCHMARKS.md and the `bench` package)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = (
        "Build a population in a throwaway database (embedded PostgreSQL, or SQLite with "
        "--sqlite), measure each figure beside its anchor and goal, and write "
        "bench/results.json and BENCHMARKS.md."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--sqlite", action="store_true", help="Use a throwaway SQLite file, not PostgreSQL."
        )
        parser.add_argument(
            "--small",
            action="store_true",
            help="A smoke run: about 2,000 enrollees and smaller sizes, in under 2 minutes.",
        )
        parser.add_argument(
            "--enrollees",
            type=int,
            help="N, the population (default: BENCH_ENROLLEES, else 100,000; 2,000 with --small).",
        )
        parser.add_argument(
            "--output",
            type=Path,
            help="Write results.json and BENCHMARKS.md here (default: bench/ and the repository).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from bench import command

        if options["enrollees"] is not None and options["enrollees"] < 1_300:
            raise CommandError("--enrollees must be at least 1,300 (the coach pages use 1,225).")
        status = command.run(command.options_from(options, Path(settings.VAR_DIR)))
        if status:
            raise CommandError(f"the benchmark ended with status {status}", returncode=status)
