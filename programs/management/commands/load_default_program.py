"""`manage.py load_default_program [--update]`: load the shipped default program, or bring an
install up to the shipped content version."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from programs.default_program import CONTENT_VERSION, DEFAULT_PROGRAM, EXERCISES
from programs.default_program_history import SHIPPED
from programs.loading import earlier_values, load_program


class Command(BaseCommand):
    help = (
        "Create the default program, its stages, exercises and prescriptions where missing, and "
        "update each shipped field that still holds an earlier version's value. Fields edited "
        "in the admin are kept unless --update is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--update",
            action="store_true",
            help="Overwrite existing shipped rows with the shipped values (undoes admin edits).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = load_program(
            DEFAULT_PROGRAM,
            EXERCISES,
            update=options["update"],
            shipped_before=earlier_values(SHIPPED),
        )
        self.stdout.write(
            f"Default program (content version {CONTENT_VERSION}): {report.summary()}"
        )
        for line in report.details():
            self.stdout.write(f"  {line}")
