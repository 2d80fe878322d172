"""`manage.py rebuild_client_status [--batch N]`: recompute every enrolment's dashboard row."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from programs import client_status
from programs.models import ClientStatus


class Command(BaseCommand):
    help = (
        "Recompute every enrolment's row on the coach's dashboard from her data, in batches "
        "(one transaction each), and report how many. Safe to run at any time."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", type=int, default=500, help="Enrolments per batch.")

    def handle(self, *args: Any, batch: int, **options: Any) -> None:
        now = timezone.now()
        rows = batches = 0
        for saved in client_status.rebuild(now, max(batch, 1)):
            rows += saved
            batches += 1
            if options["verbosity"] > 1:
                self.stdout.write(f"batch {batches}: {saved} rows")
        broken = ClientStatus.objects.filter(broken=True).count()
        self.stdout.write(
            f"Rebuilt {rows} client statuses in {batches} batches; "
            f"{broken} enrolments hold data the schedule cannot read (see the admin)."
        )
