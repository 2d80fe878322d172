"""`manage.py load_default_program [--update]`: load the shipped default program."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from programs.default_program import DEFAULT_PROGRAM, EXERCISES
from programs.loading import load_program


class Command(BaseCommand):
    help = (
        "Create the default program, its stages, exercises and prescriptions where missing. "
        "Existing rows are left alone unless --update is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--update",
            action="store_true",
            help="Overwrite existing shipped rows with the shipped values (undoes admin edits).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = load_program(DEFAULT_PROGRAM, EXERCISES, update=options["update"])
        self.stdout.write(f"Default program: {report.summary()}")
