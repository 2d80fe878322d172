from django.core.management.base import BaseCommand
from django.utils import timezone

from programs import outbox


class Command(BaseCommand):
    help = "Plan every current enrolment's notifications for the next 48 hours (beat does this)."

    def handle(self, *args, **options):
        report = outbox.plan_all(timezone.now())
        self.stdout.write(
            f"Planned {report.enrolments} enrolments in {report.batches} batches: "
            f"{report.created} created, {report.moved} moved, {report.cancelled} cancelled."
        )
