from django.core.management.base import BaseCommand

from programs import delivery


class Command(BaseCommand):
    help = "Send every notification that is due now, in this process (workers do this)."

    def handle(self, *args, **options):
        report = delivery.send_due()
        self.stdout.write(
            f"Sent {report.sent}, retrying {report.retried}, failed {report.failed}, "
            f"cancelled {report.cancelled}, in {report.batches} batches."
        )
