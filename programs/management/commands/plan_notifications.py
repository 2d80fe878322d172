from django.core.management.base import BaseCommand
from django.utils import timezone

from programs import digests, outbox


class Command(BaseCommand):
    help = (
        "Plan every current enrolment's notifications and every coach's digests for the next "
        "48 hours (beat does this every few minutes)."
    )

    def handle(self, *args, **options):
        now = timezone.now()
        report = outbox.plan_all(now)
        self.stdout.write(
            f"Planned {report.enrolments} enrolments in {report.batches} batches: "
            f"{report.created} created, {report.moved} moved, {report.cancelled} cancelled."
        )
        coaches = digests.plan_digests(now)
        self.stdout.write(
            f"Planned digests for {coaches.coaches} coaches in {coaches.batches} batches: "
            f"{coaches.created} created, "
            f"{coaches.moved} moved, {coaches.cancelled} cancelled."
        )
