from django.core.management.base import BaseCommand
from django.utils import timezone

from programs import planning


class Command(BaseCommand):
    help = (
        "Plan every current enrolment's notifications and every coach's digests now, in this "
        "process. Workers do this on their own: the sweep plans whoever is due or changed."
    )

    def handle(self, *args, **options):
        report = planning.plan_all(timezone.now())
        self.stdout.write(
            f"Planned {report.enrolments} enrolments in {report.batches} batches: "
            f"{report.created} created, {report.moved} moved, {report.cancelled} cancelled, "
            f"{report.completed} completed, {len(report.broken)} could not be planned."
        )
